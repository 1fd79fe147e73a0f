package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"herald/audit"
	"herald/staff"
	"herald/web/ui"
)

// loginView is the data of admin/login.html. The password and token
// fields are never filled in again.
type loginView struct {
	Page      adminPage
	Next      string
	Email     string
	LoggedOut bool
	Reset     bool // a password was just set
	SSO       bool // single sign-on is configured
}

func (a *Console) loginPage(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := a.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	q := r.URL.Query()
	return a.renderLogin(w, http.StatusOK, loginView{Next: next, LoggedOut: q.Has("logged_out"), Reset: q.Has("password_set")}, "")
}

func (a *Console) renderLogin(w http.ResponseWriter, status int, v loginView, problem string) error {
	v.Page = a.page(nil, "Log in", "login")
	v.Page.Error = problem
	v.SSO = a.ssoEnabled()
	return a.pages.Render(w, status, "login.html", v)
}

// login: POST /admin/login, with email and password, or with the admin
// token (the break-glass admin, SPEC 7.2). Only failed attempts count
// against the client's limit; each is logged and audited.
func (a *Console) login(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	ip := ui.ClientIP(r)
	now := a.now()
	ctx := audit.WithActor(r.Context(), audit.Actor{Name: "anonymous", Kind: audit.KindSystem, IP: ip})
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
	email := strings.TrimSpace(r.PostForm.Get("email"))
	var p staff.Principal
	var epoch int64
	var problem string
	switch {
	case r.PostForm.Has("token"):
		if a.tokenOK(r.PostForm.Get("token")) {
			p = staff.AdminToken
		} else {
			problem = "That is not the admin token. It is in HERALD_ADMIN_TOKEN, or in the admin-token file of the data directory."
		}
	case a.deps.Staff == nil:
		problem = "Sign-in with a password is not available; use the admin token."
	default:
		var err error
		p, epoch, err = a.deps.Staff.Login(r.Context(), email, r.PostForm.Get("password"))
		if errors.Is(err, staff.ErrBadLogin) {
			problem = "Wrong email address or password. If you forgot your password, ask for a new one below."
		} else if err != nil {
			return err
		}
	}
	if problem != "" {
		a.logins.Take(ip, now)
		a.log.Warn("console login failed", "ip", ip)
		a.deps.Audit.Record(ctx, audit.Entry{Action: "login.failure", Target: loginTarget(email, r),
			Details: map[string]any{"method": loginMethod(r)}})
		return a.renderLogin(w, http.StatusUnauthorized, loginView{Next: next, Email: shownLong(email)}, problem)
	}
	return a.startSession(w, r, p, epoch, next, loginMethod(r))
}

func loginMethod(r *http.Request) string {
	if r.PostForm.Has("token") {
		return "admin-token"
	}
	return "password"
}

// loginTarget names who tried to sign in, for the audit log.
func loginTarget(email string, r *http.Request) string {
	if r.PostForm.Has("token") {
		return "admin-token"
	}
	return "staff:" + clipText(email, 120)
}

