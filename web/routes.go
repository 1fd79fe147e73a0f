package web

import (
	"net/http"

	"herald/feeds"
)

// Register adds the public routes to mux.
func (s *Web) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.deps.Metrics)
	mux.HandleFunc("GET /static/", s.serveStatic)
	if s.deps.Subscribers != nil {
		mux.HandleFunc("GET /subscribe", s.subscribeForm)
		mux.HandleFunc("POST /subscribe", s.subscribe)
		mux.HandleFunc("GET /confirm", s.confirmPage)
		mux.HandleFunc("POST /confirm", s.confirm)
		mux.HandleFunc("GET /preferences", s.preferencesPage)
		mux.HandleFunc("POST /preferences", s.preferences)
		mux.HandleFunc("GET /unsubscribe", s.unsubscribePage)
		mux.HandleFunc("POST /unsubscribe", s.unsubscribe)
	}
	if s.deps.Releases != nil && s.deps.Store != nil {
		mux.HandleFunc("GET /{$}", s.indexPage)
		mux.HandleFunc("GET /releases/{slug}", s.releasePage)
	}
	if s.deps.Feeds != nil {
		mux.HandleFunc("GET /feed.rss", s.feed(feeds.RSS))
		mux.HandleFunc("GET /feed.atom", s.feed(feeds.Atom))
		mux.HandleFunc("GET /feed.json", s.feed(feeds.JSON))
		mux.HandleFunc("GET /feeds.opml", s.feed(feeds.OPML))
	}
	if s.admin != nil {
		s.admin.register(mux)
	}
}
