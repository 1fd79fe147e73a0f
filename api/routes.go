package api

import "net/http"

// Register adds every /api/v1 route to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/releases", a.handle(a.createRelease))
	mux.Handle("GET /api/v1/releases", a.handle(a.listReleases))
	mux.Handle("GET /api/v1/releases/{id}", a.handle(a.getRelease))
	mux.Handle("PATCH /api/v1/releases/{id}", a.handle(a.patchRelease))
	mux.Handle("DELETE /api/v1/releases/{id}", a.handle(a.deleteRelease))

	if a.dispatch != nil {
		mux.Handle("POST /api/v1/releases/{id}/alert", a.handle(a.createAlert))
		mux.Handle("GET /api/v1/alerts/{id}", a.handle(a.getAlert))
		mux.Handle("POST /api/v1/digests/{cadence}/run", a.handle(a.runDigest))
	}

	mux.Handle("GET /api/v1/taxonomy", a.handle(a.getTaxonomy))
	mux.Handle("POST /api/v1/topics", a.handle(a.addTopic))
	mux.Handle("POST /api/v1/regions", a.handle(a.addRegion))

	if a.subscribers != nil {
		mux.Handle("GET /api/v1/subscribers", a.handle(a.listSubscribers))
		mux.Handle("POST /api/v1/subscribers", a.handle(a.addSubscriber))
		mux.Handle("GET /api/v1/subscribers/{id}", a.handle(a.getSubscriber))
		mux.Handle("PATCH /api/v1/subscribers/{id}", a.handle(a.patchSubscriber))
		mux.Handle("DELETE /api/v1/subscribers/{id}", a.handle(a.deleteSubscriber))
		mux.Handle("POST /api/v1/subscribers/import", a.handle(a.importSubscribers))
		mux.Handle("GET /api/v1/subscribers/export", a.handle(a.exportSubscribers))
	}
	if a.subscribers != nil && a.messages != nil {
		mux.Handle("GET /api/v1/stats", a.handle(a.getStats))
	}

	if a.webhooks != nil {
		mux.Handle("POST /api/v1/webhooks", a.handle(a.createWebhook))
		mux.Handle("GET /api/v1/webhooks", a.handle(a.listWebhooks))
		mux.Handle("GET /api/v1/webhooks/{id}", a.handle(a.getWebhook))
		mux.Handle("PATCH /api/v1/webhooks/{id}", a.handle(a.patchWebhook))
		mux.Handle("DELETE /api/v1/webhooks/{id}", a.handle(a.deleteWebhook))
		mux.Handle("GET /api/v1/webhooks/{id}/deliveries", a.handle(a.listWebhookDeliveries))
	}
	if a.sources != nil {
		mux.Handle("POST /api/v1/sources", a.handle(a.createSource))
		mux.Handle("GET /api/v1/sources", a.handle(a.listSources))
		mux.Handle("GET /api/v1/sources/{id}", a.handle(a.getSource))
		mux.Handle("PATCH /api/v1/sources/{id}", a.handle(a.patchSource))
		mux.Handle("DELETE /api/v1/sources/{id}", a.handle(a.deleteSource))
		mux.Handle("POST /api/v1/sources/{id}/run", a.handle(a.runSource))
		mux.Handle("GET /api/v1/sources/{id}/runs", a.handle(a.listSourceRuns))
	}

	mux.Handle("/api/", a.handle(a.notFound))
}
