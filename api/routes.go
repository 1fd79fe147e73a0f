package api

import "net/http"

// Route is one /api/v1 route: its method and path pattern.
type Route struct {
	Method, Path string
	h            handlerFunc
}

// Routes lists every route this API serves, given its services (routes of
// a service that is nil are left out). GET /api/v1/openapi.json, which
// needs no token, is the last.
func (a *API) Routes() []Route {
	rs := []Route{
		{"POST", "/api/v1/releases", a.createRelease},
		{"GET", "/api/v1/releases", a.listReleases},
		{"GET", "/api/v1/releases/{id}", a.getRelease},
		{"PATCH", "/api/v1/releases/{id}", a.patchRelease},
		{"DELETE", "/api/v1/releases/{id}", a.deleteRelease},
		{"GET", "/api/v1/taxonomy", a.getTaxonomy},
		{"POST", "/api/v1/topics", a.addTopic},
		{"POST", "/api/v1/regions", a.addRegion},
	}
	if a.dispatch != nil {
		rs = append(rs,
			Route{"POST", "/api/v1/releases/{id}/alert", a.createAlert},
			Route{"GET", "/api/v1/alerts/{id}", a.getAlert},
			Route{"POST", "/api/v1/digests/{cadence}/run", a.runDigest})
	}
	if a.subscribers != nil {
		rs = append(rs,
			Route{"GET", "/api/v1/subscribers", a.listSubscribers},
			Route{"POST", "/api/v1/subscribers", a.addSubscriber},
			Route{"GET", "/api/v1/subscribers/{id}", a.getSubscriber},
			Route{"PATCH", "/api/v1/subscribers/{id}", a.patchSubscriber},
			Route{"DELETE", "/api/v1/subscribers/{id}", a.deleteSubscriber},
			Route{"POST", "/api/v1/subscribers/import", a.importSubscribers},
			Route{"GET", "/api/v1/subscribers/export", a.exportSubscribers})
	}
	if a.subscribers != nil && a.messages != nil {
		rs = append(rs, Route{"GET", "/api/v1/stats", a.getStats})
	}
	if a.webhooks != nil {
		rs = append(rs,
			Route{"POST", "/api/v1/webhooks", a.createWebhook},
			Route{"GET", "/api/v1/webhooks", a.listWebhooks},
			Route{"GET", "/api/v1/webhooks/{id}", a.getWebhook},
			Route{"PATCH", "/api/v1/webhooks/{id}", a.patchWebhook},
			Route{"DELETE", "/api/v1/webhooks/{id}", a.deleteWebhook},
			Route{"GET", "/api/v1/webhooks/{id}/deliveries", a.listWebhookDeliveries})
	}
	if a.sources != nil {
		rs = append(rs,
			Route{"POST", "/api/v1/sources", a.createSource},
			Route{"GET", "/api/v1/sources", a.listSources},
			Route{"GET", "/api/v1/sources/{id}", a.getSource},
			Route{"PATCH", "/api/v1/sources/{id}", a.patchSource},
			Route{"DELETE", "/api/v1/sources/{id}", a.deleteSource},
			Route{"POST", "/api/v1/sources/{id}/run", a.runSource},
			Route{"GET", "/api/v1/sources/{id}/runs", a.listSourceRuns})
	}
	return append(rs, Route{"GET", "/api/v1/openapi.json", a.openAPI})
}

// Register adds every /api/v1 route to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, r := range a.Routes() {
		h := a.handle(r.h)
		if r.h == nil || r.Path == "/api/v1/openapi.json" {
			h = a.public(a.openAPI) // the document needs no token (SPEC 9.4)
		}
		mux.Handle(r.Method+" "+r.Path, h)
	}
	mux.Handle("/api/", a.handle(a.notFound))
}

// public adapts a handler that needs no token.
func (a *API) public(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}
