package fastpath

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the connection limits; use the http.Server's own.
type Options struct {
	// ReadHeaderTimeout bounds the reading of a request head, from its
	// first byte (from the accept, for a connection's first request).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection waiting for its next
	// request this long.
	IdleTimeout time.Duration
	// MaxHead is the longest request head the fast path reads (default
	// 8 KiB); a longer one goes to net/http with its own limit.
	MaxHead int
}

// Listener accepts connections from an inner listener and serves them on
// the fast path; Accept returns the connections handed to net/http:
//
//	fl := fastpath.Listen(ln, cache, opts)
//	go srv.Serve(fl)
//	...
//	srv.Shutdown(ctx) // closes fl
//	fl.Shutdown(ctx)  // waits for the fast connections
type Listener struct {
	inner   net.Listener
	cache   *Cache
	opts    Options
	dates   dateLine
	handoff chan net.Conn
	// answered and handedOff count requests answered here and
	// connections given to net/http.
	answered, handedOff atomic.Int64

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	err    error         // the inner listener's error, once it failed
	done   chan struct{} // closed by Close or when the inner listener fails
	wg     sync.WaitGroup
}

// Listen starts accepting connections from inner.
func Listen(inner net.Listener, cache *Cache, opts Options) *Listener {
	if opts.MaxHead <= 0 {
		opts.MaxHead = 8 << 10
	}
	l := &Listener{inner: inner, cache: cache, opts: opts, handoff: make(chan net.Conn),
		conns: map[*conn]struct{}{}, done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *Listener) acceptLoop() {
	var delay time.Duration
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			// Out of file descriptors and the like: wait as net/http does.
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
					continue
				case <-l.done:
					return
				}
			}
			l.mu.Lock()
			if !l.closed {
				l.err, l.closed = err, true
				close(l.done)
			}
			l.mu.Unlock()
			return
		}
		delay = 0
		c := &conn{l: l, nc: nc, start: time.Now()}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			nc.Close()
			return
		}
		l.conns[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go c.serve()
	}
}

// Accept returns the next connection handed to net/http.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.handoff:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting; fast connections waiting for a request are
// closed, those writing an answer close after it.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	for c := range l.conns {
		c.wake()
	}
	l.mu.Unlock()
	return l.inner.Close()
}

// Stats are a Listener's counts so far.
type Stats struct {
	Answered  int64 // requests answered on the fast path
	HandedOff int64 // connections given to net/http
}

// Stats returns the counts so far.
func (l *Listener) Stats() Stats {
	return Stats{Answered: l.answered.Load(), HandedOff: l.handedOff.Load()}
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Shutdown closes the listener and waits until every fast connection has
// ended, or ctx does.
func (l *Listener) Shutdown(ctx context.Context) error {
	_ = l.Close()
	ended := make(chan struct{})
	go func() { l.wg.Wait(); close(ended) }()
	select {
	case <-ended:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Listener) closing() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// release forgets c; with handoff, c's connection goes to net/http, else
// it is closed.
func (l *Listener) release(c *conn, handoff net.Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	defer l.wg.Done()
	if handoff == nil {
		c.nc.Close()
		return
	}
	l.handedOff.Add(1)
	select {
	case l.handoff <- handoff:
	case <-l.done:
		handoff.Close()
	}
}

// replayConn is a connection handed to net/http: Read returns the bytes
// the fast path read first. Its first read deadline (net/http's header
// deadline) is held to the one the fast path had set, so that a slow
// client gains no time by the handoff.
type replayConn struct {
	net.Conn
	buf     []byte
	limit   time.Time
	mu      sync.Mutex
	clamped bool
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *replayConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	if !c.clamped && !t.IsZero() {
		c.clamped = true
		if !c.limit.IsZero() && c.limit.Before(t) {
			t = c.limit
		}
	}
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

// ReadFrom keeps net/http's sendfile path.
func (c *replayConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// CloseWrite keeps net/http's graceful close.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
