package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/api"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store/storetest"
	"herald/webhooks"
)

func newWebhookAPI(t *testing.T) *client {
	t.Helper()
	db := storetest.New(t)
	svc := releases.New(db, releases.Options{})
	if _, err := svc.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	hooks := webhooks.New(db, outbound.New(outbound.Options{AllowPrivate: true}), webhooks.Options{BaseURL: "https://press.example.org"})
	mux := http.NewServeMux()
	api.New(api.Options{AdminToken: token, BaseURL: "https://press.example.org"}, api.Deps{Releases: svc, Webhooks: hooks}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv}
}

func TestWebhooksAPI(t *testing.T) {
	c := newWebhookAPI(t)
	var created map[string]any
	if code := c.do("POST", "/api/v1/webhooks", `{"url":"https://crm.example.org/hook","events":["release.published","subscriber.confirmed","release.published"]}`, &created); code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("secret %q", secret)
	}
	if evs := created["events"].([]any); len(evs) != 2 {
		t.Fatalf("events %v", evs)
	}
	id := created["id"].(string)
	var got map[string]any
	if code := c.do("GET", "/api/v1/webhooks/"+id, "", &got); code != 200 || got["secret"] != nil || got["url"] != "https://crm.example.org/hook" {
		t.Fatalf("get: %d %v (the secret is shown once only)", code, got)
	}
	var list struct{ Items []map[string]any }
	if code := c.do("GET", "/api/v1/webhooks", "", &list); code != 200 || len(list.Items) != 1 || list.Items[0]["secret"] != nil {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := c.do("PATCH", "/api/v1/webhooks/"+id, `{"events":["digest.finished"],"active":false}`, &got); code != 200 ||
		got["active"] != false || got["events"].([]any)[0] != "digest.finished" {
		t.Fatalf("patch: %d %v", code, got)
	}
	var page map[string]any
	if code := c.do("GET", "/api/v1/webhooks/"+id+"/deliveries", "", &page); code != 200 || len(page["items"].([]any)) != 0 {
		t.Fatalf("deliveries: %d %v", code, page)
	}
	for _, tc := range []struct {
		body, field string
		code        int
	}{
		{`{"url":"ftp://x.example.org/","events":["release.published"]}`, "url", 422},
		{`{"url":"javascript:alert(1)","events":["release.published"]}`, "url", 422},
		{`{"url":"https://press.example.org/hook","events":["release.published"]}`, "url", 422},
		{"{\"url\":\"https://x.example.org/\\r\\nX: y\",\"events\":[\"release.published\"]}", "url", 422},
		{`{"url":"https://x.example.org/","events":["release.exploded"]}`, "events", 422},
		{`{"url":"https://x.example.org/","events":[]}`, "events", 422},
		{`{"url":"https://x.example.org/"}`, "events", 422},
		{`{"url":"https://x.example.org/","events":"release.published"}`, "events", 422},
		{`{"url":`, "", 400},
	} {
		var e struct{ Error, Field string }
		if code := c.do("POST", "/api/v1/webhooks", tc.body, &e); code != tc.code || e.Field != tc.field {
			t.Errorf("%s: %d %+v, want %d field %q", tc.body, code, e, tc.code, tc.field)
		}
	}
	if code := c.do("DELETE", "/api/v1/webhooks/"+id, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	for _, p := range []string{"/api/v1/webhooks/" + id, "/api/v1/webhooks/" + id + "/deliveries", "/api/v1/webhooks/abc"} {
		if code := c.do("GET", p, "", nil); code != 404 {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
	if code := c.doAuth("GET", "/api/v1/webhooks", "", "", nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
}
