package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/mailer"
	"herald/staff"
	"herald/store"
)

func TestSignIn_PasswordSessionEndsWhenDisabled(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	id := s.member("ana@press.example.org", "editor", "a good long password")
	r := s.post("/admin/login", url.Values{"email": {"ana@press.example.org"}, "password": {"a wrong long password"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong email address or password") || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("wrong password: %d", r.status)
	}
	if strings.Contains(r.body, "a wrong long password") {
		t.Fatal("the password is echoed")
	}
	s.loginAs("ANA@press.example.org", "a good long password")
	if r := s.get("/admin/"); r.status != 200 || !strings.Contains(r.body, "ana@press.example.org · editor") {
		t.Fatalf("dashboard: %d", r.status)
	}
	// Disabling ends the session at once.
	if _, err := s.staff.Disable(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if r := s.get("/admin/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
		t.Fatalf("session after disable: %d %s", r.status, r.header.Get("Location"))
	}
	r = s.post("/admin/login", url.Values{"email": {"ana@press.example.org"}, "password": {"a good long password"}})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("disabled member logged in: %d", r.status)
	}
	entries, err := s.db.ListAudit(context.Background(), store.AuditQuery{Action: "login.*"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Target+" "+e.IP)
	}
	want := []string{"login.failure staff:ana@press.example.org 127.0.0.1", "login.success staff:1 127.0.0.1", "login.failure staff:ana@press.example.org 127.0.0.1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audited logins %q, want %q", got, want)
	}
}

func TestSignIn_FailuresRateLimitedAcrossMethods(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{burst: 2})
	s.member("ana@press.example.org", "admin", "a good long password")
	for range 2 {
		if r := s.post("/admin/login", url.Values{"email": {"ana@press.example.org"}, "password": {"nope nope nope"}}); r.status != 401 {
			t.Fatalf("failure: %d", r.status)
		}
	}
	r := s.post("/admin/login", url.Values{"email": {"ana@press.example.org"}, "password": {"a good long password"}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("past the limit: %d", r.status)
	}
}

// staffLink returns the set-password link of the newest staff mail queued.
func (s *adminSite) staffLink(kind string) string {
	s.t.Helper()
	msgs, err := s.db.ClaimOutbox(context.Background(), time.Now().Add(time.Hour), store.ClaimOptions{Limit: 100, Lease: time.Millisecond})
	if err != nil {
		s.t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == kind {
			p := msgs[i].Payload
			j := strings.Index(p, `"link_url":"`) + len(`"link_url":"`)
			u, _ := url.Parse(p[j : j+strings.Index(p[j:], `"`)])
			return u.RequestURI()
		}
	}
	s.t.Fatalf("no %s mail queued", kind)
	return ""
}

func TestSetPasswordPage(t *testing.T) {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := newAdminSite(t, adminSiteOpts{now: clock})
	if _, _, err := s.staff.Create(context.Background(), staffInput("ana@press.example.org", "viewer")); err != nil {
		t.Fatal(err)
	}
	link := s.staffLink(mailer.KindStaffInvite)
	if r := s.get(link); r.status != 200 || !strings.Contains(r.body, `id="set-password"`) {
		t.Fatalf("form: %d", r.status)
	}
	for _, tc := range []struct {
		pw, confirm, want string
	}{
		{"short", "short", "too short"},
		{"a good long password", "a different password", "differ"},
	} {
		r := s.post(link, url.Values{"password": {tc.pw}, "confirm": {tc.confirm}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.want) {
			t.Fatalf("%q: %d, want 422 %q", tc.pw, r.status, tc.want)
		}
	}
	r := s.post(link, url.Values{"password": {"a good long password"}, "confirm": {"a good long password"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login?password_set=1" {
		t.Fatalf("set: %d %s", r.status, r.header.Get("Location"))
	}
	// Used: the page and the form both say so, and nothing changes.
	if r := s.get(link); r.status != http.StatusGone || !strings.Contains(r.body, "used already") {
		t.Fatalf("reused link page: %d", r.status)
	}
	if r := s.post(link, url.Values{"password": {"another long password"}, "confirm": {"another long password"}}); r.status != http.StatusGone {
		t.Fatalf("reused link: %d", r.status)
	}
	s.loginAs("ana@press.example.org", "a good long password")

	// A reset link, expired after 72 h.
	s.client = newClientLike()
	if r := s.post("/admin/forgot", url.Values{"email": {"ana@press.example.org"}}); r.status != 200 || !strings.Contains(r.body, `id="reset-sent"`) {
		t.Fatalf("forgot: %d", r.status)
	}
	reset := s.staffLink(mailer.KindStaffReset)
	now = now.Add(72*time.Hour + time.Minute)
	if r := s.get(reset); r.status != http.StatusGone || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired link: %d", r.status)
	}
	if r := s.post(reset, url.Values{"password": {"another long password"}, "confirm": {"another long password"}}); r.status != http.StatusGone {
		t.Fatalf("expired link used: %d", r.status)
	}
	if r := s.get("/admin/password?token=forged"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "not valid") {
		t.Fatalf("forged link: %d", r.status)
	}
	// An unknown address gets the same answer and no mail.
	if r := s.post("/admin/forgot", url.Values{"email": {"nobody@press.example.org"}}); r.status != 200 || !strings.Contains(r.body, `id="reset-sent"`) {
		t.Fatalf("forgot, unknown: %d", r.status)
	}
	if n := outboxCount(t, s); n != 2 {
		t.Fatalf("%d mails, want the invitation and one reset", n)
	}
}

func TestConsole_FormLimitsAndCrossOrigin(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	csrf := s.login()
	big := url.Values{"csrf": {csrf}, "title": {"T"}, "body": {strings.Repeat("x", maxEditorBody)}, "status": {"draft"}}
	if r := s.post("/admin/releases", big); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "larger than 1 MiB") {
		t.Fatalf("big form: %d", r.status)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/admin/digests/daily", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := s.do(req); r.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", r.status)
	}
	req, _ = http.NewRequest("POST", s.srv.URL+"/admin/digests/daily", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := s.do(req); r.status != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d", r.status)
	}
}

func staffInput(email, role string) staff.CreateInput {
	return staff.CreateInput{Email: email, Role: role}
}

func TestAuditPage(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	s.member("ana@press.example.org", "admin", "a good long password")
	s.loginAs("ana@press.example.org", "a good long password")
	r := s.get("/admin/audit?action=login.*")
	if r.status != 200 || !strings.Contains(r.body, "login.success") || !strings.Contains(r.body, "ana@press.example.org") {
		t.Fatalf("audit page: %d", r.status)
	}
	if r := s.get("/admin/audit?action=staff.*"); strings.Contains(r.body, "login.success") {
		t.Fatal("the action filter shows other actions")
	}
	if r := s.get("/admin/audit?until=2000-01-01"); !strings.Contains(r.body, "No entries match") {
		t.Fatal("the until filter shows later entries")
	}
	if r := s.get("/admin/audit?since=yesterday"); r.status != http.StatusBadRequest {
		t.Fatalf("bad date: %d", r.status)
	}
}

// TestConsole_EditorSeesWhatAnEditorMayDo: the pages offer an editor
// drafts and test copies, not publishing or sending.
func TestConsole_EditorSeesWhatAnEditorMayDo(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	live := s.release("Live one", nil)
	s.member("ed@press.example.org", "editor", "a good long password")
	s.loginAs("ed@press.example.org", "a good long password")
	if r := s.get("/admin/releases/new"); !strings.Contains(r.body, `value="draft" checked`) || !strings.Contains(r.body, `value="save"`) {
		t.Fatal("a new release is not a draft for an editor, or cannot be saved")
	}
	id := strconv.FormatInt(live.ID, 10)
	if r := s.get("/admin/releases/" + id); !strings.Contains(r.body, `id="cannot-save"`) || strings.Contains(r.body, `value="save"`) {
		t.Fatal("an editor is offered to save a live release")
	}
	r := s.get("/admin/releases/" + id + "/alert")
	if !strings.Contains(r.body, `id="cannot-send"`) || strings.Contains(r.body, `id="send-alert"`) || !strings.Contains(r.body, `value="test"`) {
		t.Fatal("the alert dialog offers an editor the wrong buttons")
	}
	if r := s.get("/admin/"); strings.Contains(r.body, "/admin/digests/") || strings.Contains(r.body, "/admin/audit") {
		t.Fatal("the dashboard offers an editor digests or the audit log")
	}
}
