package api

import (
	"context"
	"fmt"
	"herald/audit"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"herald/dispatch"
	"herald/media"
	"herald/releases"
	"herald/staff"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
)

// roleSite is the whole API with staff, tokens and the audit log, and a
// personal token for a member of each role.
type roleSite struct {
	t      *testing.T
	api    *API
	srv    *httptest.Server
	db     *store.DB
	staff  *staff.Service
	tokens map[staff.Role]string // a token of a member of that role
	emails map[staff.Role]string
}

func newRoleSite(t *testing.T) *roleSite {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	rec := audit.New(db, nil)
	rel := releases.New(db, releases.Options{Audit: rec})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	subs, err := subscribers.New(db, rel, subscribers.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "http://127.0.0.1:8080", Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := dispatch.New(db, rel, dispatch.Options{DigestDaily: "0 7 * * *", DigestWeekly: "0 7 * * 1", Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	st := staff.New(db, staff.Options{BaseURL: "http://127.0.0.1:8080", Audit: rec})
	a := New(Options{AdminToken: testToken, BearerBurst: 1000}, Deps{Releases: rel, Subscribers: subs, Dispatch: disp, Messages: db,
		Staff: st, Audit: db, Bounces: db, Limits: db, Media: media.New(db, rel, media.Options{Audit: rec})})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &roleSite{t: t, api: a, srv: srv, db: db, staff: st, tokens: map[staff.Role]string{}, emails: map[staff.Role]string{}}
	for _, r := range staff.Roles {
		email := r.String() + "@example.org"
		m, _, err := st.Create(ctx, staff.CreateInput{Email: email, Role: r.String()})
		if err != nil {
			t.Fatal(err)
		}
		p := staff.Principal{Kind: staff.KindStaff, StaffID: m.ID, Email: email, Role: r}
		_, secret, err := st.CreateToken(ctx, p, "matrix "+r.String(), "")
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[r], s.emails[r] = secret, email
	}
	return s
}

func (s *roleSite) do(token, method, path, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(path, "/import") {
		req.Header.Set("Content-Type", "text/csv")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// admin calls as the admin token and wants a 2xx answer.
func (s *roleSite) admin(method, path, body string) string {
	s.t.Helper()
	st, out := s.do(testToken, method, path, body)
	if st/100 != 2 {
		s.t.Fatalf("setup %s %s: %d %s", method, path, st, out)
	}
	return out
}

// idOf picks "id" out of a JSON answer.
func idOf(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `"id":`)
	if i < 0 {
		t.Fatalf("no id in %s", body)
	}
	rest := strings.TrimLeft(body[i+5:], ` "`)
	end := strings.IndexAny(rest, `",}`)
	return rest[:end]
}

// snapshot is everything a refused call must leave as it was.
func (s *roleSite) snapshot() string {
	s.t.Helper()
	var b strings.Builder
	for _, p := range []string{"/api/v1/releases?limit=200", "/api/v1/subscribers?limit=200", "/api/v1/staff", "/api/v1/tokens",
		"/api/v1/taxonomy", "/api/v1/stats"} {
		_, out := s.do(testToken, "GET", p, "")
		b.WriteString(out)
	}
	// Using a token is not a change: its last-used time moves.
	return lastUsedRE.ReplaceAllString(b.String(), "")
}

var lastUsedRE = regexp.MustCompile(`"last_used_at":("[^"]*"|null)`)

// roleCase is one call of the matrix: setup makes what it needs (with the
// admin token) and returns the path and body; need is the least role that
// may make the call.
type roleCase struct {
	pattern string
	name    string
	need    staff.Role
	setup   func(s *roleSite, caller staff.Role) (path, body string)
}

func fixed(path, body string) func(*roleSite, staff.Role) (string, string) {
	return func(*roleSite, staff.Role) (string, string) { return path, body }
}

func newRelease(s *roleSite, status string) string {
	return idOf(s.t, s.admin("POST", "/api/v1/releases", fmt.Sprintf(`{"title":"T %s","body":"b","topics":["migration"],"status":%q}`, status, status)))
}

func newSubscriber(s *roleSite) string {
	return idOf(s.t, s.admin("POST", "/api/v1/subscribers", fmt.Sprintf(`{"email":"s%d@example.org","confirmed":true}`, s.seq())))
}

var seqN int

func (s *roleSite) seq() int { seqN++; return seqN }

func roleCases() []roleCase {
	rel := func(status, suffix, body string) func(*roleSite, staff.Role) (string, string) {
		return func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/releases/" + newRelease(s, status) + suffix, body
		}
	}
	sub := func(suffix, body string) func(*roleSite, staff.Role) (string, string) {
		return func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/subscribers/" + newSubscriber(s) + suffix, body
		}
	}
	member := func(body string) func(*roleSite, staff.Role) (string, string) {
		return func(s *roleSite, _ staff.Role) (string, string) {
			m := s.admin("POST", "/api/v1/staff", fmt.Sprintf(`{"email":"m%d@example.org","role":"viewer"}`, s.seq()))
			return "/api/v1/staff/" + idOf(s.t, m), body
		}
	}
	return []roleCase{
		{"POST /api/v1/releases", "draft", staff.Editor, fixed("/api/v1/releases", `{"title":"Draft","body":"b","status":"draft"}`)},
		{"POST /api/v1/releases", "published by default", staff.Publisher, fixed("/api/v1/releases", `{"title":"Live","body":"b"}`)},
		{"POST /api/v1/releases", "scheduled", staff.Publisher, fixed("/api/v1/releases", `{"title":"Later","body":"b","status":"published","published_at":"2099-01-01T00:00:00Z"}`)},
		{"GET /api/v1/releases", "", staff.Viewer, fixed("/api/v1/releases", "")},
		{"GET /api/v1/releases/{id}", "", staff.Viewer, rel("published", "", "")},
		{"PATCH /api/v1/releases/{id}", "draft stays draft", staff.Editor, rel("draft", "", `{"title":"Edited"}`)},
		{"PATCH /api/v1/releases/{id}", "draft published", staff.Publisher, rel("draft", "", `{"status":"published"}`)},
		{"PATCH /api/v1/releases/{id}", "live release", staff.Publisher, rel("published", "", `{"title":"Edited"}`)},
		{"DELETE /api/v1/releases/{id}", "draft", staff.Editor, rel("draft", "", "")},
		{"DELETE /api/v1/releases/{id}", "live", staff.Publisher, rel("published", "", "")},
		{"POST /api/v1/releases/{id}/alert", "send", staff.Publisher, rel("published", "/alert", `{}`)},
		{"POST /api/v1/releases/{id}/alert", "dry run", staff.Editor, rel("published", "/alert", `{"dry_run":true}`)},
		{"POST /api/v1/releases/{id}/alert", "test copy to oneself", staff.Editor, func(s *roleSite, caller staff.Role) (string, string) {
			to := s.emails[caller]
			if to == "" {
				to = "nobody@example.org" // the admin token has no address
			}
			return "/api/v1/releases/" + newRelease(s, "published") + "/alert", fmt.Sprintf(`{"test_to":%q}`, to)
		}},
		{"POST /api/v1/releases/{id}/alert", "test copy to another", staff.Publisher, rel("published", "/alert", `{"test_to":"someone@example.org"}`)},
		{"GET /api/v1/alerts/{id}", "", staff.Viewer, func(s *roleSite, _ staff.Role) (string, string) {
			newSubscriber(s)
			out := s.admin("POST", "/api/v1/releases/"+newRelease(s, "published")+"/alert", `{}`)
			i := strings.Index(out, `"alert_id":"`)
			return "/api/v1/alerts/" + strings.SplitN(out[i+12:], `"`, 2)[0], ""
		}},
		{"POST /api/v1/digests/{cadence}/run", "", staff.Publisher, fixed("/api/v1/digests/daily/run", `{"dry_run":true}`)},
		{"GET /api/v1/taxonomy", "", staff.Viewer, fixed("/api/v1/taxonomy", "")},
		{"POST /api/v1/topics", "", staff.Admin, func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/topics", fmt.Sprintf(`{"slug":"t%d","name":"T"}`, s.seq())
		}},
		{"POST /api/v1/regions", "", staff.Admin, func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/regions", fmt.Sprintf(`{"slug":"r%d","name":"R"}`, s.seq())
		}},
		{"GET /api/v1/subscribers", "", staff.Admin, fixed("/api/v1/subscribers", "")},
		{"POST /api/v1/subscribers", "", staff.Admin, func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/subscribers", fmt.Sprintf(`{"email":"n%d@example.org"}`, s.seq())
		}},
		{"GET /api/v1/subscribers/{id}", "", staff.Admin, sub("", "")},
		{"PATCH /api/v1/subscribers/{id}", "", staff.Admin, sub("", `{"cadence":"weekly"}`)},
		{"DELETE /api/v1/subscribers/{id}", "", staff.Admin, sub("", "")},
		{"POST /api/v1/subscribers/import", "", staff.Admin, func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/subscribers/import", fmt.Sprintf("email\ni%d@example.org\n", s.seq())
		}},
		{"GET /api/v1/subscribers/export", "", staff.Admin, fixed("/api/v1/subscribers/export", "")},
		{"GET /api/v1/stats", "", staff.Viewer, fixed("/api/v1/stats", "")},
		{"GET /api/v1/me", "", staff.Viewer, fixed("/api/v1/me", "")},
		{"GET /api/v1/staff", "", staff.Admin, fixed("/api/v1/staff", "")},
		{"POST /api/v1/staff", "", staff.Admin, func(s *roleSite, _ staff.Role) (string, string) {
			return "/api/v1/staff", fmt.Sprintf(`{"email":"new%d@example.org","role":"editor"}`, s.seq())
		}},
		{"GET /api/v1/staff/{id}", "", staff.Admin, member("")},
		{"PATCH /api/v1/staff/{id}", "", staff.Admin, member(`{"role":"editor"}`)},
		{"DELETE /api/v1/staff/{id}", "", staff.Admin, member("")},
		{"POST /api/v1/tokens", "", staff.Viewer, fixed("/api/v1/tokens", `{"name":"script"}`)},
		{"GET /api/v1/tokens", "", staff.Viewer, fixed("/api/v1/tokens", "")},
		{"DELETE /api/v1/tokens/{id}", "own token", staff.Viewer, func(s *roleSite, caller staff.Role) (string, string) {
			tok := s.tokens[caller]
			if caller == staff.Admin+1 {
				tok = testToken
			}
			_, out := s.do(tok, "POST", "/api/v1/tokens", `{"name":"to revoke"}`)
			return "/api/v1/tokens/" + idOf(s.t, out), ""
		}},
		{"GET /api/v1/audit", "", staff.Admin, fixed("/api/v1/audit", "")},
		{"GET /api/v1/bounces", "", staff.Admin, fixed("/api/v1/bounces?kind=hard", "")},
		{"GET /api/v1/audit.csv", "", staff.Admin, fixed("/api/v1/audit.csv", "")},
		{"POST /api/v1/releases/{id}/media", "draft", staff.Editor, rel("draft", "/media", "")},
		{"POST /api/v1/releases/{id}/media", "live", staff.Publisher, rel("published", "/media", "")},
		{"DELETE /api/v1/releases/{id}/media/{media_id}", "draft", staff.Editor, withMedia("draft")},
		{"DELETE /api/v1/releases/{id}/media/{media_id}", "live", staff.Publisher, withMedia("published")},
		{"/api/", "unknown route", staff.Viewer, fixed("/api/v1/nothing", "")},
	}
}

