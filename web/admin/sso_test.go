package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/internal/oidctest"
	"herald/staff"
	"herald/store"
)

// ssoSite is the console with single sign-on against an in-process
// provider.
type ssoSite struct {
	*adminSite
	op *oidctest.Server
}

func newSSOSite(t *testing.T, issuer string) *ssoSite {
	t.Helper()
	var op *oidctest.Server
	s := newAdminSite(t, adminSiteOpts{burst: 100, oidc: func(base string) *OIDCOptions {
		op = oidctest.New(t, oidctest.Options{ClientID: "herald", ClientSecret: "s3cret-s3cret", RedirectURI: base + "/admin/oidc/callback", Issuer: issuer})
		return &OIDCOptions{Issuer: op.Issuer, ClientID: "herald", ClientSecret: "s3cret-s3cret", RoleClaim: "groups",
			Roles: map[string]staff.Role{"press-publishers": staff.Publisher, "press-editors": staff.Editor}}
	}})
	return &ssoSite{adminSite: s, op: op}
}

// flow runs the browser's part of a sign-in: start at herald, through the
// provider, up to herald's callback, which tamper may change before it is
// followed. It returns herald's answer to the callback, and the client.
func (s *ssoSite) flow(tamper func(u *url.URL)) (adminReply, *http.Client) {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	var callback *url.URL
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/admin/oidc/callback") {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		if strings.HasPrefix(req.URL.String(), s.srv.URL) {
			return http.ErrUseLastResponse // herald's own redirects stay visible
		}
		return nil
	}}
	res, err := c.Get(s.srv.URL + "/admin/oidc/login?next=%2Fadmin%2Freleases")
	if err != nil {
		s.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if callback == nil {
		return adminReply{status: res.StatusCode, header: res.Header, body: string(body)}, c
	}
	if tamper != nil {
		tamper(callback)
	}
	res, err = c.Get(callback.String())
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ = io.ReadAll(res.Body)
	return adminReply{status: res.StatusCode, header: res.Header, body: string(body)}, c
}

func (s *ssoSite) staffCount() int {
	s.t.Helper()
	ms, err := s.staff.List(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return len(ms)
}

func TestSSO_SignsInAMappedPerson(t *testing.T) {
	s := newSSOSite(t, "")
	if r := s.get("/admin/login"); !strings.Contains(r.body, `href="/admin/oidc/login?next=`) {
		t.Fatal("the login page offers no single sign-on")
	}
	s.op.SignInAs(oidctest.User{Email: "Ana@Example.org", Name: "Ana López", Groups: []string{"staff", "press-editors", "press-publishers"}})
	r, c := s.flow(nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/releases" {
		t.Fatalf("callback: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	res, err := c.Get(s.srv.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Ana López · publisher") {
		t.Fatalf("dashboard after sign-on: %d", res.StatusCode)
	}
	m, err := s.staff.ByEmail(context.Background(), "ana@example.org")
	if err != nil || m.Role != "publisher" || m.HasPassword || m.LastLoginAt == nil {
		t.Fatalf("account: %+v %v", m, err)
	}
	// Later, in the editors' group only: the role follows the groups.
	s.op.SignInAs(oidctest.User{Email: "ana@example.org", Groups: []string{"press-editors"}})
	if r, _ := s.flow(nil); r.status != http.StatusSeeOther {
		t.Fatalf("second sign-on: %d", r.status)
	}
	if m, _ := s.staff.ByEmail(context.Background(), "ana@example.org"); m.Role != "editor" {
		t.Fatalf("role after the group change: %s", m.Role)
	}
	entries, _ := s.db.ListAudit(context.Background(), store.AuditQuery{})
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "login.success staff.update login.success staff.create" {
		t.Fatalf("audit: %v", actions)
	}
}

func TestSSO_Refusals(t *testing.T) {
	s := newSSOSite(t, "")
	s.op.SignInAs(oidctest.User{Email: "ana@example.org", Groups: []string{"press-publishers"}})
	for _, tc := range []struct {
		name   string
		tamper oidctest.Tamper
		url    func(*url.URL)
		status int
		msg    string
	}{
		{"wrong state", oidctest.Tamper{}, func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged"+q.Get("state"))
			u.RawQuery = q.Encode()
		}, http.StatusBadRequest, "does not match the one started here"},
		{"wrong nonce", oidctest.Tamper{Nonce: "replayed-nonce"}, nil, http.StatusUnauthorized, "does not match this sign-in"},
		{"wrong audience", oidctest.Tamper{ClientID: "another-app"}, nil, http.StatusUnauthorized, "could not be verified"},
		{"expired ID token", oidctest.Tamper{Lifetime: -time.Minute}, nil, http.StatusUnauthorized, "could not be verified"},
		{"no code", oidctest.Tamper{}, func(u *url.URL) {
			q := u.Query()
			q.Del("code")
			u.RawQuery = q.Encode()
		}, http.StatusUnauthorized, "refused the sign-in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			s.op.SetTamper(tc.tamper)
			defer s.op.SetTamper(oidctest.Tamper{})
			r, c := s.flow(tc.url)
			if r.status != tc.status || !strings.Contains(r.body, tc.msg) {
				t.Fatalf("%d, want %d %q:\n%s", r.status, tc.status, tc.msg, r.body)
			}
			if r.header.Get("Set-Cookie") != "" && strings.Contains(r.header.Get("Set-Cookie"), adminCookie+"=") {
				t.Fatal("a session cookie was set")
			}
			if res, _ := c.Get(s.srv.URL + "/admin/"); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("signed in anyway: %d", res.StatusCode)
			}
			if n := s.staffCount(); n != 0 {
				t.Fatalf("%d staff accounts after a refusal", n)
			}
		})
	}
	s.t = t
	entries, _ := s.db.ListAudit(context.Background(), store.AuditQuery{Action: "login.failure"})
	if len(entries) != 5 || !strings.Contains(entries[0].Details, `"method":"oidc"`) {
		t.Fatalf("refusals audited: %d %v", len(entries), entries)
	}
	// Each refusal for its own reason (newest first).
	for i, why := range []string{"code exchange", "token is expired", "expected audience", "nonce mismatch", "state mismatch"} {
		if !strings.Contains(entries[i].Details, why) {
			t.Errorf("refusal %d: %s, want %q", i, entries[i].Details, why)
		}
	}
}

