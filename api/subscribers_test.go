package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/dispatch"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
)

const testToken = "test-admin-token"

type apiSite struct {
	t    *testing.T
	srv  *httptest.Server
	db   *store.DB
	subs *subscribers.Service
}

func newAPISite(t *testing.T) *apiSite {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
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
	mux := http.NewServeMux()
	New(Options{AdminToken: testToken}, Deps{Releases: rel, Subscribers: subs, Dispatch: disp, Messages: db}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &apiSite{t: t, srv: srv, db: db, subs: subs}
}

func (a *apiSite) call(method, path, contentType string, body io.Reader) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (a *apiSite) json(method, path, body string) (int, map[string]any) {
	a.t.Helper()
	status, raw := a.call(method, path, "application/json", strings.NewReader(body))
	var out map[string]any
	if raw != "" && status != http.StatusNoContent {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			a.t.Fatalf("%s %s: %d %q is not JSON", method, path, status, raw)
		}
	}
	return status, out
}

func TestSubscribersAPI_AddGetPatchDelete(t *testing.T) {
	a := newAPISite(t)
	status, sub := a.json("POST", "/api/v1/subscribers", `{"email":"Ana@Example.org","topics":["migration"],"regions":"americas","language":"es","cadence":"weekly","timezone":"America/Bogota","confirmed":true}`)
	if status != http.StatusCreated || sub["email"] != "Ana@example.org" || sub["status"] != "active" || sub["cadence"] != "weekly" {
		t.Fatalf("add: %d %v", status, sub)
	}
	id, ok := sub["id"].(string)
	if !ok || id == "" {
		t.Fatalf("id %v is not a string", sub["id"])
	}
	consent, _ := sub["consent"].(map[string]any)
	if consent == nil || consent["page"] != "api" || consent["ip"] != "127.0.0.1" || sub["confirmed_at"] == nil {
		t.Fatalf("consent record %v", sub)
	}
	if status, e := a.json("POST", "/api/v1/subscribers", `{"email":" Ana@EXAMPLE.org "}`); status != http.StatusConflict || e["field"] != "email" {
		t.Fatalf("duplicate: %d %v", status, e)
	}
	for body, field := range map[string]string{
		`{"email":"nope"}`: "email",
		`{"email":"b@example.org","topics":["nope"]}`:  "topics",
		`{"email":"b@example.org","timezone":"Nope"}`:  "timezone",
		`{"email":"b@example.org","cadence":"hourly"}`: "cadence",
		`{"email":"b@example.org","topics":42}`:        "topics",
	} {
		if status, e := a.json("POST", "/api/v1/subscribers", body); status != http.StatusUnprocessableEntity || e["field"] != field {
			t.Errorf("%s: %d %v, want 422 on %s", body, status, e, field)
		}
	}
	if status, _ := a.json("POST", "/api/v1/subscribers", `{"email":`); status != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d", status)
	}

	status, got := a.json("GET", "/api/v1/subscribers/"+id, "")
	if status != http.StatusOK || got["id"] != id || got["timezone"] != "America/Bogota" {
		t.Fatalf("get: %d %v", status, got)
	}
	status, got = a.json("PATCH", "/api/v1/subscribers/"+id, `{"cadence":"immediate","topics":[],"status":"unsubscribed"}`)
	if status != http.StatusOK || got["cadence"] != "immediate" || got["status"] != "unsubscribed" || len(got["topics"].([]any)) != 0 {
		t.Fatalf("patch: %d %v", status, got)
	}
	if status, e := a.json("PATCH", "/api/v1/subscribers/"+id, `{"status":"active"}`); status != http.StatusUnprocessableEntity || e["field"] != "status" {
		t.Fatalf("re-activating an unsubscribed subscriber: %d %v", status, e)
	}
	if status, _ := a.call("DELETE", "/api/v1/subscribers/"+id, "", nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := a.json("GET", "/api/v1/subscribers/"+id, ""); status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", status)
	}
	if status, _ := a.call("DELETE", "/api/v1/subscribers/"+id, "", nil); status != http.StatusNotFound {
		t.Fatalf("delete twice: %d", status)
	}
	// Only the hash stays: the address cannot be added or imported again.
	if status, e := a.json("POST", "/api/v1/subscribers", `{"email":"Ana@example.org"}`); status != http.StatusConflict || e["field"] != "email" {
		t.Fatalf("add after erasure: %d %v", status, e)
	}
	status, raw := a.call("POST", "/api/v1/subscribers/import", "text/csv", strings.NewReader("email\nAna@Example.ORG\n"))
	if status != http.StatusOK || !strings.Contains(raw, `"skipped":1`) {
		t.Fatalf("import after erasure: %d %s", status, raw)
	}
	for _, p := range []string{"/api/v1/subscribers/0", "/api/v1/subscribers/abc", "/api/v1/subscribers/999"} {
		if status, _ := a.json("GET", p, ""); status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, status)
		}
	}
}