// withMedia makes a release with one image and returns its medium's path.
func withMedia(status string) func(*roleSite, staff.Role) (string, string) {
	return func(s *roleSite, _ staff.Role) (string, string) {
		id := newRelease(s, status)
		st, out := upload(s.t, s.srv.URL, testToken, id, "photo.png", pngBytes(s.t, 40, 30), nil)
		if st != http.StatusCreated {
			s.t.Fatalf("setup upload: %d %s", st, out)
		}
		return "/api/v1/releases/" + id + "/media/" + idOf(s.t, out), ""
	}
}

// TestRoleMatrix calls every /api/v1 route as a personal token of each
// role and as the admin token: a call beyond the caller's role gets 403
// and changes nothing; a call within it is not refused. A route that the
// matrix does not list fails the test, so no route goes without a rule.
func TestRoleMatrix(t *testing.T) {
	s := newRoleSite(t)
	cases := roleCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
	}
	for _, rt := range s.api.routes() {
		if !covered[rt.pattern] {
			t.Errorf("route %q is not in the role matrix: add its rule's cases to roleCases", rt.pattern)
		}
		delete(covered, rt.pattern)
	}
	for p := range covered {
		t.Errorf("the role matrix lists %q, which is not a route", p)
	}
	// The admin token acts as Admin+1 in setups (it has no address).
	callers := append(append([]staff.Role{}, staff.Roles...), staff.Admin+1)
	for _, c := range cases {
		for _, caller := range callers {
			name := caller.String()
			tok := s.tokens[caller]
			role := caller
			if caller == staff.Admin+1 {
				name, tok, role = "admin-token", testToken, staff.Admin
			}
			t.Run(c.pattern+"/"+c.name+"/"+name, func(t *testing.T) {
				s.t = t
				method := strings.Fields(c.pattern)[0]
				if method == "/api/" {
					method = "GET"
				}
				path, body := c.setup(s, caller)
				before := s.snapshot()
				st, out := s.do(tok, method, path, body)
				if role < c.need {
					if st != http.StatusForbidden || !strings.Contains(out, `"field":""`) || !strings.Contains(out, "does not allow") {
						t.Fatalf("%s %s as %s: %d %s, want 403", method, path, name, st, out)
					}
					if after := s.snapshot(); after != before {
						i := 0
						for i < len(before) && i < len(after) && before[i] == after[i] {
							i++
						}
						t.Fatalf("a refused call changed something, from %q", after[max(0, i-80):min(len(after), i+80)])
					}
					return
				}
				if st == http.StatusForbidden || st == http.StatusUnauthorized || st >= 500 || (st == 404) != (c.pattern == "/api/") {
					t.Fatalf("%s %s as %s: %d %s, want it allowed", method, path, name, st, out)
				}
			})
		}
	}
}

// TestRoutes_EveryRouteHasARule: Register refuses a route without one.
func TestRoutes_EveryRouteHasARule(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a route without a rule was registered")
		}
	}()
	a := New(Options{AdminToken: testToken}, Deps{})
	a.handle(route{pattern: "GET /api/v1/x", fn: a.notFound})
}
