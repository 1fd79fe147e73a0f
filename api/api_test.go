package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/api"
	"herald/releases"
	"herald/store/storetest"
)

const token = "test-admin-token-0123456789"

type client struct {
	t   *testing.T
	srv *httptest.Server
}

func newAPI(t *testing.T) *client {
	t.Helper()
	svc := releases.New(storetest.New(t), releases.Options{})
	if _, err := svc.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(api.Options{AdminToken: token, BaseURL: "https://press.example.org"}, api.Deps{Releases: svc}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &client{t: t, srv: srv}
}

// do sends a request with the admin token and decodes a JSON answer.
func (c *client) do(method, path, body string, out any) int {
	c.t.Helper()
	return c.doAuth(method, path, body, "Bearer "+token, out)
}

func (c *client) doAuth(method, path, body, auth string, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: bad JSON %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

type errBody struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

type release struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Slug        string   `json:"slug"`
	URL         string   `json:"url"`
	Summary     string   `json:"summary"`
	BodyHTML    string   `json:"body_html"`
	Topics      []string `json:"topics"`
	Regions     []string `json:"regions"`
	Language    string   `json:"language"`
	Status      string   `json:"status"`
	PublishedAt string   `json:"published_at"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

const minimal = `{"title":"Road Map Adopted","body":"Adopted in Buenos Aires.","topics":["migration"],"regions":["argentina"]}`

func TestAuth(t *testing.T) {
	c := newAPI(t)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x", token} {
		var e errBody
		if code := c.doAuth("GET", "/api/v1/releases", "", auth, &e); code != http.StatusUnauthorized || e.Error == "" {
			t.Errorf("auth %q: status %d body %+v, want 401 with an error", auth, code, e)
		}
	}
	if code := c.doAuth("GET", "/api/v1/releases", "", "bearer "+token, nil); code != http.StatusOK {
		t.Errorf("lower-case scheme: %d", code)
	}
}

func TestReleases_CRUD(t *testing.T) {
	c := newAPI(t)
	var r release
	if code := c.do("POST", "/api/v1/releases", minimal, &r); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if r.ID == "" || r.Slug != "road-map-adopted" || r.URL != "https://press.example.org/releases/road-map-adopted" ||
		r.Summary != "Adopted in Buenos Aires." || r.Language != "en" || r.Status != "published" ||
		r.CreatedAt == "" || r.UpdatedAt == "" || r.PublishedAt == "" {
		t.Fatalf("created release = %+v", r)
	}
	var got release
	if code := c.do("GET", "/api/v1/releases/"+r.ID, "", &got); code != http.StatusOK || got.Title != r.Title {
		t.Fatalf("get: %d %+v", code, got)
	}
	var patched release
	if code := c.do("PATCH", "/api/v1/releases/"+r.ID, `{"title":"New\nTitle","regions":[]}`, &patched); code != http.StatusOK {
		t.Fatalf("patch: %d", code)
	}
	if patched.ID != r.ID || patched.Title != "New Title" || patched.Slug != r.Slug || len(patched.Regions) != 0 || patched.Summary != r.Summary {
		t.Fatalf("patched = %+v", patched)
	}
	if code := c.do("DELETE", "/api/v1/releases/"+r.ID, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	var e errBody
	if code := c.do("GET", "/api/v1/releases/"+r.ID, "", &e); code != http.StatusNotFound || e.Error == "" {
		t.Fatalf("get deleted: %d %+v", code, e)
	}
	for _, p := range []string{"/api/v1/releases/abc", "/api/v1/releases/999"} {
		if code := c.do("GET", p, "", nil); code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if code := c.do("DELETE", "/api/v1/releases/999", "", nil); code != http.StatusNotFound {
		t.Errorf("delete unknown: %d", code)
	}
}

func TestReleases_Errors(t *testing.T) {
	c := newAPI(t)
	tests := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"malformed json", `{"title":`, 400, ""},
		{"not an object", `[1,2]`, 400, ""},
		{"wrong type", `{"title":5,"body":"x","topics":["migration"]}`, 422, "title"},
		{"missing title", `{"body":"x","topics":["migration"]}`, 422, "title"},
		{"unknown topic", `{"title":"t","body":"x","topics":["nope"]}`, 422, "topics"},
		{"unknown region", `{"title":"t","body":"x","topics":["migration"],"regions":["atlantis"]}`, 422, "regions"},
		{"bad date", `{"title":"t","body":"x","topics":["migration"],"published_at":"tomorrow"}`, 422, "published_at"},
		{"oversized", `{"title":"t","topics":["migration"],"body":"` + strings.Repeat("a", api.MaxBody) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errBody
			code := c.do("POST", "/api/v1/releases", tt.body, &e)
			if code != tt.status || e.Error == "" || e.Field != tt.field {
				t.Fatalf("status %d body %+v, want %d field %q", code, e, tt.status, tt.field)
			}
		})
	}
	var list struct{ Items []release }
	c.do("GET", "/api/v1/releases", "", &list)
	if len(list.Items) != 0 {
		t.Fatalf("a refused request stored something: %+v", list.Items)
	}
	var r release
	c.do("POST", "/api/v1/releases", `{"title":"a","body":"b","topics":["migration"],"slug":"taken"}`, &r)
	var e errBody
	if code := c.do("POST", "/api/v1/releases", `{"title":"a","body":"b","topics":["migration"],"slug":"taken"}`, &e); code != 409 || e.Field != "slug" {
		t.Fatalf("slug conflict: %d %+v", code, e)
	}
}

