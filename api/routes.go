package api

import (
	"net/http"
	"strings"

	"herald/staff"
)

// route is one /api/v1 route: its pattern, the role it needs, and its
// handler. Every route is in routes(), and Register adds only those, so
// a route cannot exist without a rule (handle panics on an empty one, and
// the role matrix test calls each route as every kind of caller).
type route struct {
	pattern string
	rule    rule
	fn      handlerFunc
}

// routes lists every /api/v1 route with its rule (SPEC 7.1).
func (a *API) routes() []route {
	rs := []route{
		{"POST /api/v1/releases", releaseCreateRule, a.createRelease},
		{"GET /api/v1/releases", minRole(staff.Viewer), a.listReleases},
		{"GET /api/v1/releases/{id}", minRole(staff.Viewer), a.getRelease},
		{"PATCH /api/v1/releases/{id}", a.releaseChangeRule(), a.patchRelease},
		{"DELETE /api/v1/releases/{id}", a.releaseChangeRule(), a.deleteRelease},

		{"GET /api/v1/taxonomy", minRole(staff.Viewer), a.getTaxonomy},
		{"POST /api/v1/topics", minRole(staff.Admin), a.addTopic},
		{"POST /api/v1/regions", minRole(staff.Admin), a.addRegion},

		{"GET /api/v1/me", minRole(staff.Viewer), a.me},
	}
	if a.media != nil {
		// Media change what a release shows: the rule of its edits
		// (an editor for a draft, a publisher for a live release).
		rs = append(rs,
			route{"POST /api/v1/releases/{id}/media", a.releaseChangeRule(), a.uploadMedia},
			route{"DELETE /api/v1/releases/{id}/media/{media_id}", a.releaseChangeRule(), a.deleteMedia},
		)
	}
	if a.dispatch != nil {
		rs = append(rs,
			route{"POST /api/v1/releases/{id}/alert", alertRule, a.createAlert},
			route{"GET /api/v1/alerts/{id}", minRole(staff.Viewer), a.getAlert},
			route{"POST /api/v1/digests/{cadence}/run", minRole(staff.Publisher), a.runDigest},
		)
	}
	if a.subscribers != nil {
		rs = append(rs,
			route{"GET /api/v1/subscribers", minRole(staff.Admin), a.listSubscribers},
			route{"POST /api/v1/subscribers", minRole(staff.Admin), a.addSubscriber},
			route{"GET /api/v1/subscribers/{id}", minRole(staff.Admin), a.getSubscriber},
			route{"PATCH /api/v1/subscribers/{id}", minRole(staff.Admin), a.patchSubscriber},
			route{"DELETE /api/v1/subscribers/{id}", minRole(staff.Admin), a.deleteSubscriber},
			route{"POST /api/v1/subscribers/import", minRole(staff.Admin), a.importSubscribers},
			route{"GET /api/v1/subscribers/export", minRole(staff.Admin), a.exportSubscribers},
		)
	}
	if a.subscribers != nil && a.messages != nil {
		rs = append(rs, route{"GET /api/v1/stats", minRole(staff.Viewer), a.getStats})
	}
	if a.staff != nil {
		rs = append(rs,
			route{"GET /api/v1/staff", minRole(staff.Admin), a.listStaff},
			route{"POST /api/v1/staff", minRole(staff.Admin), a.createStaff},
			route{"GET /api/v1/staff/{id}", minRole(staff.Admin), a.getStaff},
			route{"PATCH /api/v1/staff/{id}", minRole(staff.Admin), a.patchStaff},
			route{"DELETE /api/v1/staff/{id}", minRole(staff.Admin), a.deleteStaff},
			// Anyone may make, list and revoke their own tokens; the
			// service keeps each to its maker's role and tokens.
			route{"POST /api/v1/tokens", minRole(staff.Viewer), a.createToken},
			route{"GET /api/v1/tokens", minRole(staff.Viewer), a.listTokens},
			route{"DELETE /api/v1/tokens/{id}", minRole(staff.Viewer), a.deleteToken},
		)
	}
	if a.webhooks != nil {
		rs = append(rs,
			route{"POST /api/v1/webhooks", minRole(staff.Admin), a.createWebhook},
			route{"GET /api/v1/webhooks", minRole(staff.Admin), a.listWebhooks},
			route{"GET /api/v1/webhooks/{id}", minRole(staff.Admin), a.getWebhook},
			route{"PATCH /api/v1/webhooks/{id}", minRole(staff.Admin), a.patchWebhook},
			route{"DELETE /api/v1/webhooks/{id}", minRole(staff.Admin), a.deleteWebhook},
			route{"GET /api/v1/webhooks/{id}/deliveries", minRole(staff.Admin), a.listWebhookDeliveries},
		)
	}
	if a.sources != nil {
		rs = append(rs,
			route{"POST /api/v1/sources", minRole(staff.Admin), a.createSource},
			route{"GET /api/v1/sources", minRole(staff.Admin), a.listSources},
			route{"GET /api/v1/sources/{id}", minRole(staff.Admin), a.getSource},
			route{"PATCH /api/v1/sources/{id}", minRole(staff.Admin), a.patchSource},
			route{"DELETE /api/v1/sources/{id}", minRole(staff.Admin), a.deleteSource},
			route{"POST /api/v1/sources/{id}/run", minRole(staff.Admin), a.runSource},
			route{"GET /api/v1/sources/{id}/runs", minRole(staff.Admin), a.listSourceRuns},
		)
	}
	if a.audit != nil {
		rs = append(rs,
			route{"GET /api/v1/audit", minRole(staff.Admin), a.listAudit},
			route{"GET /api/v1/audit.csv", minRole(staff.Admin), a.exportAudit},
		)
	}
	if a.bounces != nil {
		rs = append(rs, route{"GET /api/v1/bounces", minRole(staff.Admin), a.listBounces})
	}
	// Unknown routes answer 404 to any caller (after authentication, so
	// that the API's shape is not shown to strangers).
	return append(rs, route{"/api/", minRole(staff.Viewer), a.notFound})
}

// openAPIPath is the OpenAPI document's route, the one that needs no token
// (SPEC 9.4).
const openAPIPath = "/api/v1/openapi.json"

// Route is one /api/v1 route as the OpenAPI document sees it.
type Route struct {
	Method, Path string
}

// Routes lists every route this API serves, given its services (routes of
// a service that is nil are left out), the OpenAPI document's last.
func (a *API) Routes() []Route {
	var out []Route
	for _, rt := range a.routes() {
		if method, path, ok := strings.Cut(rt.pattern, " "); ok {
			out = append(out, Route{method, path})
		}
	}
	return append(out, Route{"GET", openAPIPath})
}

// Register adds every /api/v1 route to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		mux.Handle(rt.pattern, a.handle(rt))
	}
	mux.Handle("GET "+openAPIPath, a.public(a.openAPI))
}

// public adapts a handler that needs no token.
func (a *API) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}
