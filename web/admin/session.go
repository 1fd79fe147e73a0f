package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herald/web/ui"
)

// Sessions are signed cookies: the expiry and a random id, with an HMAC
// (keyed by the secret and the admin token). No server-side store is
// needed; logging out revokes the id in memory until it would expire.

// adminCookie is the session cookie's name; it is sent only under /admin.
const adminCookie = "herald_admin"

// maxLoginBody caps the login form.
const maxLoginBody = 16 << 10

// session is a logged-in staff member's session.
type session struct {
	ID      string // random, base64url
	Expires time.Time
}

// newSession starts a session that ends after the TTL.
func (a *Console) newSession() *session {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return &session{ID: base64.RawURLEncoding.EncodeToString(id[:]), Expires: a.now().Add(a.opts.SessionTTL).Truncate(time.Second)}
}

// sign makes the cookie value: payload "." HMAC, both base64url.
func (a *Console) sign(s *session) string {
	id, _ := base64.RawURLEncoding.DecodeString(s.ID)
	payload := binary.BigEndian.AppendUint64(nil, uint64(s.Expires.Unix()))
	payload = append(payload, id...)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(a.mac("session", payload))
}

func (a *Console) mac(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}

// session returns the request's valid session: a cookie with a genuine
// signature, not expired and not logged out.
func (a *Console) session(r *http.Request) (*session, bool) {
	c, err := r.Cookie(adminCookie)
	if err != nil || len(c.Value) > 200 {
		return nil, false
	}
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return nil, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(payload) != 8+16 || !hmac.Equal(got, a.mac("session", payload)) {
		return nil, false
	}
	s := &session{ID: base64.RawURLEncoding.EncodeToString(payload[8:]),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)}
	if !a.now().Before(s.Expires) {
		return nil, false
	}
	// Logouts are kept in the database, so that a session ended on one
	// instance is ended on all; when it cannot tell, the session is refused.
	if revoked, err := a.deps.DB.SessionRevoked(r.Context(), s.ID); err != nil || revoked {
		return nil, false
	}
	return s, true
}

// setCookie sends the session cookie (SPEC 3: HttpOnly, SameSite=Strict;
// Secure when herald is served over https), or clears it when s is nil.
func (a *Console) setCookie(w http.ResponseWriter, s *session) {
	c := &http.Cookie{Name: adminCookie, Path: "/admin", HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode}
	if s == nil {
		c.MaxAge = -1
	} else {
		c.Value = a.sign(s)
		c.Expires = s.Expires
		c.MaxAge = int(s.Expires.Sub(a.now()).Seconds())
	}
	http.SetCookie(w, c)
}

// csrfToken is the session's form token: an HMAC of its id, so that it
// needs no storage and is worthless for any other session.
func (a *Console) csrfToken(s *session) string {
	return base64.RawURLEncoding.EncodeToString(a.mac("csrf", []byte(s.ID)))
}

// checkCSRF reads the form (at most 1 MiB and a little) and checks its
// csrf field, or the X-CSRF-Token header of the console's script, and the
// Origin header when the browser sends one.
func (a *Console) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxEditorBody)
	if err := r.ParseForm(); err != nil {
		return false
	}
	got := r.PostForm.Get("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	want := a.csrfToken(s)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// tokenOK compares a submitted admin token in constant time: both sides
// are hashed first, so neither the token nor its length leaks by timing.
func (a *Console) tokenOK(tok string) bool {
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], a.tokenHash[:]) == 1
}

// loginView is the data of admin/login.html. The token field is never
// filled in again.
type loginView struct {
	Page      adminPage
	Next      string
	LoggedOut bool
}

func (a *Console) loginPage(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := a.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return a.renderLogin(w, http.StatusOK, loginView{Next: next, LoggedOut: r.URL.Query().Has("logged_out")}, "")
}

func (a *Console) renderLogin(w http.ResponseWriter, status int, v loginView, problem string) error {
	v.Page = a.page(nil, "Log in", "login")
	v.Page.Error = problem
	return a.pages.Render(w, status, "login.html", v)
}

// login: POST /admin/login. Only failed attempts count against the
// client's limit.
func (a *Console) login(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	ip := ui.ClientIP(r)
	now := a.now()
	if wait := a.logins.Wait(ip, now); wait > 0 {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return a.renderLogin(w, http.StatusTooManyRequests, loginView{Next: "/admin/"},
			"Too many failed attempts from your network. Wait "+strconv.Itoa(secs)+" seconds, then try again.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		return a.renderLogin(w, http.StatusBadRequest, loginView{Next: "/admin/"}, "The form could not be read. Please try again.")
	}
	next := safeNext(r.PostForm.Get("next"))
	if !a.tokenOK(r.PostForm.Get("token")) {
		a.logins.Take(ip, now)
		a.log.Warn("admin login failed", "ip", ip)
		return a.renderLogin(w, http.StatusUnauthorized, loginView{Next: next},
			"That is not the admin token. It is in HERALD_ADMIN_TOKEN, or in the admin-token file of the data directory.")
	}
	s := a.newSession()
	a.setCookie(w, s)
	a.log.Info("admin logged in", "ip", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (a *Console) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := a.deps.DB.RevokeSession(r.Context(), s.ID, s.Expires, a.now()); err != nil {
		return err
	}
	a.setCookie(w, nil)
	http.Redirect(w, r, "/admin/login?logged_out=1", http.StatusSeeOther)
	return nil
}

// safeNext keeps a ?next= target only when it is a console path of this
// site (no scheme, no host, no "//" or backslash tricks).
func safeNext(next string) string {
	const home = "/admin/"
	if next == "" || len(next) > 2000 || strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "//") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return home
	}
	if u.Path != "/admin" && !strings.HasPrefix(u.Path, "/admin/") {
		return home
	}
	if u.Path == "/admin/login" {
		return home
	}
	return u.RequestURI()
}
