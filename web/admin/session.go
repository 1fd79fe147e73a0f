package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"herald/staff"
	"herald/web/ui"
)

// Sessions are signed cookies: the expiry, a random id, the staff
// member's id and session epoch (0 and 0 for the admin token), with an
// HMAC keyed by the secret and the admin token. Logging out records the id
// in the database (every instance refuses it from then on); the member's
// row is read on every request, so that disabling them, or a new
// password, ends their sessions at once and a new role applies at once.

// adminCookie is the session cookie's name; it is sent only under /admin.
const adminCookie = "herald_admin"

// maxLoginBody caps the login form.
const maxLoginBody = 16 << 10

// session is a logged-in staff member's session.
type session struct {
	ID      string // random, base64url
	Expires time.Time
	StaffID int64 // 0: the admin token
	Epoch   int64 // the member's session epoch at sign-in
	// Who is signed in, as read from the database on this request.
	Principal staff.Principal
}

// sessionPayload is expiry (8 bytes), id (16), staff id (8), epoch (8).
const sessionPayload = 8 + 16 + 8 + 8

// newSession starts a session that ends after the TTL.
func (a *Console) newSession(p staff.Principal, epoch int64) *session {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return &session{ID: base64.RawURLEncoding.EncodeToString(id[:]), Expires: a.now().Add(a.opts.SessionTTL).Truncate(time.Second),
		StaffID: p.StaffID, Epoch: epoch, Principal: p}
}

// sign makes the cookie value: payload "." HMAC, both base64url.
func (a *Console) sign(s *session) string {
	id, _ := base64.RawURLEncoding.DecodeString(s.ID)
	payload := binary.BigEndian.AppendUint64(nil, uint64(s.Expires.Unix()))
	payload = append(payload, id...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(s.StaffID))
	payload = binary.BigEndian.AppendUint64(payload, uint64(s.Epoch))
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
	if err1 != nil || err2 != nil || len(payload) != sessionPayload || !hmac.Equal(got, a.mac("session", payload)) {
		return nil, false
	}
	s := &session{ID: base64.RawURLEncoding.EncodeToString(payload[8:24]),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0),
		StaffID: int64(binary.BigEndian.Uint64(payload[24:32])), Epoch: int64(binary.BigEndian.Uint64(payload[32:40]))}
	if !a.now().Before(s.Expires) {
		return nil, false
	}
	// Logouts are kept in the database, so that a session ended on one
	// instance is ended on all; when it cannot tell, the session is refused.
	if revoked, err := a.deps.DB.SessionRevoked(r.Context(), s.ID); err != nil || revoked {
		return nil, false
	}
	if s.StaffID == 0 {
		s.Principal = staff.AdminToken
		return s, true
	}
	if a.deps.Staff == nil {
		return nil, false
	}
	who, err := a.deps.Staff.Session(r.Context(), s.StaffID, s.Epoch)
	if err != nil {
		return nil, false
	}
	s.Principal = who
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

// checkCSRF checks that a POST comes from the console itself: Go's
// cross-origin protection (Sec-Fetch-Site, then Origin; it works behind a
// proxy that rewrites Host), then the form's csrf field or the console
// script's X-CSRF-Token header. The form is read here (at most 1 MiB and
// a little): a larger one gets 413, not "form expired".
func (a *Console) checkCSRF(w http.ResponseWriter, r *http.Request, s *session) error {
	expired := ui.NewError(http.StatusForbidden, ui.CodeForbidden,
		"This form has expired or did not come from this console. Reload the page and try again.")
	if err := a.origins.Check(r); err != nil {
		return expired
	}
	if err := parsePosted(w, r); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) && mbe.Limit == maxMediaForm {
			return ui.NewError(http.StatusRequestEntityTooLarge, ui.CodeTooLarge,
				"This file is too large: images may have at most 10 MB, PDFs 20 MB.")
		}
		if errors.As(err, &mbe) {
			return ui.NewError(http.StatusRequestEntityTooLarge, ui.CodeTooLarge,
				"This form is larger than 1 MiB. Shorten the text, or put large files elsewhere and link to them.")
		}
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The form could not be read. Please try again.")
	}
	got := r.PostForm.Get("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	want := a.csrfToken(s)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return expired
	}
	return nil
}

// tokenOK compares a submitted admin token in constant time: both sides
// are hashed first, so neither the token nor its length leaks by timing.
func (a *Console) tokenOK(tok string) bool {
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], a.tokenHash[:]) == 1
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

// parsePosted reads a posted form, at most maxEditorBody; a multipart form
// (a media upload, SPEC 10) at most maxMediaForm, its file kept in memory
// up to 32 MiB.
func parsePosted(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxMediaForm)
		return r.ParseMultipartForm(32 << 20)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxEditorBody)
	return r.ParseForm()
}
