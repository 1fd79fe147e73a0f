// Package fastpath answers the commonest request of herald's HTTP front, a
// feed reader polling a cached feed, on the connection itself, ahead of
// net/http (SPEC 13: feeds at 0.60x nginx). A Listener wraps herald's
// listener: each connection is read by a small HTTP/1.1 loop that answers a
// request from the Cache only when it is a plain GET or HEAD of a cached
// target with headers known not to change the answer; any other request
// hands the connection, with the bytes already read, to net/http for good.
//
// The Cache holds answers that the normal handlers recorded after serving
// the same target through net/http and every middleware; each Entry checks
// on every answer that its document is still current. The package knows
// nothing of feeds and imports only the standard library.
package fastpath

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Request is what the fast path read of a request: the fields that may
// change a cached answer. Its values are valid only during Entry.Answer.
type Request struct {
	Method string // GET or HEAD
	// AcceptEncoding, IfNoneMatch: every value, in order, as
	// http.Header would hold them; IfNoneMatch is nil when absent.
	AcceptEncoding []string
	IfNoneMatch    []string
	// IfModifiedSince is the first If-Modified-Since value ("" if none).
	IfModifiedSince string
}

// Response is one recorded answer.
type Response struct {
	// Head is the status line and the header lines (each ending in CRLF),
	// exactly as net/http wrote them, without the Date line and the empty
	// line that the fast path adds.
	Head   []byte
	Body   []byte // written for GET, not for HEAD
	Status int
	Route  string // the ServeMux pattern, for the request metrics
}

// Entry is the answer to one request target.
type Entry interface {
	// Current reports whether the entry still answers as net/http would.
	Current() bool
	// Answer picks the response to req, or nil when the entry cannot
	// answer it (the request then goes to net/http).
	Answer(req *Request) *Response
}

// Observer is told of every answered request: the request metrics and the
// debug log of the middleware that the fast path skips.
type Observer func(method, route string, status int, d time.Duration)

// DefaultMaxEntries bounds the targets a Cache holds.
const DefaultMaxEntries = 1024

// Cache holds an Entry per request target (path and raw query, exactly as
// the request line has them).
type Cache struct {
	max     int
	mu      sync.RWMutex
	entries map[string]Entry
	observe atomic.Pointer[Observer]
}

// NewCache returns an empty cache of at most max targets (<= 0: the
// default).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = DefaultMaxEntries
	}
	return &Cache{max: max, entries: map[string]Entry{}}
}

// SetObserver sets the function told of every fast answer.
func (c *Cache) SetObserver(fn Observer) { c.observe.Store(&fn) }

// Get returns the entry of target, nil if none.
func (c *Cache) Get(target string) Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.entries[target]
}

// Put stores the entry of target. Entries no longer current are dropped
// first, so that the cache keeps no document the feed cache has let go;
// when it is still full, it starts again empty (query spellings are
// unbounded).
func (c *Cache) Put(target string, e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, x := range c.entries {
			if !x.Current() {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[target] = e
}

func (c *Cache) lookup(target []byte) Entry {
	c.mu.RLock()
	e := c.entries[string(target)]
	c.mu.RUnlock()
	return e
}

// drop removes target's entry if it is still e.
func (c *Cache) drop(target []byte, e Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[string(target)] == e {
		delete(c.entries, string(target))
	}
}

func (c *Cache) observed(method, route string, status int, d time.Duration) {
	if fn := c.observe.Load(); fn != nil {
		(*fn)(method, route, status, d)
	}
}

// StatusLine is the status line net/http writes for code on HTTP/1.1.
func StatusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n"
}

// dateLine is the "Date: ...\r\n" line of the current second, formatted
// once per second for every connection.
type dateLine struct {
	cur atomic.Pointer[datedLine]
}

type datedLine struct {
	sec  int64
	line []byte
}

func (d *dateLine) get(now time.Time) []byte {
	sec := now.Unix()
	if x := d.cur.Load(); x != nil && x.sec == sec {
		return x.line
	}
	b := make([]byte, 0, 40)
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	d.cur.Store(&datedLine{sec: sec, line: b})
	return b
}
