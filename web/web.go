// Package web serves herald's public HTML pages, feeds and operational
// endpoints (/healthz, /metrics), and later the admin UI. It turns HTTP into
// calls on the domain services and owns security headers and sessions.
package web

import (
	"context"
	"log/slog"
	"net/http"
)

// Pinger is the database health check.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configures the web handlers.
type Options struct {
	Logger *slog.Logger
}

// Deps are the services the web handlers use.
type Deps struct {
	DB      Pinger
	Metrics http.Handler // Prometheus text exposition
}

// Web holds the public handlers.
type Web struct {
	log  *slog.Logger
	deps Deps
}

// New returns the web handlers.
func New(opts Options, deps Deps) *Web {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Web{log: opts.Logger, deps: deps}
}

func (s *Web) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.deps.DB.Ping(r.Context()); err != nil {
		s.log.Error("health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
