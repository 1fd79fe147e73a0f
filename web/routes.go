package web

import "net/http"

// Register adds the public routes to mux.
func (s *Web) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.deps.Metrics)
	mux.HandleFunc("GET /static/", s.serveStatic)
}
