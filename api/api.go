// Package api is herald's admin JSON API under /api/v1 (SPEC 3, Admin API).
// Every route needs a bearer token (the admin token or a personal token)
// and the role its rule names (roles.go: one table for every route). Handlers decode requests, call
// the domain services and encode their results; one function (writeError)
// maps errors to status codes and {"error","field"} bodies.
package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"herald/audit"
	"herald/dispatch"
	"herald/media"
	"herald/releases"
	"herald/sources"
	"herald/staff"
	"herald/subscribers"
	"herald/web/ui"
	"herald/webhooks"
)

// MaxBody caps request bodies (SPEC 3: 413 over 1 MiB).
const MaxBody = 1 << 20

// Options configures the API.
type Options struct {
	AdminToken string
	BaseURL    string // for release URLs that default to herald's own page
	Logger     *slog.Logger
	// BearerLimit and BearerBurst rate-limit failed bearer tokens per
	// client IP; default a burst of 10, then one every 6 s.
	BearerLimit rate.Limit
	BearerBurst int
}

// Deps are the services the API calls.
type Deps struct {
	Releases *releases.Service
	Dispatch *dispatch.Service
	// Subscribers serves /api/v1/subscribers; nil leaves those routes out.
	Subscribers *subscribers.Service
	// Messages counts the outbox for /api/v1/stats (with Subscribers).
	Messages MessageCounter
	// Webhooks serves /api/v1/webhooks; nil leaves those routes out.
	Webhooks *webhooks.Service
	// Sources serves /api/v1/sources; nil leaves those routes out.
	Sources *sources.Service
	// Staff serves staff, tokens and /me, and authenticates personal
	// tokens; nil: only the admin token works.
	Staff *staff.Service
	// Audit serves /api/v1/audit; nil leaves it out.
	Audit AuditLog
	// Bounces serves /api/v1/bounces and the stats' bounce counts; nil
	// leaves them out.
	Bounces BounceLog
	// Media serves /api/v1/releases/{id}/media; nil leaves it out.
	Media *media.Service
	// Limits keeps the failed-token counters in the database, shared by
	// every instance; nil keeps them in this process.
	Limits ui.Counter
}

// API serves /api/v1.
type API struct {
	tokenHash   [sha256.Size]byte
	baseURL     string
	log         *slog.Logger
	releases    *releases.Service
	dispatch    *dispatch.Service
	subscribers *subscribers.Service
	messages    MessageCounter
	webhooks    *webhooks.Service
	sources     *sources.Service
	docOnce     sync.Once
	doc         map[string]any // the OpenAPI document, built on first request
	staff       *staff.Service
	audit       AuditLog
	bounces     BounceLog
	media       *media.Service
	bearers     *ui.IPLimiter // failed bearer tokens per client IP
	now         func() time.Time
}

// Defaults of the failed-token limit.
const (
	DefaultBearerLimit = rate.Limit(1.0 / 6)
	DefaultBearerBurst = 10
)

// New returns the admin API.
func New(opts Options, deps Deps) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BearerLimit <= 0 {
		opts.BearerLimit = DefaultBearerLimit
	}
	if opts.BearerBurst <= 0 {
		opts.BearerBurst = DefaultBearerBurst
	}
	a := &API{
		tokenHash:   sha256.Sum256([]byte(opts.AdminToken)),
		baseURL:     strings.TrimRight(opts.BaseURL, "/"),
		log:         opts.Logger,
		releases:    deps.Releases,
		dispatch:    deps.Dispatch,
		subscribers: deps.Subscribers,
		messages:    deps.Messages,
		webhooks:    deps.Webhooks,
		sources:     deps.Sources,
		staff:       deps.Staff,
		audit:       deps.Audit,
		bounces:     deps.Bounces,
		media:       deps.Media,
		bearers:     ui.NewIPLimiter(opts.BearerLimit, opts.BearerBurst),
		now:         time.Now,
	}
	if deps.Limits != nil {
		a.bearers.Shared("bearer", deps.Limits)
	}
	return a
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a route: it finds the principal of the bearer token (401
// without one), checks the route's rule (403 beyond one's role, before
// the handler runs, so nothing changes), puts the principal and the audit
// actor in the context, and maps the handler's error.
func (a *API) handle(rt route) http.Handler {
	if rt.rule.min == staff.RoleNone {
		panic("api: route " + rt.pattern + " has no role rule")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p, err := a.authenticate(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		need, err := rt.rule.need(r, p)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if p.Role < need {
			a.log.Info("api call beyond the caller's role", "route", rt.pattern, "role", p.Role.String(), "needs", need.String())
			writeJSON(w, http.StatusForbidden, errorBody{Error: "your role (" + p.Role.String() + ") does not allow this: it needs " + need.String()})
			return
		}
		ctx := staff.WithPrincipal(r.Context(), p)
		ctx = audit.WithActor(ctx, audit.Actor{Name: p.ActorName(), Kind: p.Kind, IP: ui.ClientIP(r)})
		if err := rt.fn(w, r.WithContext(ctx)); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// authenticate returns the request's principal: the admin token, or a
// personal token. Failures count against the client IP's limit and are
// logged; past the limit the client gets 429 without its token being
// looked at.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (staff.Principal, error) {
	ip := ui.ClientIP(r)
	now := a.now()
	if wait := a.bearers.Wait(ip, now); wait > 0 {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return staff.Principal{}, &httpError{status: http.StatusTooManyRequests,
			msg: "too many failed attempts from your network: wait " + strconv.Itoa(secs) + " seconds"}
	}
	tok, ok := bearer(r)
	if ok && a.isAdminToken(tok) {
		return staff.AdminToken, nil
	}
	if ok && a.staff != nil && staff.LooksLikeToken(tok) {
		p, err := a.staff.Authenticate(r.Context(), tok)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, staff.ErrBadToken) {
			return staff.Principal{}, err
		}
	}
	if ok {
		a.bearers.Take(ip, now)
		a.log.Warn("api call with a wrong bearer token", "ip", ip, "path", r.URL.Path)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	return staff.Principal{}, &httpError{status: http.StatusUnauthorized,
		msg: "missing, wrong, revoked or disabled token: send Authorization: Bearer <token>"}
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// isAdminToken compares in constant time (hashes of equal length, so the
// token's length does not leak either).
func (a *API) isAdminToken(tok string) bool {
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], a.tokenHash[:]) == 1
}
