package admin

import (
	"net/http"
	"net/url"
	"strings"

	"herald/audit"
	"herald/releases"
	"herald/staff"
	"herald/web/ui"
)

// consoleRoute is one console route that needs a session: its pattern,
// the role it needs, and its handler. Every such route is in routes(), so
// none can go without a rule (authed panics on an empty one, and the role
// matrix test calls each as every role).
type consoleRoute struct {
	pattern string
	rule    rule
	fn      adminFunc
}

// rule is what a console route needs (SPEC 7.1): a minimum role, and
// optionally a function that raises it after reading the (parsed) form:
// editors save drafts, publishing or changing a live release needs a
// publisher.
type rule struct {
	min   staff.Role
	raise func(r *http.Request, s *session) (staff.Role, error)
}

func minRole(r staff.Role) rule { return rule{min: r} }

// routes lists every console route behind a session, with its rule.
func (a *Console) routes() []consoleRoute {
	rs := []consoleRoute{
		{"POST /admin/logout", minRole(staff.Viewer), a.logout},
		{"GET /admin/{$}", minRole(staff.Viewer), a.dashboard},
		{"GET /admin/releases", minRole(staff.Viewer), a.releaseList},
		{"GET /admin/releases/new", minRole(staff.Editor), a.newRelease},
		{"POST /admin/releases", rule{min: staff.Editor, raise: a.saveRule}, a.saveRelease},
		{"GET /admin/releases/{id}", minRole(staff.Viewer), a.editRelease},
		{"POST /admin/releases/{id}", rule{min: staff.Editor, raise: a.saveRule}, a.saveRelease},
		{"POST /admin/preview", minRole(staff.Editor), a.preview},
		{"GET /admin/preview/{id}/{part}", minRole(staff.Editor), a.previewPart},
		{"GET /admin/releases/{id}/alert", minRole(staff.Editor), a.alertDialog},
		{"POST /admin/releases/{id}/alert", rule{min: staff.Editor, raise: alertRule}, a.sendAlert},
		{"GET /admin/alerts/{id}", minRole(staff.Viewer), a.alertProgress},
		{"GET /admin/alerts/{id}/status", minRole(staff.Viewer), a.alertStatus},
		{"POST /admin/digests/{cadence}", minRole(staff.Publisher), a.runDigest},
		{"GET /admin/subscribers.csv", minRole(staff.Admin), a.exportSubscribers},
		{"GET /admin/audit", minRole(staff.Admin), a.auditPage},
		{"GET /admin/bounces", minRole(staff.Admin), a.bouncesPage},
		{"GET /admin/webhooks", minRole(staff.Admin), a.webhookList},
		{"GET /admin/sources", minRole(staff.Admin), a.sourceList},
		{"POST /admin/sources", minRole(staff.Admin), a.addSource},
		{"POST /admin/sources/{id}/run", minRole(staff.Admin), a.runSourceNow},
		{"POST /admin/sources/{id}", minRole(staff.Admin), a.editSource},
		{"/admin/", minRole(staff.Viewer), func(w http.ResponseWriter, r *http.Request, _ *session) error {
			return ui.NotFound("This page")
		}},
	}
	if a.deps.Media != nil {
		media := rule{min: staff.Editor, raise: a.mediaRule}
		rs = append(rs,
			consoleRoute{"POST /admin/releases/{id}/media", media, a.uploadMedia},
			consoleRoute{"POST /admin/releases/{id}/media/{media_id}/move", media, a.moveMedia},
			consoleRoute{"POST /admin/releases/{id}/media/{media_id}/delete", media, a.removeMedia},
		)
	}
	return rs
}

// Register adds the console's routes to mux.
func (a *Console) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/login", a.errs.Handle(a.errorPage, a.loginPage))
	mux.HandleFunc("POST /admin/login", a.errs.Handle(a.errorPage, a.login))
	// Set-password links and the reset request need no session: the link
	// is the credential, and the reset answer tells nothing.
	mux.HandleFunc("GET /admin/password", a.errs.Handle(a.errorPage, a.passwordPage))
	mux.HandleFunc("POST /admin/password", a.errs.Handle(a.errorPage, a.setPassword))
	mux.HandleFunc("GET /admin/forgot", a.errs.Handle(a.errorPage, a.forgotPage))
	mux.HandleFunc("POST /admin/forgot", a.errs.Handle(a.errorPage, a.forgot))
	a.registerSSO(mux)
	for _, rt := range a.routes() {
		mux.HandleFunc(rt.pattern, a.authed(rt.rule, rt.fn))
	}
}

