package admin

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"herald/media"
	"herald/releases"
	"herald/staff"
	"herald/store"
)

// caller is a signed-in browser of the role matrix.
type caller struct {
	name   string
	role   staff.Role
	email  string
	client *http.Client
	csrf   string
}

func (s *adminSite) signIn(form url.Values) (*http.Client, string) {
	s.t.Helper()
	c := newClientLike()
	req, _ := http.NewRequest("POST", s.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("sign in %v: %d", form.Get("email"), res.StatusCode)
	}
	return c, s.csrfWith(c, "/admin/")
}

func (s *adminSite) csrfWith(c *http.Client, path string) string {
	s.t.Helper()
	res, err := c.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := csrfField.FindStringSubmatch(string(b))
	if m == nil {
		s.t.Fatalf("GET %s: %d, no CSRF token", path, res.StatusCode)
	}
	return m[1]
}

func (s *adminSite) callAs(c *caller, method, path string, form url.Values) (int, string) {
	s.t.Helper()
	var body io.Reader
	if method == "POST" {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", c.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, body)
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// consoleState is what a refused action must leave as it was.
func (s *adminSite) consoleState() string {
	s.t.Helper()
	ctx := context.Background()
	page, err := s.rel.List(ctx, releases.ListQuery{Limit: 200})
	if err != nil {
		s.t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range page.Items {
		fmt.Fprintf(&b, "%d %s %s %s|", r.ID, r.Title, r.Status, r.UpdatedAt)
	}
	counts, err := s.db.OutboxCounts(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprint(&b, counts)
	return b.String()
}

type consoleCase struct {
	pattern, name string
	need          staff.Role
	setup         func(s *adminSite, c *caller) (path string, form url.Values)
}

func consoleCases() []consoleCase {
	relPath := func(status, suffix string) func(*adminSite, *caller) (string, url.Values) {
		return func(s *adminSite, _ *caller) (string, url.Values) {
			r := s.release("Case "+status, func(in *releases.Input) { in.Status = ptr(status) })
			return "/admin/releases/" + strconv.FormatInt(r.ID, 10) + suffix, nil
		}
	}
	form := func(status string) url.Values {
		return url.Values{"title": {"Saved"}, "body": {"Text."}, "topics": {"migration"}, "language": {"en"},
			"body_format": {"markdown"}, "status": {status}, "action": {"save"}}
	}
	save := func(stored, status string) func(*adminSite, *caller) (string, url.Values) {
		return func(s *adminSite, c *caller) (string, url.Values) {
			p, _ := relPath(stored, "")(s, c)
			return p, form(status)
		}
	}
	fixed := func(path string, f url.Values) func(*adminSite, *caller) (string, url.Values) {
		return func(*adminSite, *caller) (string, url.Values) { return path, f }
	}
	return []consoleCase{
		{"POST /admin/logout", "", staff.Viewer, fixed("/admin/logout", nil)},
		{"GET /admin/{$}", "", staff.Viewer, fixed("/admin/", nil)},
		{"GET /admin/releases", "", staff.Viewer, fixed("/admin/releases", nil)},
		{"GET /admin/releases/new", "", staff.Editor, fixed("/admin/releases/new", nil)},
		{"POST /admin/releases", "new draft", staff.Editor, fixed("/admin/releases", form("draft"))},
		{"POST /admin/releases", "new published", staff.Publisher, fixed("/admin/releases", form("published"))},
		{"POST /admin/releases", "preview", staff.Editor, func(*adminSite, *caller) (string, url.Values) {
			f := form("published")
			f.Set("action", "preview")
			return "/admin/releases", f
		}},
		{"GET /admin/releases/{id}", "", staff.Viewer, relPath("published", "")},
		{"POST /admin/releases/{id}", "draft kept draft", staff.Editor, save("draft", "draft")},
		{"POST /admin/releases/{id}", "draft published", staff.Publisher, save("draft", "published")},
		{"POST /admin/releases/{id}", "live edited", staff.Publisher, save("published", "published")},
		{"POST /admin/releases/{id}", "live made draft", staff.Publisher, save("published", "draft")},
		{"POST /admin/preview", "", staff.Editor, fixed("/admin/preview", form("draft"))},
		{"GET /admin/preview/{id}/{part}", "", staff.Editor, fixed("/admin/preview/nope/page", nil)},
		{"GET /admin/releases/{id}/alert", "", staff.Editor, relPath("published", "/alert")},
		{"POST /admin/releases/{id}/alert", "send", staff.Publisher, func(s *adminSite, c *caller) (string, url.Values) {
			p, _ := relPath("published", "/alert")(s, c)
			return p, url.Values{"action": {"send"}, "audience": {"matching"}}
		}},
		{"POST /admin/releases/{id}/alert", "test copy to oneself", staff.Editor, func(s *adminSite, c *caller) (string, url.Values) {
			p, _ := relPath("published", "/alert")(s, c)
			to := c.email
			if to == "" {
				to = "token@example.org"
			}
			return p, url.Values{"action": {"test"}, "test_to": {to}}
		}},
		{"POST /admin/releases/{id}/alert", "test copy to another", staff.Publisher, func(s *adminSite, c *caller) (string, url.Values) {
			p, _ := relPath("published", "/alert")(s, c)
			return p, url.Values{"action": {"test"}, "test_to": {"someone@example.org"}}
		}},
		{"GET /admin/alerts/{id}", "", staff.Viewer, fixed("/admin/alerts/999", nil)},
		{"GET /admin/alerts/{id}/status", "", staff.Viewer, fixed("/admin/alerts/999/status", nil)},
		{"POST /admin/digests/{cadence}", "", staff.Publisher, fixed("/admin/digests/daily", nil)},
		{"GET /admin/subscribers.csv", "", staff.Admin, fixed("/admin/subscribers.csv", nil)},
		{"GET /admin/audit", "", staff.Admin, fixed("/admin/audit", nil)},
		{"GET /admin/bounces", "", staff.Admin, fixed("/admin/bounces?kind=hard", nil)},
		{"GET /admin/webhooks", "", staff.Admin, fixed("/admin/webhooks", nil)},
		{"GET /admin/sources", "", staff.Admin, fixed("/admin/sources", nil)},
		{"POST /admin/sources", "", staff.Admin, fixed("/admin/sources", url.Values{"url": {"https://cms.example.org/feed.xml"}, "mode": {"draft"}, "language": {"en"}, "interval": {"15m"}})},
		{"POST /admin/sources/{id}/run", "", staff.Admin, fixed("/admin/sources/999/run", nil)},
		{"POST /admin/sources/{id}", "", staff.Admin, fixed("/admin/sources/999", url.Values{"url": {"https://cms.example.org/feed.xml"}, "mode": {"draft"}, "interval": {"15m"}})},
		{"POST /admin/releases/{id}/media", "draft", staff.Editor, relPath("draft", "/media")},
		{"POST /admin/releases/{id}/media", "live", staff.Publisher, relPath("published", "/media")},
		{"POST /admin/releases/{id}/media/{media_id}/move", "draft", staff.Editor, withMedia("draft", "/move", url.Values{"direction": {"up"}})},
		{"POST /admin/releases/{id}/media/{media_id}/move", "live", staff.Publisher, withMedia("published", "/move", url.Values{"direction": {"up"}})},
		{"POST /admin/releases/{id}/media/{media_id}/delete", "draft", staff.Editor, withMedia("draft", "/delete", nil)},
		{"POST /admin/releases/{id}/media/{media_id}/delete", "live", staff.Publisher, withMedia("published", "/delete", nil)},
		{"/admin/", "unknown page", staff.Viewer, fixed("/admin/nothing", nil)},
	}
}

// withMedia makes a release with two images and returns the path of an
// action on its second.
func withMedia(status, action string, form url.Values) func(*adminSite, *caller) (string, url.Values) {
	return func(s *adminSite, _ *caller) (string, url.Values) {
		r := s.release("Media "+status, func(in *releases.Input) { in.Status = ptr(status) })
		var last store.Media
		for range 2 {
			m, err := s.media.Add(context.Background(), r.ID, media.Upload{Name: "a.png", Data: tinyPNG(s.t)})
			if err != nil {
				s.t.Fatal(err)
			}
			last = m
		}
		return fmt.Sprintf("/admin/releases/%d/media/%d%s", r.ID, last.ID, action), form
	}
}

func tinyPNG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestConsoleRoleMatrix calls every console action as a member of each
// role and with the admin token: beyond one's role, 403 and nothing
// changed; within it, not refused. A route missing from the matrix fails.
func TestConsoleRoleMatrix(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	s.seed(store.SeedSubscriber{Email: "reader@example.org", Cadence: "immediate"})
	var callers []*caller
	for _, r := range staff.Roles {
		email := r.String() + "@press.example.org"
		s.member(email, r.String(), "a long password "+r.String())
		callers = append(callers, &caller{name: r.String(), role: r, email: email})
	}
	callers = append(callers, &caller{name: "admin-token", role: staff.Admin})
	login := func(c *caller) {
		if c.email == "" {
			c.client, c.csrf = s.signIn(url.Values{"token": {adminToken}})
		} else {
			c.client, c.csrf = s.signIn(url.Values{"email": {c.email}, "password": {"a long password " + c.role.String()}})
		}
	}
	for _, c := range callers {
		login(c)
	}
	cases := consoleCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
	}
	for _, rt := range s.console.routes() {
		if !covered[rt.pattern] {
			t.Errorf("console route %q is not in the role matrix", rt.pattern)
		}
		delete(covered, rt.pattern)
	}
	for p := range covered {
		t.Errorf("the matrix lists %q, which is not a console route", p)
	}
	for _, cc := range cases {
		for _, c := range callers {
			t.Run(cc.pattern+"/"+cc.name+"/"+c.name, func(t *testing.T) {
				s.t = t
				method := strings.Fields(cc.pattern)[0]
				if method == "/admin/" {
					method = "GET"
				}
				path, form := cc.setup(s, c)
				before := s.consoleState()
				st, body := s.callAs(c, method, path, form)
				if c.role < cc.need {
					if st != http.StatusForbidden || !strings.Contains(body, "does not allow this") {
						t.Fatalf("%s %s as %s: %d, want 403", method, path, c.name, st)
					}
					if after := s.consoleState(); after != before {
						t.Fatalf("a refused action changed something:\n%s\n%s", before, after)
					}
					return
				}
				if st == http.StatusForbidden || st >= 500 || (st == http.StatusSeeOther && strings.Contains(body, "/admin/login")) {
					t.Fatalf("%s %s as %s: %d, want it allowed\n%s", method, path, c.name, st, body)
				}
				if cc.pattern == "POST /admin/logout" {
					login(c) // sign in again for the next cases
				}
			})
		}
	}
}
