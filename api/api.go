// Package api is herald's admin JSON API under /api/v1 (SPEC 3, Admin API).
// Every route needs the admin bearer token. Handlers decode requests, call
// the domain services and encode their results; one function (writeError)
// maps errors to status codes and {"error","field"} bodies.
package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"herald/dispatch"
	"herald/releases"
	"herald/sources"
	"herald/subscribers"
	"herald/webhooks"
)

// MaxBody caps request bodies (SPEC 3: 413 over 1 MiB).
const MaxBody = 1 << 20

// Options configures the API.
type Options struct {
	AdminToken string
	BaseURL    string // for release URLs that default to herald's own page
	Logger     *slog.Logger
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
	now         func() time.Time
}

// New returns the admin API.
func New(opts Options, deps Deps) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{
		tokenHash:   sha256.Sum256([]byte(opts.AdminToken)),
		baseURL:     strings.TrimRight(opts.BaseURL, "/"),
		log:         opts.Logger,
		releases:    deps.Releases,
		dispatch:    deps.Dispatch,
		subscribers: deps.Subscribers,
		messages:    deps.Messages,
		webhooks:    deps.Webhooks,
		sources:     deps.Sources,
		now:         time.Now,
	}
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc, checking the bearer token first.
func (a *API) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !a.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or wrong admin token: send Authorization: Bearer <token>"})
			return
		}
		if err := fn(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// authorized compares the bearer token in constant time (hashes of equal
// length, so the token's length does not leak either).
func (a *API) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], a.tokenHash[:]) == 1
}
