// Package web composes herald's HTTP front: the public site (web/public),
// the staff console (web/admin), the admin API given to it, and the
// operational endpoints (/healthz, /metrics, /static/), all behind the
// middleware of web/ui. It owns no page; cmd/herald calls New.
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"herald/audit"
	"herald/dispatch"
	"herald/feeds"
	"herald/media"
	"herald/releases"
	"herald/sources"
	"herald/staff"
	"herald/store"
	"herald/subscribers"
	"herald/web/admin"
	"herald/web/fastpath"
	"herald/web/public"
	"herald/web/ui"
	"herald/webhooks"
	"herald/websub"
)

// Pinger is the database health check.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Registrar adds routes to a mux: the admin API (api.API).
type Registrar interface {
	Register(mux *http.ServeMux)
}

// Options configures the web front.
type Options struct {
	SiteName string
	BaseURL  string
	Logger   *slog.Logger
	// AdminToken turns the staff console on; with it, Secret signs its
	// sessions and Timezone is its default zone (HERALD_TZ).
	AdminToken string
	Secret     []byte
	Timezone   string
	// FormOrigins (HERALD_FORM_ORIGINS) may embed the subscribe form and
	// POST to /subscribe from their pages (SPEC 11).
	FormOrigins []string
	// OIDC turns on single sign-on in the console; nil: off.
	OIDC *admin.OIDCOptions
	// TrustedProxies are the peers whose forwarding headers name the
	// client (SPEC 7.4); MetricsAllow the clients that may read /metrics
	// (MetricsAny: everyone).
	TrustedProxies []netip.Prefix
	MetricsAllow   []netip.Prefix
	MetricsAny     bool
}

// Deps are the services behind the web front.
type Deps struct {
	DB        Pinger
	Registry  prometheus.Registerer // receives the HTTP request metrics
	Metrics   http.Handler          // Prometheus text exposition
	Templates fs.FS                 // templates.Overlay(...): web/ and static/
	API       Registrar             // served under the same middleware; nil for none
	// BounceHooks serves the providers' bounce webhooks under /webhooks/
	// (SPEC 8.3); nil for none.
	BounceHooks Registrar

	// Subscribers serves the subscription pages; nil leaves them out.
	Subscribers *subscribers.Service
	Releases    *releases.Service // public pages and the console
	Store       public.Store      // lists and searches live releases
	Feeds       *feeds.Service    // feed documents; nil leaves the feed routes out
	// Fast receives the feed answers for the connection-level fast path
	// (fastpath.Listen); nil: off (HERALD_FEED_FASTPATH=false).
	Fast *fastpath.Cache
	// Limits keeps rate-limit counters in the database, shared by every
	// instance; nil keeps them in this process.
	Limits ui.Counter

	// The console's own services, needed with Options.AdminToken.
	Dispatch *dispatch.Service
	Mail     *dispatch.Composer
	Stats    *store.DB
	// Webhooks serves the console's webhooks page; nil leaves it out.
	Webhooks *webhooks.Service
	// Hub is the WebSub hub at POST /websub; nil leaves it out.
	Hub *websub.Hub
	// Sources serves the console's sources page; nil leaves it out.
	Sources *sources.Service
	// Staff signs members in to the console; Audit records sign-ins.
	Staff *staff.Service
	Audit *audit.Recorder
	// Media serves /media/ and the console's media editor; nil leaves
	// them out.
	Media *media.Service
}

// New builds every route and returns the handler of `herald serve`: the
// client's address (behind trusted proxies), request metrics, panic
// recovery, security headers, then the routes.
func New(opts Options, deps Deps) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	static, err := ui.LoadStatic(deps.Templates)
	if err != nil {
		return nil, err
	}
	site, err := public.New(public.Options{SiteName: opts.SiteName, BaseURL: opts.BaseURL, Logger: opts.Logger, FormOrigins: opts.FormOrigins, Secret: opts.Secret}, public.Deps{
		Templates: deps.Templates, Static: static, Subscribers: deps.Subscribers,
		Releases: deps.Releases, Store: deps.Store, Feeds: deps.Feeds, Limits: deps.Limits, Hub: deps.Hub, Fast: deps.Fast,
		Media: mediaFiles(deps.Media),
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz(deps.DB, opts.Logger))
	allow := opts.MetricsAllow
	if allow == nil {
		allow = loopback // SPEC 7.4's default
	}
	mux.Handle("GET /metrics", ui.AllowClients(allow, opts.MetricsAny, deps.Metrics))
	mux.Handle("GET /static/", static)
	site.Register(mux)
	if opts.AdminToken != "" {
		console, err := admin.New(admin.Options{SiteName: opts.SiteName, BaseURL: opts.BaseURL, Logger: opts.Logger,
			Token: opts.AdminToken, Secret: opts.Secret, Timezone: opts.Timezone, FormOrigins: opts.FormOrigins, OIDC: opts.OIDC},
			admin.Deps{Templates: deps.Templates, Static: static, Releases: deps.Releases, Subscribers: deps.Subscribers,
				Dispatch: deps.Dispatch, Mail: deps.Mail, DB: deps.Stats, Pages: site, Webhooks: deps.Webhooks, Sources: deps.Sources,
				Staff: deps.Staff, Audit: deps.Audit, AuditLog: deps.Stats, Media: deps.Media})
		if err != nil {
			return nil, err
		}
		console.Register(mux)
	}
	if deps.API != nil {
		deps.API.Register(mux)
	}
	if deps.BounceHooks != nil {
		deps.BounceHooks.Register(mux)
	}
	metrics := ui.NewMetrics(deps.Registry, opts.Logger)
	if deps.Fast != nil {
		// Requests answered on the fast path count as if net/http had.
		deps.Fast.SetObserver(metrics.Observe)
	}
	h := metrics.Instrument(ui.Recover(opts.Logger, ui.SecurityHeaders(mux)))
	return ui.ClientIPs(opts.TrustedProxies)(h), nil
}

// mediaFiles keeps a nil service a nil interface (no /media/ routes).
func mediaFiles(m *media.Service) public.MediaFiles {
	if m == nil {
		return nil
	}
	return m
}

// loopback is the default of HERALD_METRICS_ALLOW: 127.0.0.0/8 and ::1.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// healthz answers GET /healthz: "ok" when the database answers (SPEC 3),
// else 503 with the reason on one line.
func healthz(db Pinger, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := db.Ping(r.Context()); err != nil {
			log.Error("health check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			reason, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "store: "), "\n")
			_, _ = w.Write([]byte("database unavailable: " + reason + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
}
