package admin

import (
	"context"
	"herald/internal/outbound"
	"herald/sources"
	"herald/webhooks"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/audit"
	"herald/dispatch"
	"herald/mailer"
	"herald/mailer/smtptest"
	"herald/media"
	"herald/releases"
	"herald/staff"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
	"herald/templates"
	"herald/web/public"
	"herald/web/ui"
)

const adminToken = "s3cret-admin-token-for-tests"

// adminSite is the public site and the console, as `herald serve` wires them, on a real
// SQLite database, served by httptest; with smtp set, a mailer delivers
// to an in-process SMTP server.
type adminSite struct {
	t       *testing.T
	db      *store.DB
	rel     *releases.Service
	subs    *subscribers.Service
	disp    *dispatch.Service
	console *Console
	srv     *httptest.Server
	client  *http.Client // keeps cookies, does not follow redirects
	smtp    *smtptest.Server
	mail    *mailer.Mailer
	hooks   *webhooks.Service
	sources *sources.Service
	staff   *staff.Service
	media   *media.Service
}

type adminSiteOpts struct {
	now     func() time.Time // default time.Now
	baseURL string           // default the test server's URL
	smtp    bool             // run a mailer against an in-process SMTP server
	burst   int              // failed logins allowed before the limit
	// oidc, given the console's base URL, configures single sign-on.
	oidc func(base string) *OIDCOptions
}

func newAdminSite(t *testing.T, o adminSiteOpts) *adminSite {
	t.Helper()
	ctx := context.Background()
	if o.now == nil {
		o.now = time.Now
	}
	db := storetest.New(t)
	var err error
	s := &adminSite{t: t, db: db}
	s.rel = releases.New(db, releases.Options{Now: o.now})
	if _, err := s.rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + s.srv.Listener.Addr().String()
	if o.baseURL != "" {
		base = o.baseURL
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	s.subs, err = subscribers.New(db, s.rel, subscribers.Options{Secret: secret, BaseURL: base, DefaultTimezone: "UTC", Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	notify := func() {}
	s.disp, err = dispatch.New(db, s.rel, dispatch.Options{DigestDaily: "0 7 * * *", DigestWeekly: "0 7 * * 1", Now: o.now,
		Notify: func() { notify() }})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := mailer.LoadTemplates(templates.Embedded(), mailer.TemplateOptions{SiteName: "Press Office", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	composer := s.disp.NewComposer(tpl, s.subs.Tokens(), base)
	if o.smtp {
		s.smtp = smtptest.New(t, smtptest.Options{})
		s.mail, err = mailer.New(db, mailer.Options{
			SMTP:     &mailer.SMTPOptions{Host: s.smtp.Host, Port: s.smtp.Port, TLS: "none"},
			From:     &mail.Address{Name: "Press Office", Address: "press@press.example.org"},
			SiteName: "Press Office", BaseURL: base, Concurrency: 2, Timeout: 5 * time.Second, Poll: 50 * time.Millisecond,
			Templates: tpl, Composers: map[string]mailer.Composer{mailer.KindAlert: composer, mailer.KindDigest: composer},
		})
		if err != nil {
			t.Fatal(err)
		}
		notify = s.mail.Notify
		mctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { s.mail.Run(mctx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
	}
	static, err := ui.LoadStatic(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	site, err := public.New(public.Options{SiteName: "Press Office", BaseURL: base},
		public.Deps{Templates: templates.Embedded(), Static: static, Subscribers: s.subs, Releases: s.rel, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	s.hooks = webhooks.New(db, outbound.New(outbound.Options{AllowPrivate: true}), webhooks.Options{Now: o.now})
	s.sources = sources.New(db, outbound.New(outbound.Options{AllowPrivate: true}), s.rel, sources.Options{Now: o.now, Audit: audit.New(db, nil)})
	s.staff = staff.New(db, staff.Options{BaseURL: base, Now: o.now, Audit: audit.New(db, nil), Notify: func() { notify() }})
	s.media = media.New(db, s.rel, media.Options{Audit: audit.New(db, nil)})
	var sso *OIDCOptions
	if o.oidc != nil {
		sso = o.oidc(base)
	}
	s.console, err = New(Options{SiteName: "Press Office", BaseURL: base, Token: adminToken, Secret: secret,
		Timezone: "Europe/Paris", Now: o.now, LoginBurst: o.burst, OIDC: sso},
		Deps{Templates: templates.Embedded(), Static: static, Releases: s.rel, Subscribers: s.subs,
			Dispatch: s.disp, DB: db, Mail: composer, Pages: site, Webhooks: s.hooks, Sources: s.sources,
			Staff: s.staff, Audit: audit.New(db, nil), AuditLog: db, Media: s.media})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", static)
	site.Register(mux)
	s.console.Register(mux)
	s.srv.Config.Handler = ui.SecurityHeaders(mux)
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	jar, _ := cookiejar.New(nil)
	s.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s
}

// adminReply is a response with its body read.
type adminReply struct {
	status int
	header http.Header
	body   string
}

func (s *adminSite) do(req *http.Request) adminReply {
	s.t.Helper()
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return adminReply{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (s *adminSite) get(path string) adminReply {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req)
}

func (s *adminSite) post(path string, form url.Values) adminReply {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

// login logs in with the admin token and returns the CSRF token of the
// dashboard's forms.
func (s *adminSite) login() string {
	s.t.Helper()
	r := s.post("/admin/login", url.Values{"token": {adminToken}, "next": {"/admin/"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		s.t.Fatalf("login: %d %s", r.status, r.header.Get("Location"))
	}
	return s.csrf("/admin/")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page's forms.
func (s *adminSite) csrf(path string) string {
	s.t.Helper()
	r := s.get(path)
	m := csrfField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		s.t.Fatalf("GET %s: %d, no CSRF token", path, r.status)
	}
	return m[1]
}

// member adds a staff member with a password and returns their id.
func (s *adminSite) member(email, role, password string) int64 {
	s.t.Helper()
	ctx := context.Background()
	m, link, err := s.staff.Create(ctx, staff.CreateInput{Email: email, Role: role})
	if err != nil {
		s.t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if _, err := s.staff.SetPassword(ctx, u.Query().Get("token"), password); err != nil {
		s.t.Fatal(err)
	}
	return m.ID
}

// loginAs signs in with a password and returns the CSRF token.
func (s *adminSite) loginAs(email, password string) string {
	s.t.Helper()
	r := s.post("/admin/login", url.Values{"email": {email}, "password": {password}, "next": {"/admin/"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		s.t.Fatalf("login as %s: %d %s", email, r.status, r.header.Get("Location"))
	}
	return s.csrf("/admin/")
}

// seed adds active subscribers directly.
func (s *adminSite) seed(subs ...store.SeedSubscriber) []int64 {
	s.t.Helper()
	ids, err := s.db.SeedSubscribers(context.Background(), subs)
	if err != nil {
		s.t.Fatal(err)
	}
	return ids
}

// release creates a release through the service.
func (s *adminSite) release(title string, mod func(*releases.Input)) store.Release {
	s.t.Helper()
	body := "First paragraph of " + title + ".\n\nMore text."
	topics := releases.List{"migration-governance"}
	in := releases.Input{Title: &title, Body: &body, Topics: &topics}
	if mod != nil {
		mod(&in)
	}
	r, err := s.rel.Create(context.Background(), in)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// newClientLike is a fresh client with its own cookies (another browser).
func newClientLike() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