func TestSSO_ReplayedCallbackRefused(t *testing.T) {
	s := newSSOSite(t, "")
	s.op.SignInAs(oidctest.User{Email: "ana@example.org", Groups: []string{"press-editors"}})
	var saved string
	r, c := s.flow(func(u *url.URL) { saved = u.String() })
	if r.status != http.StatusSeeOther {
		t.Fatalf("first use: %d", r.status)
	}
	res, err := c.Get(saved)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d", res.StatusCode)
	}
}

func TestSSO_UnmappedPerson(t *testing.T) {
	s := newSSOSite(t, "")
	s.op.SignInAs(oidctest.User{Email: "intern@example.org", Groups: []string{"interns"}})
	r, _ := s.flow(nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "not in any group that has a role") {
		t.Fatalf("unmapped person: %d %s", r.status, r.body)
	}
	if n := s.staffCount(); n != 0 {
		t.Fatalf("an account was made: %d", n)
	}
	// A member who exists already keeps their role without a mapped group;
	// a disabled one is refused.
	id := s.member("old@example.org", "viewer", "a long password 1")
	s.op.SignInAs(oidctest.User{Email: "old@example.org", Groups: []string{"interns"}})
	if r, _ := s.flow(nil); r.status != http.StatusSeeOther {
		t.Fatalf("known member: %d", r.status)
	}
	if _, err := s.staff.Disable(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.flow(nil); r.status != http.StatusForbidden {
		t.Fatalf("disabled member: %d", r.status)
	}
}

func TestSSO_WrongIssuer(t *testing.T) {
	s := newSSOSite(t, "https://sso.attacker.example")
	s.op.SignInAs(oidctest.User{Email: "ana@example.org", Groups: []string{"press-publishers"}})
	r, _ := s.flow(nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "Single sign-on is unavailable") {
		t.Fatalf("provider naming another issuer: %d %s", r.status, r.body)
	}
	if s.op.Logins() != 0 || s.staffCount() != 0 {
		t.Fatal("the flow went on with a provider of the wrong issuer")
	}
}
