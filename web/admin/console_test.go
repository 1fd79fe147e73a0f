package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/internal/clocktest"
	"herald/mailer/smtptest"
	"herald/releases"
	"herald/store"
)

func TestAdmin_UnauthenticatedGETRedirectsToLogin(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	rel := s.release("A release", nil)
	id := strconv.FormatInt(rel.ID, 10)
	for _, path := range []string{"/admin/", "/admin/releases?status=live", "/admin/releases/new", "/admin/releases/" + id,
		"/admin/releases/" + id + "/alert", "/admin/alerts/1", "/admin/alerts/1/status", "/admin/subscribers.csv", "/admin/nope"} {
		r := s.get(path)
		want := "/admin/login?next=" + url.QueryEscape(path)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want 303 %q", path, r.status, r.header.Get("Location"), want)
		}
	}
	if r := s.get("/admin"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin: %d %q", r.status, r.header.Get("Location"))
	}
	// The login page itself is reachable and has the next target.
	r := s.get("/admin/login?next=%2Fadmin%2Freleases")
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="next" value="/admin/releases"`) {
		t.Errorf("login page: %d, next not kept", r.status)
	}
}

func TestAdmin_UnauthenticatedPOSTChangesNothing(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	rel := s.release("Live one", nil)
	s.seed(store.SeedSubscriber{Email: "a@example.org", Cadence: "immediate"})
	id := strconv.FormatInt(rel.ID, 10)
	for _, path := range []string{"/admin/releases", "/admin/releases/" + id, "/admin/releases/" + id + "/alert",
		"/admin/digests/daily", "/admin/logout", "/admin/preview"} {
		r := s.post(path, url.Values{"title": {"Hijacked"}, "body": {"x"}, "topics": {"migration"}, "action": {"send"}})
		if r.status != http.StatusForbidden {
			t.Errorf("POST %s without a session: %d, want 403", path, r.status)
		}
	}
	page, err := s.rel.List(context.Background(), releases.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Title != "Live one" {
		t.Errorf("releases changed: %+v", page.Items)
	}
	if n := outboxCount(t, s); n != 0 {
		t.Errorf("%d messages queued without a session", n)
	}
}

func outboxCount(t *testing.T, s *adminSite) int {
	t.Helper()
	c, err := s.db.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

func TestAdmin_LoginCookieAndTokenNeverEchoed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		base   string
		secure bool
	}{{"http", "", false}, {"https", "https://press.example.org", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newAdminSite(t, adminSiteOpts{baseURL: tc.base})
			r := s.post("/admin/login", url.Values{"token": {adminToken}, "next": {"/admin/releases?lang=fr"}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/releases?lang=fr" {
				t.Fatalf("login: %d %q", r.status, r.header.Get("Location"))
			}
			res := &http.Response{Header: r.header}
			cs := res.Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies: %v", r.header["Set-Cookie"])
			}
			c := cs[0]
			if c.Name != adminCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" || c.Secure != tc.secure {
				t.Errorf("cookie attributes: %+v", c)
			}
			if c.MaxAge < int((12*time.Hour-time.Minute).Seconds()) || c.MaxAge > int((12*time.Hour).Seconds()) {
				t.Errorf("cookie Max-Age %d, want about 12 h", c.MaxAge)
			}
			if strings.Contains(c.Value, adminToken) || strings.Contains(r.body, adminToken) {
				t.Error("the token appears in the cookie or the response")
			}
		})
	}
	s := newAdminSite(t, adminSiteOpts{})
	guess := adminToken + "-almost"
	r := s.post("/admin/login", url.Values{"token": {guess}})
	if r.status != http.StatusUnauthorized || strings.Contains(r.body, guess) || strings.Contains(r.body, adminToken) {
		t.Errorf("wrong token: %d, or echoed", r.status)
	}
	if !strings.Contains(r.body, "not the admin token") || r.header.Get("Set-Cookie") != "" {
		t.Errorf("wrong token: no message, or a cookie was set")
	}
	// No page of a session shows the token either.
	s.login()
	for _, p := range []string{"/admin/", "/admin/releases", "/admin/releases/new"} {
		if r := s.get(p); r.status != http.StatusOK || strings.Contains(r.body, adminToken) {
			t.Errorf("GET %s: %d or shows the token", p, r.status)
		}
	}
}

func TestAdmin_LoginRateLimit(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s := newAdminSite(t, adminSiteOpts{now: clock.Now, burst: 3})
	for i := range 3 {
		if r := s.post("/admin/login", url.Values{"token": {"wrong"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, r.status)
		}
	}
	// Past the limit even the right token waits: guessing gains nothing.
	r := s.post("/admin/login", url.Values{"token": {adminToken}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("over the limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	clock.Add(21 * time.Second)
	if r := s.post("/admin/login", url.Values{"token": {adminToken}}); r.status != http.StatusSeeOther {
		t.Fatalf("after waiting: %d, want 303", r.status)
	}
	// Successful logins do not use up the allowance.
	for range 5 {
		if r := s.post("/admin/login", url.Values{"token": {adminToken}}); r.status != http.StatusSeeOther {
			t.Fatalf("repeated good login: %d", r.status)
		}
	}
}

func TestAdmin_SessionExpiry(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s := newAdminSite(t, adminSiteOpts{now: clock.Now})
	csrf := s.login()
	clock.Add(11*time.Hour + 59*time.Minute)
	if r := s.get("/admin/releases"); r.status != http.StatusOK {
		t.Fatalf("before expiry: %d", r.status)
	}
	clock.Add(2 * time.Minute)
	r := s.get("/admin/releases")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login?next=") {
		t.Fatalf("after expiry: %d %q", r.status, r.header.Get("Location"))
	}
	body := "Text."
	r = s.post("/admin/releases", url.Values{"csrf": {csrf}, "title": {"Late"}, "body": {body}, "topics": {"migration"}, "action": {"save"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("POST after expiry: %d, want 403", r.status)
	}
}

func TestAdmin_CSRF(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	csrf := s.login()
	other := newAdminSite(t, adminSiteOpts{})
	otherCSRF := other.login()
	form := func(token string) url.Values {
		return url.Values{"csrf": {token}, "title": {"By form"}, "body": {"Body text."}, "topics": {"migration"},
			"status": {"published"}, "action": {"save"}}
	}
	for _, tc := range []struct {
		name  string
		token string
	}{{"missing", ""}, {"wrong", "AAAA" + csrf[4:]}, {"another session's", otherCSRF}} {
		if r := s.post("/admin/releases", form(tc.token)); r.status != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d, want 403", tc.name, r.status)
		}
	}
	// A right token from a foreign page (Origin) is refused as well.
	req, _ := http.NewRequest("POST", s.srv.URL+"/admin/releases", strings.NewReader(form(csrf).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := s.do(req); r.status != http.StatusForbidden {
		t.Errorf("foreign Origin: %d, want 403", r.status)
	}
	page, _ := s.rel.List(context.Background(), releases.ListQuery{})
	if len(page.Items) != 0 {
		t.Fatalf("a refused form created %d releases", len(page.Items))
	}
	r := s.post("/admin/releases", form(csrf))
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=created") {
		t.Fatalf("right token: %d %q", r.status, r.header.Get("Location"))
	}
	// The digest and logout buttons need it too.
	if r := s.post("/admin/digests/daily", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("digest without token: %d", r.status)
	}
	if r := s.post("/admin/logout", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("logout without token: %d", r.status)
	}
}

func TestAdmin_LogoutAndTamperedCookies(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	csrf := s.login()
	u, _ := url.Parse(s.srv.URL + "/admin/")
	cookie := s.client.Jar.Cookies(u)[0].Value
	replay := func(value string) adminReply {
		req, _ := http.NewRequest("GET", s.srv.URL+"/admin/", nil)
		req.AddCookie(&http.Cookie{Name: adminCookie, Value: value})
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return adminReply{status: res.StatusCode, header: res.Header}
	}
	if r := replay(cookie); r.status != http.StatusOK {
		t.Fatalf("valid cookie: %d", r.status)
	}
	payload, sig, _ := strings.Cut(cookie, ".")
	for name, v := range map[string]string{
		"signature": payload + "." + strings.Repeat("A", len(sig)),
		"payload":   "B" + payload[1:] + "." + sig,
		"garbage":   "not-a-session",
		"empty":     "",
	} {
		if r := replay(v); r.status != http.StatusSeeOther {
			t.Errorf("tampered %s: %d, want 303 to login", name, r.status)
		}
	}
	r := s.post("/admin/logout", url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login?logged_out=1" {
		t.Fatalf("logout: %d %q", r.status, r.header.Get("Location"))
	}
	if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("logout does not clear the cookie: %q", r.header.Get("Set-Cookie"))
	}
	if r := replay(cookie); r.status != http.StatusSeeOther {
		t.Errorf("the cookie still works after logout: %d", r.status)
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/admin/"},
		{"/admin/releases?lang=fr", "/admin/releases?lang=fr"},
		{"/admin", "/admin"},
		{"//evil.example/admin/", "/admin/"},
		{"https://evil.example/admin/", "/admin/"},
		{"/\\evil.example", "/admin/"},
		{"/feed.rss", "/admin/"},
		{"/administrator", "/admin/"},
		{"/admin/login", "/admin/"},
		{"/admin/\r\nSet-Cookie: x", "/admin/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAdmin_PageHeaders(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	r := s.get("/admin/login")
	check := func(path string, r adminReply) {
		t.Helper()
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code: %q", path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, r.header)
		}
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, " style=") || strings.Contains(r.body, " onclick") {
			t.Errorf("%s: inline script or style in the page", path)
		}
	}
	check("/admin/login", r)
	s.login()
	rel := s.release("Headers", nil)
	for _, p := range []string{"/admin/", "/admin/releases", "/admin/releases/new", "/admin/releases/" + strconv.FormatInt(rel.ID, 10),
		"/admin/releases/" + strconv.FormatInt(rel.ID, 10) + "/alert"} {
		r := s.get(p)
		if r.status != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.status)
		}
		check(p, r)
	}
}

func TestAdmin_EditorValidationKeepsInput(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	csrf := s.login()
	r := s.post("/admin/releases", url.Values{"csrf": {csrf}, "title": {`Keep <b>me</b> "here"`}, "body": {"Body **text**."},
		"dateline": {"Quito"}, "status": {"published"}, "action": {"save"}, "contact_name": {"Ana"}, "contact_email": {"ana@example.org"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("no topic: %d, want 422", r.status)
	}
	for _, want := range []string{`id="topics-error"`, "at least one topic is required", `value="Keep &lt;b&gt;me&lt;/b&gt; &#34;here&#34;"`,
		"Body **text**.</textarea>", `value="Quito"`, `value="ana@example.org"`, `href="#topics"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	for _, tc := range []struct {
		name, field string
		mod         url.Values
	}{
		{"bad url", "url-error", url.Values{"url": {"javascript:alert(1)"}}},
		{"bad contact", "contacts-error", url.Values{"contact_email": {"not an address"}}},
		{"bad time", "published_at-error", url.Values{"published_local": {"tomorrow"}}},
		{"bad zone", "timezone-error", url.Values{"published_local": {"2030-01-01T09:00"}, "timezone": {"Mars/Olympus"}}},
		{"unknown language", "language-error", url.Values{"language": {"xx-not"}}},
	} {
		f := url.Values{"csrf": {csrf}, "title": {"T"}, "body": {"B."}, "topics": {"migration"}, "action": {"save"}}
		for k, v := range tc.mod {
			f[k] = v
		}
		r := s.post("/admin/releases", f)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="`+tc.field+`"`) {
			t.Errorf("%s: %d, error %s not shown", tc.name, r.status, tc.field)
		}
	}
	page, _ := s.rel.List(context.Background(), releases.ListQuery{})
	if len(page.Items) != 0 {
		t.Errorf("invalid forms created %d releases", len(page.Items))
	}
}

func TestAdmin_EmbargoInTheStaffTimeZone(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	s := newAdminSite(t, adminSiteOpts{now: clock.Now})
	csrf := s.login()
	r := s.post("/admin/releases", url.Values{"csrf": {csrf}, "title": {"Embargoed news"}, "body": {"Text."},
		"topics": {"migration"}, "regions": {"argentina"}, "status": {"published"}, "action": {"save"},
		"published_local": {"2026-07-05T09:00"}, "timezone": {"America/Argentina/Buenos_Aires"},
		"translation_key": {"news-2026-07"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.status)
	}
	loc := r.header.Get("Location")
	id, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(loc, "?")[0], "/admin/releases/"), 10, 64)
	rel, err := s.rel.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 7, 5, 12, 0, 0, 0, time.UTC); !rel.PublishedAt.Equal(want) {
		t.Fatalf("published_at %v, want %v (09:00 in Buenos Aires)", rel.PublishedAt, want)
	}
	// The editor shows the time back in the zone it was entered in.
	edit := s.get(loc)
	if !strings.Contains(edit.body, `value="2026-07-05T09:00"`) || !strings.Contains(edit.body, "Stored as 5 Jul 2026, 12:00 UTC") {
		t.Errorf("editor does not show the local time back")
	}
	list := s.get("/admin/releases?status=embargoed")
	if !strings.Contains(list.body, "Embargoed news") || !strings.Contains(list.body, "badge-embargoed") || !strings.Contains(list.body, "in 125 d") {
		t.Errorf("list does not show the embargo countdown")
	}
	if strings.Contains(list.body, id2s(id)+"/alert") {
		t.Errorf("an embargoed release offers an alert")
	}
	// Saving again without touching the time keeps it to the millisecond.
	if _, err := s.db.Release(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	edited := url.Values{"csrf": {csrf}, "title": {"Embargoed news, updated"}, "body": {"Text."}, "topics": {"migration"},
		"status": {"published"}, "action": {"save"}, "published_local": {"2026-07-05T09:00"}, "timezone": {"America/Argentina/Buenos_Aires"},
		"orig_local": {"2026-07-05T09:00"}, "orig_zone": {"America/Argentina/Buenos_Aires"}, "translation_key": {"news-2026-07"}}
	if r := s.post("/admin/releases/"+id2s(id), edited); r.status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	rel2, _ := s.rel.Get(context.Background(), id)
	if rel2.Title != "Embargoed news, updated" || !rel2.PublishedAt.Equal(rel.PublishedAt) || len(rel2.Regions) != 0 {
		t.Errorf("update: %q %v regions %v", rel2.Title, rel2.PublishedAt, rel2.Regions)
	}
	// The translation group is offered in the picker of a new release.
	if n := s.get("/admin/releases/new"); !strings.Contains(n.body, `<option value="news-2026-07">`) {
		t.Errorf("the translation picker lacks the group")
	}
}

func id2s(id int64) string { return strconv.FormatInt(id, 10) }

func TestAdmin_Preview(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	csrf := s.login()
	form := url.Values{"id": {"0"}, "title": {"Preview title <i>"}, "body": {"Hello **world**.\n\n<script>alert(1)</script>"},
		"topics": {"migration"}, "status": {"published"}, "language": {"fr"}}
	req, _ := http.NewRequest("POST", s.srv.URL+"/admin/preview", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", csrf)
	r := s.do(req)
	if r.status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	var p previewJSON
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Subject != "Preview title <i>" || !strings.Contains(p.Text, "Hello world.") || strings.Contains(p.Text, "alert(1)") {
		t.Errorf("preview mail: subject %q text %q", p.Subject, p.Text)
	}
	page := s.get(p.Page)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Preview title &lt;i&gt;") || strings.Contains(page.body, "<script>alert") {
		t.Errorf("page preview: %d", page.status)
	}
	if !strings.Contains(page.body, `lang="fr"`) {
		t.Errorf("page preview is not in French")
	}
	mail := s.get(p.Mail)
	if mail.status != http.StatusOK || !strings.Contains(mail.body, "<strong>world</strong>") || !strings.Contains(mail.body, "style=") {
		t.Errorf("mail preview: %d", mail.status)
	}
	if mail.header.Get("Content-Security-Policy") != previewCSP || mail.header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("mail preview headers: %v", mail.header)
	}
	if !strings.Contains(s.get("/admin/releases/new").header.Get("Content-Security-Policy"), "frame-src 'self'") {
		t.Errorf("the editor cannot frame its previews")
	}
	// Nothing was saved, and another session cannot see the preview.
	if pg, _ := s.rel.List(context.Background(), releases.ListQuery{}); len(pg.Items) != 0 {
		t.Errorf("the preview saved a release")
	}
	other := &adminSite{t: t, srv: s.srv, client: newClientLike()}
	other.login()
	if r := other.get(p.Mail); r.status != http.StatusNotFound {
		t.Errorf("another session reads the preview: %d", r.status)
	}
	// Invalid input: the errors come back as JSON.
	form.Set("topics", "")
	req, _ = http.NewRequest("POST", s.srv.URL+"/admin/preview", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", csrf)
	r = s.do(req)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Topics: at least one topic is required") {
		t.Errorf("invalid preview: %d %s", r.status, r.body)
	}
	// Without script: the Preview button shows the editor with frames.
	form.Set("topics", "migration")
	form.Set("csrf", csrf)
	form.Set("action", "preview")
	r = s.post("/admin/releases", form)
	if r.status != http.StatusOK || !strings.Contains(r.body, `<iframe title="Preview of the release page" id="preview-page" src="/admin/preview/`) {
		t.Errorf("no-script preview: %d", r.status)
	}
}

