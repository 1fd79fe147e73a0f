// Package admin is the staff console under /admin (SPEC 3, Admin UI):
// server-rendered pages on the same services as the admin API (releases,
// dispatch, subscribers), a session cookie after logging in with the
// admin token, a CSRF token on every form, and a little JavaScript
// (admin.js) for the live preview, the countdowns and the alert progress
// bar; every page works without it. It shares web/ui with the public site
// and renders its previews with the public site's renderer (see
// ReleasePages); the public site never imports it.
package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"herald/audit"
	"herald/dispatch"
	"herald/media"
	"herald/releases"
	"herald/sources"
	"herald/staff"
	"herald/store"
	"herald/subscribers"
	"herald/web/ui"
	"herald/webhooks"
)

// Options configures the staff console.
type Options struct {
	SiteName string
	BaseURL  string // an https URL makes the session cookie Secure
	Logger   *slog.Logger
	// Token is the admin token (HERALD_ADMIN_TOKEN or the admin-token
	// file); the console cannot run without it.
	Token string
	// Secret signs session cookies and CSRF tokens (config.Config.Secret).
	Secret []byte
	// Timezone is the default zone of the embargo time (HERALD_TZ).
	Timezone string
	// FormOrigins (HERALD_FORM_ORIGINS) are shown with the embedding
	// snippet of the dashboard.
	FormOrigins []string
	// SessionTTL is how long a session lasts; default 12 h.
	SessionTTL time.Duration
	// LoginLimit and LoginBurst rate-limit failed logins per client IP;
	// default a burst of 5, then one every 20 s.
	LoginLimit rate.Limit
	LoginBurst int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OIDC turns single sign-on on; nil: passwords and the admin token.
	OIDC *OIDCOptions
}

// ReleasePages renders a release's public page: the public site
// (public.Site), for the editor's preview.
type ReleasePages interface {
	ReleasePage(ctx context.Context, r *store.Release) ([]byte, error)
}

// Deps are the services of the staff console.
type Deps struct {
	Templates   fs.FS      // templates.Overlay(...): web/admin/
	Static      *ui.Static // hashed URLs of the stylesheets and scripts
	Releases    *releases.Service
	Subscribers *subscribers.Service
	Dispatch    *dispatch.Service  // alerts and digests
	Mail        *dispatch.Composer // renders the alert preview
	DB          *store.DB          // dashboard counts
	Pages       ReleasePages       // renders the page preview
	Webhooks    *webhooks.Service  // the webhooks page; nil leaves it out
	Sources     *sources.Service   // the sources page; nil leaves it out
	// Staff signs members in with a password; nil: only the admin token.
	Staff *staff.Service
	// Audit records sign-ins (the services record the rest); nil records
	// nothing.
	Audit *audit.Recorder
	// AuditLog reads the audit log for its page (store.DB).
	AuditLog AuditLog
	// Media adds, orders and removes a release's files in the editor;
	// nil leaves that out.
	Media *media.Service
}

// Defaults of the console.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultLoginLimit = rate.Limit(1.0 / 20)
	DefaultLoginBurst = 5
)

// adminFrameCSP is the policy of console pages that show previews in
// frames.
const adminFrameCSP = ui.DefaultCSP + "; frame-src 'self'"

// Console is the staff console.
type Console struct {
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	tokenHash [sha256.Size]byte
	key       []byte // HMAC key of sessions and CSRF tokens
	secure    bool   // Secure cookies: the base URL is https
	pages     *ui.Pages
	errs      *ui.Errors
	logins    *ui.IPLimiter // failed logins per client IP, counted in the database
	origins   *http.CrossOriginProtection
	sso       *sso // nil: no single sign-on
	deps      Deps
}

// New returns the console, parsing its templates. It needs the admin
// token, the secret, and every service of Deps.
func New(o Options, d Deps) (*Console, error) {
	if o.Token == "" {
		return nil, errors.New("web: the admin console needs the admin token")
	}
	if d.Dispatch == nil || d.DB == nil || d.Mail == nil || d.Releases == nil || d.Subscribers == nil || d.Pages == nil || d.Static == nil {
		return nil, errors.New("web: the admin console needs the release, subscriber and dispatch services")
	}
	if len(o.Secret) < 16 {
		return nil, errors.New("web: the admin console needs a secret of at least 16 bytes")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
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
	log := o.Logger.With("area", "admin")
	a := &Console{opts: o, log: log, now: o.Now, deps: d, errs: ui.NewErrors(log),
		tokenHash: sha256.Sum256([]byte(o.Token)),
		secure:    strings.HasPrefix(strings.ToLower(o.BaseURL), "https://"),
		logins:    ui.NewIPLimiter(o.LoginLimit, o.LoginBurst).Shared("login", d.DB),
		origins:   http.NewCrossOriginProtection(),
	}
	if o.OIDC != nil {
		if d.Staff == nil {
			return nil, errors.New("web: single sign-on needs the staff service")
		}
		a.sso = &sso{opts: *o.OIDC}
	}
	// The key depends on the token too: changing the admin token ends
	// every session.
	mac := hmac.New(sha256.New, o.Secret)
	mac.Write([]byte("herald admin session v1\x00"))
	mac.Write(a.tokenHash[:])
	a.key = mac.Sum(nil)
	var err error
	funcs := template.FuncMap{"t": ui.T, "add": func(a, b int) int { return a + b }, "eventList": eventList}
	if a.pages, err = ui.ParsePages(d.Templates, "web/admin", funcs); err != nil {
		return nil, err
	}
	return a, nil
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
	// Who is signed in ("" on the login pages) and their role: the
	// layout and pages show only what the role allows (SPEC 7.1).
	Who  string
	Role staff.Role
}

// CanEdit: an editor or more (drafts, previews, test copies).
func (p adminPage) CanEdit() bool { return p.Role >= staff.Editor }

// CanPublish: a publisher or more (publish, alerts, digests).
func (p adminPage) CanPublish() bool { return p.Role >= staff.Publisher }

// IsAdmin: subscribers, the audit log.
func (p adminPage) IsAdmin() bool { return p.Role >= staff.Admin }

// RoleName is the role's name for the header.
func (p adminPage) RoleName() string { return p.Role.String() }

func (a *Console) page(sess *session, title, nav string) adminPage {
	st := a.deps.Static
	p := adminPage{SiteName: a.opts.SiteName, Title: title, Nav: nav,
		CSS: st.URL("herald.css"), FormCSS: st.URL("subscribe.css"), AdminCSS: st.URL("admin.css"), Script: st.URL("admin.js"),
		ZoneScript: st.URL("timezone.js")}
	if sess != nil {
		p.CSRF = a.csrfToken(sess)
		p.Role = sess.Principal.Role
		p.Who = sess.Principal.Email
		if sess.Principal.Name != "" {
			p.Who = sess.Principal.Name
		}
		if p.Who == "" {
			p.Who = "admin token"
		}
	}
	return p
}

// adminHeaders are the headers of every console response: never cached,
// never indexed, no Referer beyond herald itself.
func adminHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}