func TestReleases_ListPaginationAndFilters(t *testing.T) {
	c := newAPI(t)
	for i, spec := range []string{
		`{"title":"a","body":"b","topics":["migration"],"regions":["argentina"],"published_at":"2026-01-01T00:00:00Z"}`,
		`{"title":"b","body":"b","topics":["human-trafficking"],"language":"fr","published_at":"2026-01-02T00:00:00Z"}`,
		`{"title":"c","body":"b","topics":["migration"],"status":"draft","published_at":"2026-01-03T00:00:00Z"}`,
		`{"title":"d","body":"b","topics":["migration"],"published_at":"2099-01-01T00:00:00Z"}`,
	} {
		if code := c.do("POST", "/api/v1/releases", spec, nil); code != 201 {
			t.Fatalf("seed %d: %d", i, code)
		}
	}
	titles := func(q string) string {
		var out struct {
			Items      []release `json:"items"`
			NextCursor string    `json:"next_cursor"`
		}
		if code := c.do("GET", "/api/v1/releases"+q, "", &out); code != 200 {
			t.Fatalf("list %s: %d", q, code)
		}
		var s []string
		for _, r := range out.Items {
			s = append(s, r.Title)
		}
		return strings.Join(s, ",") + "|" + out.NextCursor
	}
	if got := titles("?status=draft"); got != "c|" {
		t.Errorf("drafts: %s", got)
	}
	if got := titles("?status=embargoed"); got != "d|" {
		t.Errorf("embargoed: %s", got)
	}
	if got := titles("?region=americas"); got != "a|" {
		t.Errorf("americas: %s", got)
	}
	if got := titles("?lang=fr"); got != "b|" {
		t.Errorf("fr: %s", got)
	}
	first := titles("?limit=3")
	title, cursor, _ := strings.Cut(first, "|")
	if title != "d,c,b" || cursor == "" {
		t.Fatalf("page 1: %s", first)
	}
	if got := titles("?limit=3&cursor=" + cursor); got != "a|" {
		t.Errorf("page 2: %s", got)
	}
	for q, field := range map[string]string{"?limit=0": "limit", "?limit=201": "limit", "?cursor=bm9wZQ": "cursor"} {
		var e errBody
		if code := c.do("GET", "/api/v1/releases"+q, "", &e); code != 400 || e.Field != field {
			t.Errorf("%s: %d %+v", q, code, e)
		}
	}
	var e errBody
	if code := c.do("GET", "/api/v1/releases?topic=nope", "", &e); code != 422 || e.Field != "topic" {
		t.Errorf("unknown topic filter: %d %+v", code, e)
	}
}

func TestTaxonomy(t *testing.T) {
	c := newAPI(t)
	var tax struct {
		Topics []struct {
			Slug, Name string
			Names      map[string]string
		}
		Regions []struct {
			Slug, Name, Parent string
		}
	}
	if code := c.do("GET", "/api/v1/taxonomy", "", &tax); code != 200 || len(tax.Topics) == 0 || len(tax.Regions) == 0 {
		t.Fatalf("taxonomy: %d %d topics %d regions", code, len(tax.Topics), len(tax.Regions))
	}
	parents := map[string]string{}
	for _, r := range tax.Regions {
		parents[r.Slug] = r.Parent
	}
	if parents["argentina"] != "americas" || parents["americas"] != "" {
		t.Fatalf("parents: argentina=%q americas=%q", parents["argentina"], parents["americas"])
	}
	var term map[string]any
	if code := c.do("POST", "/api/v1/topics", `{"slug":"statelessness","name":"Statelessness","names":{"fr":"Apatridie"}}`, &term); code != 201 || term["slug"] != "statelessness" {
		t.Fatalf("add topic: %d %v", code, term)
	}
	if code := c.do("POST", "/api/v1/regions", `{"slug":"mendoza","name":"Mendoza","parent":"argentina"}`, &term); code != 201 || term["parent"] != "argentina" {
		t.Fatalf("add region: %d %v", code, term)
	}
	var e errBody
	if code := c.do("POST", "/api/v1/topics", `{"slug":"statelessness","name":"Again"}`, &e); code != 409 {
		t.Fatalf("duplicate topic: %d %+v", code, e)
	}
	if code := c.do("POST", "/api/v1/regions", `{"slug":"x","name":"X","parent":"nowhere"}`, &e); code != 422 || e.Field != "parent" {
		t.Fatalf("unknown parent: %d %+v", code, e)
	}
	if code := c.do("POST", "/api/v1/topics", `{"slug":"Bad Slug","name":"X"}`, &e); code != 422 || e.Field != "slug" {
		t.Fatalf("bad slug: %d %+v", code, e)
	}
	// A release may now use the new terms.
	body := `{"title":"t","body":"b","topics":["statelessness"],"regions":["mendoza"]}`
	if code := c.do("POST", "/api/v1/releases", body, nil); code != 201 {
		t.Fatalf("release with new terms: %d", code)
	}
	var list struct{ Items []release }
	c.do("GET", "/api/v1/releases?region=americas", "", &list)
	if len(list.Items) != 1 {
		t.Fatalf("new region is not under americas: %d items", len(list.Items))
	}
}

func TestUnknownRoute(t *testing.T) {
	c := newAPI(t)
	var e errBody
	if code := c.do("GET", "/api/v1/nothing", "", &e); code != 404 || e.Error == "" {
		t.Fatalf("%d %+v", code, e)
	}
}