func TestAdmin_AlertDialogCountsThenSends(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	s.seed(store.SeedSubscriber{Email: "a@example.org", Cadence: "immediate"},
		store.SeedSubscriber{Email: "b@example.org", Cadence: "daily", Language: "fr"},
		store.SeedSubscriber{Email: "c@example.org", Cadence: "weekly", Language: "fr"},
		store.SeedSubscriber{Email: "d@example.org", Cadence: "daily", Status: "unsubscribed"})
	csrf := s.login()
	rel := s.release("Urgent", nil)
	path := "/admin/releases/" + id2s(rel.ID) + "/alert"
	r := s.get(path)
	if r.status != http.StatusOK || !strings.Contains(r.body, `<span class="big" id="recipient-count">3</span>`) {
		t.Fatalf("dialog: %d, count not 3", r.status)
	}
	if !strings.Contains(r.body, "French (fr)") && !strings.Contains(r.body, "français (fr)") {
		t.Errorf("dialog lacks the language breakdown")
	}
	if r := s.get(path + "?audience=immediate"); !strings.Contains(r.body, `id="recipient-count">1</span>`) {
		t.Errorf("immediate audience not counted as 1")
	}
	if n := outboxCount(t, s); n != 0 {
		t.Fatalf("the dry run queued %d messages", n)
	}
	// A test copy with no address is an error, never the real alert.
	r = s.post(path, url.Values{"csrf": {csrf}, "action": {"test"}, "test_to": {""}, "audience": {"matching"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="test-error"`) || outboxCount(t, s) != 0 {
		t.Fatalf("empty test address: %d, %d queued", r.status, outboxCount(t, s))
	}
	r = s.post(path, url.Values{"csrf": {csrf}, "action": {"test"}, "test_to": {"desk@example.org"}, "audience": {"matching"}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=test") || outboxCount(t, s) != 1 {
		t.Fatalf("test copy: %d %q", r.status, r.header.Get("Location"))
	}
	r = s.post(path, url.Values{"csrf": {csrf}, "action": {"send"}, "audience": {"matching"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/alerts/") {
		t.Fatalf("send: %d %q", r.status, r.header.Get("Location"))
	}
	status := s.get(r.header.Get("Location") + "/status")
	var p alertProgress
	if err := json.Unmarshal([]byte(status.body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Recipients != 3 || p.Queued != 3 || p.Done || p.Percent != 0 {
		t.Errorf("progress: %+v", p)
	}
	if pg := s.get(r.header.Get("Location")); !strings.Contains(pg.body, `<progress id="progress-bar" max="100" value="0">`) {
		t.Errorf("progress page lacks the bar")
	}
	// Sending again queues nobody twice.
	r = s.post(path, url.Values{"csrf": {csrf}, "action": {"send"}, "audience": {"matching"}})
	if outboxCount(t, s) != 4 {
		t.Errorf("a repeated send queued more: %d rows", outboxCount(t, s))
	}
	// A draft offers no alert.
	draft := s.release("Draft", func(in *releases.Input) { in.Status = ptr("draft") })
	if r := s.get("/admin/releases/" + id2s(draft.ID) + "/alert"); !strings.Contains(r.body, "is a draft") || strings.Contains(r.body, "send-alert") {
		t.Errorf("draft dialog offers sending")
	}
}

func TestAdmin_DashboardDigestAndExport(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	s.seed(store.SeedSubscriber{Email: "a@example.org", Cadence: "daily"},
		store.SeedSubscriber{Email: "b@example.org", Cadence: "weekly", Language: "es"},
		store.SeedSubscriber{Email: "=cmd@example.org", Cadence: "daily", Status: "pending"})
	csrf := s.login()
	r := s.get("/admin/")
	for _, want := range []string{`<svg class="chart-svg"`, `id="growth-chart-title"`, `id="delivery-chart-title"`, "<polyline points=",
		`<span class="big">2</span> active subscribers`, "<dt>pending</dt><dd>1</dd>", "Export subscribers (CSV)"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	csv := s.get("/admin/subscribers.csv")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.body, "email,topics,regions,language,cadence,timezone,status") ||
		strings.Count(csv.body, "\n") != 4 || !strings.Contains(csv.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export: %d %q", csv.status, csv.body)
	}
	s.release("For the digest", nil)
	r = s.post("/admin/digests/daily", url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/?done=digest-daily&n=1" {
		t.Fatalf("digest: %d %q", r.status, r.header.Get("Location"))
	}
	if r := s.get(r.header.Get("Location")); !strings.Contains(r.body, "1 digests queued") {
		t.Errorf("digest notice missing")
	}
	if r := s.post("/admin/digests/hourly", url.Values{"csrf": {csrf}}); r.status != http.StatusNotFound {
		t.Errorf("unknown digest: %d", r.status)
	}
}

func TestAdmin_AlertProgressListsFailures(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{smtp: true})
	s.smtp.OnRcpt(func(to string) error {
		if to == "gone@example.org" {
			return smtptest.Reply(550, "5.1.1 no such mailbox")
		}
		return nil
	})
	s.seed(store.SeedSubscriber{Email: "ok1@example.org"}, store.SeedSubscriber{Email: "gone@example.org"},
		store.SeedSubscriber{Email: "ok2@example.org"})
	csrf := s.login()
	rel := s.release("Failing one", nil)
	r := s.post("/admin/releases/"+id2s(rel.ID)+"/alert", url.Values{"csrf": {csrf}, "action": {"send"}, "audience": {"matching"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("send: %d", r.status)
	}
	progress := r.header.Get("Location")
	var p alertProgress
	deadline := time.Now().Add(15 * time.Second)
	for !p.Done && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if err := json.Unmarshal([]byte(s.get(progress+"/status").body), &p); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Done || p.Percent != 100 || p.Sent != 2 || p.Failed != 1 || p.FinishedAt == nil {
		t.Fatalf("progress %+v", p)
	}
	if len(p.Problems) != 1 || p.Problems[0].To != "gone@example.org" || p.Problems[0].State != "failed" ||
		!strings.Contains(p.Problems[0].Error, "no such mailbox") {
		t.Errorf("problems %+v", p.Problems)
	}
	page := s.get(progress)
	if !strings.Contains(page.body, "<td>gone@example.org</td><td>failed</td>") || !strings.Contains(page.body, "2 of 3 sent, 1 failed. Finished.") {
		t.Errorf("progress page does not list the failure")
	}
	if r := s.get("/admin/alerts/999/status"); r.status != http.StatusNotFound || !strings.Contains(r.body, `"error"`) {
		t.Errorf("unknown alert: %d %s", r.status, r.body)
	}
}
