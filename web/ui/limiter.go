package ui

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// IPLimiter is a token bucket per client IP: the rate limit of POST
// /subscribe (SPEC 3) and of failed console logins. It keeps at most
// maxLimiterEntries clients, forgetting idle ones first.
//
// Shared makes it count in the database instead, so that every instance
// of a deployment enforces one limit (SPEC 6); the local buckets then only
// stand in while the database cannot answer.
type IPLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	clients map[string]*ipClient
	shared  Counter
	name    string
}

// Counter keeps rate-limit counters where every instance sees them
// (store.DB): one event per interval, bursts of burst.
type Counter interface {
	RateLimit(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error)
	RateWait(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (time.Duration, error)
	RateTake(ctx context.Context, key string, now time.Time, interval time.Duration) error
}

// sharedTimeout bounds a counter's round trip to the database.
const sharedTimeout = 2 * time.Second

// Shared counts l's events in c under keys "name:ip" and returns l.
func (l *IPLimiter) Shared(name string, c Counter) *IPLimiter {
	l.shared, l.name = c, name
	return l
}

func (l *IPLimiter) interval() time.Duration {
	return time.Duration(float64(time.Second) / float64(l.limit))
}

func (l *IPLimiter) sharedCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), sharedTimeout)
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
	if l.shared != nil {
		ctx, cancel := l.sharedCtx()
		defer cancel()
		if ok, wait, err := l.shared.RateLimit(ctx, l.name+":"+ip, now, l.interval(), l.burst); err == nil {
			return ok, wait
		}
	}
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
	if l.shared != nil {
		ctx, cancel := l.sharedCtx()
		defer cancel()
		if wait, err := l.shared.RateWait(ctx, l.name+":"+ip, now, l.interval(), l.burst); err == nil {
			return wait
		}
	}
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
	if l.shared != nil {
		ctx, cancel := l.sharedCtx()
		defer cancel()
		if err := l.shared.RateTake(ctx, l.name+":"+ip, now, l.interval()); err == nil {
			return
		}
	}
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

// sweep forgets clients idle long enough for their bucket to be full
// again. If that frees nothing (a flood from many addresses), it forgets
// the clients that are not being held back, and only then the longest
// idle: a flood cannot empty the buckets of the clients it punishes.
func (l *IPLimiter) sweep(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	for ip, c := range l.clients {
		if now.Sub(c.seen) > refill {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) < maxLimiterEntries {
		return
	}
	for ip, c := range l.clients {
		if c.lim.TokensAt(now) >= 1 {
			delete(l.clients, ip)
		}
	}
	for len(l.clients) >= maxLimiterEntries {
		var oldest string
		var at time.Time
		for ip, c := range l.clients {
			if oldest == "" || c.seen.Before(at) {
				oldest, at = ip, c.seen
			}
		}
		delete(l.clients, oldest)
	}
}
