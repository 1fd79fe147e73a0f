package ui

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SecurityHeaders sets the headers every response carries (SPEC 3): a
// restrictive CSP, nosniff, and no framing. Pages that need more (a script
// of their own) override Content-Security-Policy.
//
// The values are shared slices assigned under canonical keys, which spares
// every request four key canonicalizations and allocations (this runs on
// each feed poll). Handlers replace a value with Header().Set, as usual;
// they must not write into the shared slices (h[k][0] = ...).
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = hdrCSP
		h["X-Content-Type-Options"] = hdrNosniff
		h["X-Frame-Options"] = hdrDeny
		h["Referrer-Policy"] = hdrReferrer
		next.ServeHTTP(w, r)
	})
}

// Shared values of the security headers; see SecurityHeaders.
var (
	hdrCSP      = []string{DefaultCSP}
	hdrNosniff  = []string{"nosniff"}
	hdrDeny     = []string{"DENY"}
	hdrReferrer = []string{"same-origin"}
)

// DefaultCSP allows only herald's own styles, scripts and images, no framing.
const DefaultCSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Recover answers 500 instead of dropping the connection when a handler
// panics, and logs the panic.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// httpMetrics are the request metrics: count by route and status, latency
// by route. The children of the vectors are looked up once per route and
// code and kept in copy-on-write maps, so that a request reads them with
// one atomic load instead of hashing its labels under a lock.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	mu       sync.Mutex // serializes additions to routes and codes
	routes   atomic.Pointer[map[string]*routeMetrics]
}

// routeMetrics are the metrics of one route.
type routeMetrics struct {
	name    string
	latency prometheus.Observer
	codes   atomic.Pointer[map[int]prometheus.Counter]
}

func (m *httpMetrics) route(name string) *routeMetrics {
	if rm := (*m.routes.Load())[name]; rm != nil {
		return rm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.routes.Load()
	if rm := old[name]; rm != nil {
		return rm
	}
	rm := &routeMetrics{name: name, latency: m.latency.WithLabelValues(name)}
	rm.codes.Store(&map[int]prometheus.Counter{})
	next := maps.Clone(old)
	next[name] = rm
	m.routes.Store(&next)
	return rm
}

func (m *httpMetrics) count(rm *routeMetrics, code int) {
	if c := (*rm.codes.Load())[code]; c != nil {
		c.Inc()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := (*rm.codes.Load())[code]
	if c == nil {
		c = m.requests.WithLabelValues(rm.name, strconv.Itoa(code))
		next := maps.Clone(*rm.codes.Load())
		next[code] = c
		rm.codes.Store(&next)
	}
	c.Inc()
}

// Metrics are the HTTP request metrics and the debug log of requests.
type Metrics struct {
	m     *httpMetrics
	log   *slog.Logger
	debug bool
}

// NewMetrics registers the request metrics with reg; requests are logged
// to log at debug level.
func NewMetrics(reg prometheus.Registerer, log *slog.Logger) *Metrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	m.routes.Store(&map[string]*routeMetrics{})
	reg.MustRegister(m.requests, m.latency)
	return &Metrics{m: m, log: log, debug: log.Enabled(context.Background(), slog.LevelDebug)}
}

// Observe counts one request of route (a ServeMux pattern, "unmatched"
// when none) answered with status in d, and logs it at debug level: what
// Instrument does for each request, for requests answered outside
// net/http (the feed fast path).
func (x *Metrics) Observe(method, route string, status int, d time.Duration) {
	rm := x.m.route(route)
	x.m.count(rm, status)
	rm.latency.Observe(d.Seconds())
	if x.debug {
		x.log.Debug("request", "method", method, "route", route, "status", status, "duration", d)
	}
}

// Instrument counts requests by route pattern and status, observes their
// latency, and logs each at debug level. The route is the ServeMux pattern
// that matched ("GET /feed.rss"), so labels stay few whatever the URLs.
func Instrument(reg prometheus.Registerer, log *slog.Logger, next http.Handler) http.Handler {
	return NewMetrics(reg, log).Instrument(next)
}

// Instrument is the middleware that observes every request of next.
func (x *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		x.Observe(r.Method, route, rec.status, time.Since(start))
	})
}

// statusRecorder remembers the status code; it keeps Flush and Hijack
// working (server-sent events) and exposes the writer to
// http.ResponseController.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijacking not supported")
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
