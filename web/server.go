package web

import (
	"log"
	"net/http"
	"time"
)

// Limits on slow clients (SPEC 12): a connection that sends its request
// headers, its body or its next request too slowly is closed, so that a
// crowd of half-sent requests cannot hold the server's connections.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 60 * time.Second
	DefaultLongBodyTimeout   = 10 * time.Minute
	DefaultIdleTimeout       = 120 * time.Second
)

// defaultLongBodyRoutes are the routes whose bodies may take
// DefaultLongBodyTimeout: imports and uploads.
func defaultLongBodyRoutes() []string {
	return []string{"POST /api/v1/subscribers/import"}
}

// ServerOptions are the HTTP server's time limits; zero values take the
// defaults above. Tests set short ones.
type ServerOptions struct {
	ReadHeaderTimeout time.Duration // from accepting a request's first byte to its last header
	BodyTimeout       time.Duration // from the handler's start to the body's last byte
	LongBodyTimeout   time.Duration // the same, for LongBodyRoutes
	LongBodyRoutes    []string      // ServeMux patterns ("POST /api/v1/subscribers/import"); nil: the subscriber import
	IdleTimeout       time.Duration // an idle keep-alive connection is closed after this
	ErrorLog          *log.Logger
}

func (o ServerOptions) withDefaults() ServerOptions {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&o.BodyTimeout, DefaultBodyTimeout)
	set(&o.LongBodyTimeout, DefaultLongBodyTimeout)
	set(&o.IdleTimeout, DefaultIdleTimeout)
	if o.LongBodyRoutes == nil {
		o.LongBodyRoutes = defaultLongBodyRoutes()
	}
	return o
}

// NewServer returns the HTTP server for handler with the limits of opts.
// The header and idle limits are http.Server's own; the body limit is set
// per request, by route (http.Server's ReadTimeout is one value for all).
func NewServer(handler http.Handler, opts ServerOptions) *http.Server {
	opts = opts.withDefaults()
	return &http.Server{
		Handler:           BodyDeadline(opts, handler),
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		ErrorLog:          opts.ErrorLog,
	}
}

// BodyDeadline gives a request with a body BodyTimeout (LongBodyTimeout on
// LongBodyRoutes) from now to send it: past that, reads of the body fail
// and the connection is closed. The deadline ends with the body: once it
// has been read to its end, net/http clears the connection's read deadline
// for its background read, so a handler working long after reading its
// body (an alert to a million subscribers) keeps its context.
func BodyDeadline(opts ServerOptions, next http.Handler) http.Handler {
	opts = opts.withDefaults()
	long := http.NewServeMux()
	for _, p := range opts.LongBodyRoutes {
		long.Handle(p, http.NotFoundHandler()) // only matched, never served
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			d := opts.BodyTimeout
			if _, pattern := long.Handler(r); pattern != "" {
				d = opts.LongBodyTimeout
			}
			// A writer without deadlines (a test recorder) has nothing to
			// enforce, so the error is not one.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}
