package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"herald/dispatch"
	"herald/store"
)

// The staff console under /admin (SPEC 3, Admin UI): server-rendered pages
// on the same services as the admin API (releases, dispatch, subscribers),
// a session cookie after logging in with the admin token, a CSRF token on
// every form, and a little JavaScript (admin.js) for the live preview, the
// countdowns and the alert progress bar; every page works without it.

// AdminOptions configures the staff console.
type AdminOptions struct {
	// Token is the admin token (HERALD_ADMIN_TOKEN or the admin-token
	// file); the console is off when it is empty.
	Token string
	// Secret signs session cookies and CSRF tokens (config.Config.Secret).
	Secret []byte
	// Timezone is the default zone of the embargo time (HERALD_TZ).
	Timezone string
	// SessionTTL is how long a session lasts; default 12 h.
	SessionTTL time.Duration
	// LoginLimit and LoginBurst rate-limit failed logins per client IP;
	// default a burst of 5, then one every 20 s.
	LoginLimit rate.Limit
	LoginBurst int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// AdminDeps are the services of the staff console beyond Deps.Releases and
// Deps.Subscribers.
type AdminDeps struct {
	Dispatch *dispatch.Service  // alerts and digests
	Mail     *dispatch.Composer // renders the alert preview
	DB       *store.DB          // dashboard counts
}

// Defaults of the console.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultLoginLimit = rate.Limit(1.0 / 20)
	DefaultLoginBurst = 5
)

// adminCSP is the policy of console pages that show previews in frames.
const adminFrameCSP = DefaultCSP + "; frame-src 'self'"

// admin is the staff console.
type admin struct {
	w         *Web
	opts      AdminOptions
	log       *slog.Logger
	now       func() time.Time
	tokenHash [sha256.Size]byte
	key       []byte // HMAC key of sessions and CSRF tokens
	secure    bool   // Secure cookies: the base URL is https
	pages     map[string]*template.Template
	logins    *loginLimiter
	revoked   *revocations
	previews  *previewStore
	deps      AdminDeps
}

// EnableAdmin turns the staff console on (its routes are added by
// Register, so call this first). It needs the admin token, the secret,
// and the services: the release and subscriber services of Deps and those
// of AdminDeps.
func (s *Web) EnableAdmin(o AdminOptions, d AdminDeps) error {
	if o.Token == "" {
		return errors.New("web: the admin console needs the admin token")
	}
	if d.Dispatch == nil || d.DB == nil || d.Mail == nil || s.deps.Releases == nil || s.deps.Subscribers == nil {
		return errors.New("web: the admin console needs the release, subscriber and dispatch services")
	}
	if len(o.Secret) < 16 {
		return errors.New("web: the admin console needs a secret of at least 16 bytes")
	}
	a, err := newAdmin(s, o, d)
	if err != nil {
		return err
	}
	s.admin = a
	return nil
}

func newAdmin(s *Web, o AdminOptions, d AdminDeps) (*admin, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.LoginLimit <= 0 {
		o.LoginLimit = DefaultLoginLimit
	}
	if o.LoginBurst <= 0 {
		o.LoginBurst = DefaultLoginBurst
	}
	if o.Timezone == "" {
		o.Timezone = "UTC"
	}
	a := &admin{w: s, opts: o, log: s.log.With("area", "admin"), now: o.Now, deps: d,
		tokenHash: sha256.Sum256([]byte(o.Token)),
		secure:    strings.HasPrefix(strings.ToLower(s.opts.BaseURL), "https://"),
		logins:    newLoginLimiter(o.LoginLimit, o.LoginBurst),
		revoked:   &revocations{ids: map[string]time.Time{}},
		previews:  newPreviewStore(),
	}
	// The key depends on the token too: changing the admin token ends
	// every session.
	mac := hmac.New(sha256.New, o.Secret)
	mac.Write([]byte("herald admin session v1\x00"))
	mac.Write(a.tokenHash[:])
	a.key = mac.Sum(nil)
	var err error
	if a.pages, err = parseAdminPages(s.deps.Templates); err != nil {
		return nil, err
	}
	return a, nil
}

// parseAdminPages parses the console's pages of web/admin/ (see parseDir).
func parseAdminPages(fsys fs.FS) (map[string]*template.Template, error) {
	return parseDir(fsys, "web/admin", template.FuncMap{"t": T, "add": func(a, b int) int { return a + b }})
}

// adminPage is what the console layout needs on every page.
type adminPage struct {
	SiteName string
	Title    string
	Nav      string // the current section: dashboard | releases | subscribers
	CSS      string // herald.css
	FormCSS  string // subscribe.css: the public forms' look
	AdminCSS string
	Script   string
	// ZoneScript pre-selects the browser's time zone (shared with the
	// public forms).
	ZoneScript string
	CSRF       string // the session's CSRF token; "" on the login page
	Notice     string // a confirmation of what was just done
	Error      string // a problem with what was just asked
}

