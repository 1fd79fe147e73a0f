package ui

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ClientIP is the client's address (r.RemoteAddr; herald trusts no
// forwarding header).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IPLimiter is a token bucket per client IP: the rate limit of POST
// /subscribe (SPEC 3) and of failed console logins. It keeps at most
// maxLimiterEntries clients, forgetting idle ones first.
type IPLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	clients map[string]*ipClient
}

type ipClient struct {
	lim  *rate.Limiter
	seen time.Time
}

const maxLimiterEntries = 10000

// NewIPLimiter allows each client burst requests at once, then limit per
// second.
func NewIPLimiter(limit rate.Limit, burst int) *IPLimiter {
	return &IPLimiter{limit: limit, burst: burst, clients: map[string]*ipClient{}}
}

// Allow takes a token of ip's bucket when it has one; if not, it reports
// how long to wait.
func (l *IPLimiter) Allow(ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(ip, now)
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Wait is how long ip must wait before it has a token; 0 when it has one.
// It takes nothing (see Take).
func (l *IPLimiter) Wait(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[ip]
	if !ok {
		return 0
	}
	tokens := c.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

// Take takes a token of ip's bucket, if it has one: a failed login counts
// against the client whether or not it was allowed to try.
func (l *IPLimiter) Take(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.client(ip, now).lim.AllowN(now, 1)
}

// client returns ip's bucket, making room for a new one if need be.
func (l *IPLimiter) client(ip string, now time.Time) *ipClient {
	c, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= maxLimiterEntries {
			l.sweep(now)
		}
		c = &ipClient{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c
}

// sweep forgets clients idle long enough for their bucket to be full again,
// or everyone if that frees nothing.
func (l *IPLimiter) sweep(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	for ip, c := range l.clients {
		if now.Sub(c.seen) > refill {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) >= maxLimiterEntries {
		clear(l.clients)
	}
}