// adminFunc is a console handler with the caller's session; it returns
// its error to the adapter.
type adminFunc func(w http.ResponseWriter, r *http.Request, sess *session) error

// authed wraps a handler: it requires a valid session (GET and HEAD go to
// the login page, other methods get 403), on POST a matching CSRF token
// (403, nothing done, otherwise), and the role of the route's rule (403,
// before the handler runs, so nothing changes). It puts the principal and
// the audit actor in the request's context.
func (a *Console) authed(ru rule, fn adminFunc) http.HandlerFunc {
	if ru.min == staff.RoleNone {
		panic("admin: a console route has no role rule")
	}
	return a.errs.Handle(a.errorPage, func(w http.ResponseWriter, r *http.Request) error {
		adminHeaders(w)
		sess, ok := a.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return nil
			}
			return ui.NewError(http.StatusForbidden, ui.CodeForbidden,
				"Your session has ended. Log in again, then repeat what you were doing.")
		}
		if r.Method == http.MethodPost {
			if err := a.checkCSRF(w, r, sess); err != nil {
				return err
			}
		}
		need := ru.min
		if ru.raise != nil {
			got, err := ru.raise(r, sess)
			if err != nil {
				return err
			}
			need = max(need, got)
		}
		p := sess.Principal
		if p.Role < need {
			a.log.Info("console action beyond the member's role", "path", r.URL.Path, "role", p.Role.String(), "needs", need.String())
			return ui.NewError(http.StatusForbidden, ui.CodeForbidden,
				"Your role ("+p.Role.String()+") does not allow this: it needs "+need.String()+". Ask an administrator if you need it.")
		}
		ctx := staff.WithPrincipal(r.Context(), p)
		ctx = audit.WithActor(ctx, audit.Actor{Name: p.ActorName(), Kind: p.Kind, IP: ui.ClientIP(r)})
		return fn(w, r.WithContext(ctx), sess)
	})
}

// saveRule: a draft saved as a draft needs an editor; publishing,
// scheduling, or changing a release that is not a draft needs a
// publisher. A preview changes nothing and needs an editor.
func (a *Console) saveRule(r *http.Request, _ *session) (staff.Role, error) {
	if r.PostForm.Get("action") == "preview" {
		return staff.Editor, nil
	}
	if strings.TrimSpace(r.PostForm.Get("status")) != releases.StatusDraft {
		return staff.Publisher, nil
	}
	if r.PathValue("id") == "" {
		return staff.Editor, nil
	}
	id, err := releaseID(r)
	if err != nil {
		return staff.Editor, nil // the handler answers 404
	}
	rel, err := a.deps.Releases.Get(r.Context(), id)
	if err != nil || rel.Status == releases.StatusDraft {
		return staff.Editor, nil
	}
	return staff.Publisher, nil
}

// alertRule: a test copy to one's own address needs an editor; anything
// else (the alert itself, a copy to someone else) a publisher.
func alertRule(r *http.Request, s *session) (staff.Role, error) {
	to := strings.TrimSpace(r.PostForm.Get("test_to"))
	if r.PostForm.Get("action") == "test" && to != "" && s.Principal.Email != "" && strings.EqualFold(to, s.Principal.Email) {
		return staff.Editor, nil
	}
	return staff.Publisher, nil
}

// errorPageView is the data of admin/error.html.
type errorPageView struct {
	Page    adminPage
	Message string
}

// errorPage is the console's responder (ui/errors.go): the error page, or
// JSON for the script's status and preview requests.
func (a *Console) errorPage(w http.ResponseWriter, r *http.Request, e *ui.Error) {
	if ui.WantsJSON(r) || strings.HasSuffix(r.URL.Path, "/status") || strings.HasSuffix(r.URL.Path, "/preview") {
		ui.JSON(w, r, e)
		return
	}
	sess, _ := a.session(r)
	v := errorPageView{Page: a.page(sess, http.StatusText(e.Status), ""), Message: e.Msg}
	if sess == nil {
		v.Page.Nav = "login"
	}
	if err := a.pages.Render(w, e.Status, "error.html", v); err != nil {
		a.log.Error("rendering the admin error page failed", "err", err)
		http.Error(w, e.Msg, e.Status)
	}
}
