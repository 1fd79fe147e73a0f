package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"herald/dispatch"
	"herald/internal/outbound"
	"herald/media"
	"herald/releases"
	"herald/sources"
	"herald/staff"
	"herald/store/storetest"
	"herald/subscribers"
	"herald/webhooks"
)

// fullAPI is the API with every service, as `herald serve` builds it.
func fullAPI(t *testing.T) (*API, *httptest.Server) {
	t.Helper()
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	subs, err := subscribers.New(db, rel, subscribers.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := dispatch.New(db, rel, dispatch.Options{DigestDaily: "0 7 * * *", DigestWeekly: "0 7 * * 1"})
	if err != nil {
		t.Fatal(err)
	}
	client := outbound.New(outbound.Options{AllowPrivate: true})
	a := New(Options{AdminToken: testToken, BaseURL: "https://press.example.org"}, Deps{Releases: rel, Subscribers: subs, Dispatch: disp,
		Messages: db, Webhooks: webhooks.New(db, client, webhooks.Options{}), Sources: sources.New(db, client, rel, sources.Options{}),
		Staff: staff.New(db, staff.Options{BaseURL: "https://press.example.org"}), Audit: db, Bounces: db, Media: media.New(db, rel, media.Options{})})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return a, srv
}

func loadDoc(t *testing.T, srv *httptest.Server) *openapi3.T {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json") // no token
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPI_MatchesRoutes holds the document to the routes both ways:
// every route served is documented, every documented operation is served.
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	a, srv := fullAPI(t)
	doc := loadDoc(t, srv)
	var documented, served []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	for _, r := range a.Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("served but not documented: %s", s)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("documented but not served: %s", d)
		}
	}
	// And the mux answers each documented operation (not the catch-all).
	for _, d := range documented {
		method, path, _ := strings.Cut(d, " ")
		path = strings.NewReplacer("{id}", "1", "{cadence}", "daily").Replace(path)
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "no such API route") || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: %d %s", d, resp.StatusCode, b)
		}
	}
}

// TestOpenAPI_ValidatesRealResponses sends real requests and checks each
// answer (status, content type, body) against the document.
func TestOpenAPI_ValidatesRealResponses(t *testing.T) {
	_, srv := fullAPI(t)
	doc := loadDoc(t, srv)
	doc.Servers = openapi3.Servers{{URL: srv.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	call := func(method, path, body string) {
		t.Helper()
		for k, v := range ids {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		vreq, _ := http.NewRequest(method, srv.URL+path, nil)
		route, params, err := router.FindRoute(vreq)
		if err != nil {
			t.Fatalf("%s %s: no route in the document: %v", method, path, err)
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(b)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s -> %d: the answer does not match the document: %v\n%s", method, path, resp.StatusCode, err, b)
		}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			if id, ok := m["id"].(string); ok && ids["id"] == "" {
				ids["id"] = id
			}
		}
	}
	call("POST", "/api/v1/releases", `{"title":"Checked","body":"b","topics":["migration"]}`)
	call("GET", "/api/v1/releases?limit=5", "")
	call("GET", "/api/v1/releases/{id}", "")
	call("PATCH", "/api/v1/releases/{id}", `{"title":"Checked again"}`)
	call("POST", "/api/v1/releases", `{"title":""}`) // 422
	call("GET", "/api/v1/releases/99999", "")        // 404
	call("POST", "/api/v1/releases/{id}/alert", `{"dry_run":true}`)
	call("POST", "/api/v1/digests/daily/run", `{"dry_run":true}`)
	call("GET", "/api/v1/taxonomy", "")
	call("POST", "/api/v1/subscribers", `{"email":"ana@example.org","confirmed":true}`)
	call("GET", "/api/v1/subscribers", "")
	call("GET", "/api/v1/stats", "")
	call("POST", "/api/v1/webhooks", `{"url":"https://crm.example.org/h","events":["release.published"]}`)
	call("GET", "/api/v1/webhooks", "")
	call("GET", "/api/v1/webhooks/1/deliveries", "")
	call("POST", "/api/v1/sources", `{"url":"https://www.example.org/feed.xml","topics":["migration"]}`)
	call("GET", "/api/v1/sources", "")
	call("GET", "/api/v1/sources/1/runs", "")
	// A multipart upload's answers: 201 with the medium, 415 refused.
	validate := func(method, path string, status int, body string) {
		t.Helper()
		vreq, _ := http.NewRequest(method, srv.URL+path, nil)
		route, params, err := router.FindRoute(vreq)
		if err != nil {
			t.Fatalf("%s %s: no route in the document: %v", method, path, err)
		}
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: status, Header: h, Body: io.NopCloser(strings.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s -> %d: the answer does not match the document: %v\n%s", method, path, status, err, body)
		}
	}
	st, out := upload(t, srv.URL, testToken, ids["id"], "photo.png", pngBytes(t, 1300, 20), map[string]string{"alt": "A chart"})
	if st != 201 {
		t.Fatalf("upload: %d %s", st, out)
	}
	validate("POST", "/api/v1/releases/"+ids["id"]+"/media", st, out)
	st, out = upload(t, srv.URL, testToken, ids["id"], "photo.png", []byte("MZ not an image"), nil)
	validate("POST", "/api/v1/releases/"+ids["id"]+"/media", st, out)
	call("GET", "/api/v1/releases/{id}", "")
	call("DELETE", "/api/v1/releases/{id}", "")
}