func TestSubscribersAPI_NeedsToken(t *testing.T) {
	a := newAPISite(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/subscribers"}, {"POST", "/api/v1/subscribers"}, {"GET", "/api/v1/subscribers/1"},
		{"DELETE", "/api/v1/subscribers/1"}, {"POST", "/api/v1/subscribers/import"}, {"GET", "/api/v1/subscribers/export"},
	} {
		req, _ := http.NewRequest(c.method, a.srv.URL+c.path, strings.NewReader("email\nx@example.org\n"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", c.method, c.path, resp.StatusCode)
		}
	}
	if n, _ := a.subs.Counts(context.Background()); n["active"] != 0 {
		t.Fatal("an unauthorized import added subscribers")
	}
}

func TestSubscribersAPI_List(t *testing.T) {
	a := newAPISite(t)
	for i := 0; i < 5; i++ {
		body := fmt.Sprintf(`{"email":"user%d@example.org","topics":["%s"],"confirmed":%v}`, i, []string{"migration", "gender"}[i%2], i%2 == 0)
		if status, e := a.json("POST", "/api/v1/subscribers", body); status != http.StatusCreated {
			t.Fatalf("add: %d %v", status, e)
		}
	}
	status, page := a.json("GET", "/api/v1/subscribers?status=active&topic=migration&limit=2", "")
	items, _ := page["items"].([]any)
	if status != http.StatusOK || len(items) != 2 || page["next_cursor"] == "" {
		t.Fatalf("first page: %d %v", status, page)
	}
	status, next := a.json("GET", "/api/v1/subscribers?status=active&topic=migration&limit=2&cursor="+page["next_cursor"].(string), "")
	items2, _ := next["items"].([]any)
	if status != http.StatusOK || len(items2) != 1 || next["next_cursor"] != "" {
		t.Fatalf("second page: %d %v", status, next)
	}
	for q, code := range map[string]int{"status=nope": 422, "topic=nope": 422, "region=nope": 422, "limit=0": 400, "limit=201": 400, "cursor=!!": 400} {
		if status, _ := a.json("GET", "/api/v1/subscribers?"+q, ""); status != code {
			t.Errorf("?%s: %d, want %d", q, status, code)
		}
	}
}

func TestSubscribersAPI_ImportExport(t *testing.T) {
	a := newAPISite(t)
	file := "email,topics,regions,language,cadence,timezone,status\n" +
		"ana@example.org,migration;refugees,europe,fr,weekly,Europe/Paris,active\n" +
		"=HYPERLINK@example.org,,,,,,pending\n" +
		"broken,,,,,,\n" +
		"bob@example.org,nope,,,,,\n"
	status, raw := a.call("POST", "/api/v1/subscribers/import", "text/csv; charset=utf-8", strings.NewReader(file))
	var res struct {
		Added, Updated, Skipped int
		Errors                  []struct {
			Line  int
			Error string
		}
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil || status != http.StatusOK {
		t.Fatalf("import: %d %s", status, raw)
	}
	if res.Added != 2 || len(res.Errors) != 2 || res.Errors[0].Line != 4 || res.Errors[1].Line != 5 || !strings.Contains(raw, `"updated":0`) {
		t.Fatalf("import result %s", raw)
	}
	// The same file as a multipart upload changes nothing.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", "subscribers.csv")
	_, _ = io.WriteString(fw, file)
	mw.Close()
	status, raw = a.call("POST", "/api/v1/subscribers/import", mw.FormDataContentType(), &body)
	if status != http.StatusOK || !strings.Contains(raw, `"added":0,"updated":0,"skipped":2`) {
		t.Fatalf("multipart re-import: %d %s", status, raw)
	}
	for ct, b := range map[string]string{"text/csv": "name,topics\nx,y\n", "application/json": `{"email":"x@example.org"}`} {
		if status, raw := a.call("POST", "/api/v1/subscribers/import", ct, strings.NewReader(b)); status != http.StatusBadRequest || !strings.Contains(raw, `"error"`) {
			t.Errorf("import %s %q: %d %s", ct, b, status, raw)
		}
	}

	req, _ := http.NewRequest("GET", a.srv.URL+"/api/v1/subscribers/export", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("export CSV: %v %v", recs, err)
	}
	if strings.Join(recs[0], ",") != "email,topics,regions,language,cadence,timezone,status" {
		t.Fatalf("header %v", recs[0])
	}
	if strings.Join(recs[1], ",") != "ana@example.org,migration;refugees,europe,fr,weekly,Europe/Paris,active" {
		t.Fatalf("row %v", recs[1])
	}
	if recs[2][0] != "'=HYPERLINK@example.org" || recs[2][6] != "pending" {
		t.Fatalf("formula cell not neutralized: %v", recs[2])
	}
}

// TestSubscribersAPI_ImportCutShort: a multipart upload that stops before
// its end answers 400 naming the line where it stopped and how many rows
// were imported before it; those rows stay imported.
func TestSubscribersAPI_ImportCutShort(t *testing.T) {
	a := newAPISite(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "subscribers.csv")
	io.WriteString(fw, "email,topics\n")
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(fw, "user%d@example.org,migration\n", i)
	}
	io.WriteString(fw, "half@exam")
	// No closing boundary: the upload was cut here.
	status, raw := a.call("POST", "/api/v1/subscribers/import", mw.FormDataContentType(), &body)
	var e struct{ Error, Field string }
	if err := json.Unmarshal([]byte(raw), &e); err != nil || status != http.StatusBadRequest || e.Field != "file" ||
		!strings.Contains(e.Error, "line 2502") || !strings.Contains(e.Error, "the 2500 rows before it were imported") {
		t.Fatalf("cut-short upload: %d %s", status, raw)
	}
	counts, _ := a.subs.Counts(context.Background())
	if counts["active"] != 2500 {
		t.Fatalf("%d subscribers after a cut-short import, want the 2500 rows before the cut", counts["active"])
	}
}

// TestSubscribersAPI_ImportCaps: a field over 8 KiB makes its row an error;
// a row over 64 KiB (a quoted field that never ends) stops the import at
// its line, without reading it whole.
func TestSubscribersAPI_ImportCaps(t *testing.T) {
	a := newAPISite(t)
	file := "email,topics\nok1@example.org,\nbig@example.org,\"" + strings.Repeat("x", 9<<10) + "\"\nok2@example.org,\n"
	status, raw := a.call("POST", "/api/v1/subscribers/import", "text/csv", strings.NewReader(file))
	if status != 200 || !strings.Contains(raw, `"added":2`) || !strings.Contains(raw, `{"line":3,"error":"column 2 is longer than 8 KiB"}`) {
		t.Fatalf("a long field: %d %s", status, raw)
	}
	huge := io.MultiReader(strings.NewReader("email,topics\nok3@example.org,\nevil@example.org,\"a"), endless{})
	status, raw = a.call("POST", "/api/v1/subscribers/import", "text/csv", huge)
	if status != 400 || !strings.Contains(raw, "line 3") || !strings.Contains(raw, "longer than 64 KiB") || !strings.Contains(raw, "the 1 rows before it") {
		t.Fatalf("an endless row: %d %s", status, raw)
	}
}

// endless is a field that never ends (the server must stop reading it).
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}