func (a *admin) page(sess *session, title, nav string) adminPage {
	p := adminPage{SiteName: a.w.opts.SiteName, Title: title, Nav: nav,
		CSS: a.w.staticURL["herald.css"], FormCSS: a.w.staticURL["subscribe.css"], AdminCSS: a.w.staticURL["admin.css"], Script: a.w.staticURL["admin.js"],
		ZoneScript: a.w.staticURL["timezone.js"]}
	if sess != nil {
		p.CSRF = a.csrfToken(sess)
	}
	return p
}

// render writes a console page; nothing is written when the template
// fails, so the error can still become a clean 500.
func (a *admin) render(w http.ResponseWriter, status int, name string, view any) error {
	t, ok := a.pages[name]
	if !ok {
		return fmt.Errorf("web: no admin page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view); err != nil {
		return fmt.Errorf("web: render admin %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// adminHeaders are the headers of every console response: never cached,
// never indexed, no Referer beyond herald itself.
func adminHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}

// adminFunc is a console handler with the caller's session; it returns
// its error for fail.
type adminFunc func(w http.ResponseWriter, r *http.Request, sess *session) error

// httpStatusError is a problem with a request, shown on the error page.
type httpStatusError struct {
	status int
	msg    string
}

func (e *httpStatusError) Error() string { return e.msg }

func notFound(what string) error {
	return &httpStatusError{status: http.StatusNotFound, msg: what + " was not found."}
}

// authed wraps a handler: it requires a valid session (GET and HEAD go to
// the login page, other methods get 403), and on POST a matching CSRF token
// (403, nothing done, otherwise).
func (a *admin) authed(fn adminFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		adminHeaders(w)
		sess, ok := a.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.fail(w, r, &httpStatusError{status: http.StatusForbidden,
				msg: "Your session has ended. Log in again, then repeat what you were doing."})
			return
		}
		if r.Method == http.MethodPost && !a.checkCSRF(w, r, sess) {
			a.fail(w, r, &httpStatusError{status: http.StatusForbidden,
				msg: "This form has expired or did not come from this console. Reload the page and try again."})
			return
		}
		if err := fn(w, r, sess); err != nil {
			a.fail(w, r, err)
		}
	}
}

// errorPageView is the data of admin/error.html.
type errorPageView struct {
	Page    adminPage
	Message string
}

// fail answers an error: its own status for request problems, 404 for a
// missing row, 500 (logged, details kept out of the page) otherwise.
func (a *admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong. The details are in the server log."
	var he *httpStatusError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.As(err, &mbe):
		status, msg = http.StatusRequestEntityTooLarge, "The form is larger than 1 MiB."
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "This item does not exist (any more)."
	default:
		a.log.Error("admin request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	if wantsJSON(r) || strings.HasSuffix(r.URL.Path, "/status") || strings.HasSuffix(r.URL.Path, "/preview") {
		writeJSONError(w, status, msg, "")
		return
	}
	sess, _ := a.session(r)
	v := errorPageView{Page: a.page(sess, http.StatusText(status), ""), Message: msg}
	if sess == nil {
		v.Page.Nav = "login"
	}
	if err := a.render(w, status, "error.html", v); err != nil {
		a.log.Error("rendering the admin error page failed", "err", err)
		http.Error(w, msg, status)
	}
}

// register adds the console's routes.
func (a *admin) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/login", a.loginPage)
	mux.HandleFunc("POST /admin/login", a.login)
	mux.HandleFunc("POST /admin/logout", a.authed(a.logout))

	mux.HandleFunc("GET /admin/{$}", a.authed(a.dashboard))
	mux.HandleFunc("GET /admin/releases", a.authed(a.releaseList))
	mux.HandleFunc("GET /admin/releases/new", a.authed(a.newRelease))
	mux.HandleFunc("POST /admin/releases", a.authed(a.saveRelease))
	mux.HandleFunc("GET /admin/releases/{id}", a.authed(a.editRelease))
	mux.HandleFunc("POST /admin/releases/{id}", a.authed(a.saveRelease))
	mux.HandleFunc("POST /admin/preview", a.authed(a.preview))
	mux.HandleFunc("GET /admin/preview/{id}/{part}", a.authed(a.previewPart))

	mux.HandleFunc("GET /admin/releases/{id}/alert", a.authed(a.alertDialog))
	mux.HandleFunc("POST /admin/releases/{id}/alert", a.authed(a.sendAlert))
	mux.HandleFunc("GET /admin/alerts/{id}", a.authed(a.alertProgress))
	mux.HandleFunc("GET /admin/alerts/{id}/status", a.authed(a.alertStatus))

	mux.HandleFunc("POST /admin/digests/{cadence}", a.authed(a.runDigest))
	mux.HandleFunc("GET /admin/subscribers.csv", a.authed(a.exportSubscribers))
	mux.HandleFunc("/admin/", a.authed(func(w http.ResponseWriter, r *http.Request, _ *session) error {
		return notFound("This page")
	}))
}
