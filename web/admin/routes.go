package admin

import (
	"net/http"
	"net/url"
	"strings"

	"herald/web/ui"
)

// Register adds the console's routes to mux.
func (a *Console) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/login", a.errs.Handle(a.errorPage, a.loginPage))
	mux.HandleFunc("POST /admin/login", a.errs.Handle(a.errorPage, a.login))
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
	mux.HandleFunc("GET /admin/webhooks", a.authed(a.webhookList))
	mux.HandleFunc("GET /admin/sources", a.authed(a.sourceList))
	mux.HandleFunc("POST /admin/sources", a.authed(a.addSource))
	mux.HandleFunc("POST /admin/sources/{id}/run", a.authed(a.runSourceNow))
	mux.HandleFunc("/admin/", a.authed(func(w http.ResponseWriter, r *http.Request, _ *session) error {
		return ui.NotFound("This page")
	}))
}

// adminFunc is a console handler with the caller's session; it returns
// its error to the adapter.
type adminFunc func(w http.ResponseWriter, r *http.Request, sess *session) error

// authed wraps a handler: it requires a valid session (GET and HEAD go to
// the login page, other methods get 403), and on POST a matching CSRF token
// (403, nothing done, otherwise).
func (a *Console) authed(fn adminFunc) http.HandlerFunc {
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
		if r.Method == http.MethodPost && !a.checkCSRF(w, r, sess) {
			return ui.NewError(http.StatusForbidden, ui.CodeForbidden,
				"This form has expired or did not come from this console. Reload the page and try again.")
		}
		return fn(w, r, sess)
	})
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
