package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"herald/api"
	"herald/internal/outbound"
	"herald/releases"
	"herald/sources"
	"herald/store/storetest"
)

func TestSourcesAPI(t *testing.T) {
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	src := sources.New(db, outbound.New(outbound.Options{AllowPrivate: true}), rel, sources.Options{BaseURL: "https://press.example.org"})
	mux := http.NewServeMux()
	api.New(api.Options{AdminToken: token}, api.Deps{Releases: rel, Sources: src}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &client{t: t, srv: srv}
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":"https://jsonfeed.org/version/1.1","title":"CMS","items":[{"id":"a","title":"JSON item","content_html":"<p>Hi</p>","url":"https://www.example.org/a"}]}`))
	}))
	defer feed.Close()

	var s map[string]any
	if code := c.do("POST", "/api/v1/sources", `{"url":"`+feed.URL+`","mode":"draft","language":"es","topics":["migration"],"category_map":{"Migración":"migration"},"interval":"5m","translation_key_from":"link"}`, &s); code != 201 {
		t.Fatalf("create: %d %v", code, s)
	}
	id := s["id"].(string)
	if s["interval"] != "5m0s" || s["mode"] != "draft" || s["language"] != "es" {
		t.Fatalf("created %v", s)
	}
	var run map[string]any
	if code := c.do("POST", "/api/v1/sources/"+id+"/run", "", &run); code != 200 || run["status"] != "ok" || run["new"] != float64(1) {
		t.Fatalf("run: %d %v", code, run)
	}
	var runs struct{ Items []map[string]any }
	if code := c.do("GET", "/api/v1/sources/"+id+"/runs", "", &runs); code != 200 || len(runs.Items) != 1 {
		t.Fatalf("runs: %d %v", code, runs)
	}
	if code := c.do("PATCH", "/api/v1/sources/"+id, `{"mode":"publish","interval":"1h"}`, &s); code != 200 || s["mode"] != "publish" || s["interval"] != "1h0m0s" {
		t.Fatalf("patch: %d %v", code, s)
	}
	var list struct{ Items []map[string]any }
	if code := c.do("GET", "/api/v1/sources", "", &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %v", code, list)
	}
	var e struct{ Error, Field string }
	if code := c.do("POST", "/api/v1/sources", `{"url":"file:///etc/passwd"}`, &e); code != 422 || e.Field != "url" {
		t.Fatalf("file URL: %d %+v", code, e)
	}
	if code := c.do("DELETE", "/api/v1/sources/"+id, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := c.do("POST", "/api/v1/sources/"+id+"/run", "", nil); code != 404 {
		t.Fatalf("run deleted: %d", code)
	}
}