func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// startSession signs p in: the cookie, the log, the audit entry.
func (a *Console) startSession(w http.ResponseWriter, r *http.Request, p staff.Principal, epoch int64, next, method string) error {
	ip := ui.ClientIP(r)
	s := a.newSession(p, epoch)
	a.setCookie(w, s)
	a.log.Info("console login", "ip", ip, "kind", p.Kind, "staff_id", p.StaffID, "method", method)
	ctx := audit.WithActor(r.Context(), audit.Actor{Name: p.ActorName(), Kind: p.Kind, IP: ip})
	a.deps.Audit.Record(ctx, audit.Entry{Action: "login.success", Target: principalTarget(p), Details: map[string]any{"method": method}})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func principalTarget(p staff.Principal) string {
	if p.StaffID == 0 {
		return "admin-token"
	}
	return "staff:" + strconv.FormatInt(p.StaffID, 10)
}

// passwordView is the data of admin/password.html: choose a password
// with a link from an invitation or reset mail.
type passwordView struct {
	Page    adminPage
	Token   string
	Problem string // why the link cannot be used
}

// passwordPage: GET /admin/password?token=T shows the form, or why the
// link no longer works.
func (a *Console) passwordPage(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	if a.deps.Staff == nil {
		return ui.NotFound("This page")
	}
	tok := r.URL.Query().Get("token")
	v := passwordView{Page: a.page(nil, "Choose your password", "login"), Token: tok}
	status := http.StatusOK
	if err := a.deps.Staff.LinkState(r.Context(), tok); err != nil {
		v.Problem, status = linkProblem(err), linkStatus(err)
		if status == 0 {
			return err
		}
	}
	return a.pages.Render(w, status, "password.html", v)
}

func linkProblem(err error) string {
	switch {
	case errors.Is(err, staff.ErrLinkExpired):
		return "This link has expired: links work for 72 hours. Ask for a new one on the login page (\"Forgot your password?\")."
	case errors.Is(err, staff.ErrLinkUsed):
		return "This link was used already: each link works once. Ask for a new one on the login page if you need to."
	}
	return "This link is not valid. Copy the whole link from the mail, or ask for a new one on the login page."
}

func linkStatus(err error) int {
	switch {
	case errors.Is(err, staff.ErrLinkExpired):
		return http.StatusGone
	case errors.Is(err, staff.ErrLinkUsed):
		return http.StatusGone
	case errors.Is(err, staff.ErrLinkInvalid):
		return http.StatusBadRequest
	}
	return 0
}

// setPassword: POST /admin/password?token=T. The link is the credential
// (no session, so no CSRF token); it works once.
func (a *Console) setPassword(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	if a.deps.Staff == nil {
		return ui.NotFound("This page")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The form could not be read. Please try again.")
	}
	tok := r.URL.Query().Get("token")
	v := passwordView{Page: a.page(nil, "Choose your password", "login"), Token: tok}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		v.Page.Error = "The two passwords differ. Type the same password twice."
		return a.pages.Render(w, http.StatusUnprocessableEntity, "password.html", v)
	}
	ctx := audit.WithActor(r.Context(), audit.Actor{Name: "anonymous", Kind: audit.KindSystem, IP: ui.ClientIP(r)})
	_, err := a.deps.Staff.SetPassword(ctx, tok, pw)
	var ve *staff.ValidationError
	switch {
	case errors.As(err, &ve):
		v.Page.Error = ve.Msg
		return a.pages.Render(w, http.StatusUnprocessableEntity, "password.html", v)
	case err != nil:
		status := linkStatus(err)
		if status == 0 {
			return err
		}
		v.Problem = linkProblem(err)
		return a.pages.Render(w, status, "password.html", v)
	}
	http.Redirect(w, r, "/admin/login?password_set=1", http.StatusSeeOther)
	return nil
}

// forgotView is the data of admin/forgot.html.
type forgotView struct {
	Page adminPage
	Sent bool
}

func (a *Console) forgotPage(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	if a.deps.Staff == nil {
		return ui.NotFound("This page")
	}
	return a.pages.Render(w, http.StatusOK, "forgot.html", forgotView{Page: a.page(nil, "Forgot your password?", "login")})
}

// forgot: POST /admin/forgot queues a reset mail when the address has an
// enabled account; the answer is the same either way (it never tells
// whether an address has an account), and it counts against the same
// per-IP limit as failed logins so it cannot be used to flood a mailbox.
func (a *Console) forgot(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	if a.deps.Staff == nil {
		return ui.NotFound("This page")
	}
	ip, now := ui.ClientIP(r), a.now()
	v := forgotView{Page: a.page(nil, "Forgot your password?", "login")}
	if wait := a.logins.Wait(ip, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		v.Page.Error = "Too many attempts from your network. Wait a little, then try again."
		return a.pages.Render(w, http.StatusTooManyRequests, "forgot.html", v)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The form could not be read. Please try again.")
	}
	a.logins.Take(ip, now)
	err := a.deps.Staff.RequestReset(r.Context(), r.PostForm.Get("email"), "en")
	var ve *staff.ValidationError
	if errors.As(err, &ve) {
		v.Page.Error = "Enter your email address, such as press@example.org."
		return a.pages.Render(w, http.StatusUnprocessableEntity, "forgot.html", v)
	}
	if err != nil {
		return err
	}
	v.Sent = true
	return a.pages.Render(w, http.StatusOK, "forgot.html", v)
}
