// Package web serves herald's public HTML pages, feeds and operational
// endpoints (/healthz, /metrics), and later the admin UI. It turns HTTP into
// calls on the domain services and owns security headers and sessions.
package web

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"golang.org/x/time/rate"

	"herald/feeds"
	"herald/releases"
	"herald/subscribers"
)

// Pinger is the database health check.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configures the web handlers.
type Options struct {
	SiteName string
	BaseURL  string
	Logger   *slog.Logger
	// SubscribeLimit and SubscribeBurst rate-limit POST /subscribe per
	// client IP; zero takes DefaultSubscribeLimit and DefaultSubscribeBurst.
	SubscribeLimit rate.Limit
	SubscribeBurst int
}

// Deps are the services the web handlers use.
type Deps struct {
	DB        Pinger
	Metrics   http.Handler // Prometheus text exposition
	Templates fs.FS        // templates.Overlay(...): web/ and static/
	// Subscribers serves /subscribe, /confirm, /preferences, /unsubscribe;
	// nil leaves those routes out.
	Subscribers *subscribers.Service

	Releases *releases.Service // public pages: live releases, taxonomy
	Store    feeds.Lister      // lists live releases for the index page
	Feeds    *feeds.Service    // feed documents; nil leaves the feed routes out
}

// Web holds the public handlers.
type Web struct {
	opts      Options
	log       *slog.Logger
	deps      Deps
	pages     *pages
	static    map[string]staticFile
	staticURL map[string]string
	subLimit  *ipLimiter
	index     indexCache
	admin     *admin // the staff console; nil until EnableAdmin
}

// New returns the web handlers, parsing every page template; an error names
// the template that does not parse.
func New(opts Options, deps Deps) (*Web, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Web{opts: opts, log: opts.Logger, deps: deps}
	s.subLimit = newIPLimiter(opts.SubscribeLimit, opts.SubscribeBurst)
	funcs := template.FuncMap{"t": T}
	var err error
	if s.pages, err = parsePages(deps.Templates, funcs); err != nil {
		return nil, err
	}
	if s.static, s.staticURL, err = loadStatic(deps.Templates); err != nil {
		return nil, err
	}
	return s, nil
}

// meta is the layout data of a page in lang.
func (s *Web) meta(lang, title string) PageMeta {
	return PageMeta{Lang: lang, SiteName: s.opts.SiteName, Title: title, CSS: s.staticURL["herald.css"]}
}

// errorView is the data of error.html.
type errorView struct {
	Page    PageMeta
	Title   string
	Message string
}

// renderError answers an HTML error page.
func (s *Web) renderError(w http.ResponseWriter, status int, title, msg string) {
	if err := s.pages.render(w, status, "error.html", errorView{Page: s.meta("en", title), Title: title, Message: msg}); err != nil {
		s.log.Error("rendering the error page failed", "err", err)
		http.Error(w, fmt.Sprintf("%d %s", status, title), status)
	}
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
	_, _ = w.Write([]byte("ok"))
}
