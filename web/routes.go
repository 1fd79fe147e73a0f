package web

import "net/http"

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
}
