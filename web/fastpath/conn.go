package fastpath

import (
	"bytes"
	"net"
	"sync"
	"time"
)

// rstAvoidanceDelay is how long net/http waits between half-closing a
// connection it ends (Connection: close) and closing it, so that the
// client reads the answer before any reset; the fast path does the same.
const rstAvoidanceDelay = 500 * time.Millisecond

var aLongTimeAgo = time.Unix(1, 0)

var bufPool = sync.Pool{}

// conn is one connection while it is on the fast path.
type conn struct {
	l     *Listener
	nc    net.Conn
	start time.Time // accepted

	buf      []byte // the request bytes read: buf[r:w] is unanswered
	r, w     int
	deadline time.Time // the read deadline set

	req  Request
	ae   [4]string
	inm  [4]string
	out  []byte
	vecs [2][]byte
}

// wake makes a connection waiting for a request give up; the Listener
// calls it under its lock when closing.
func (c *conn) wake() { _ = c.nc.SetReadDeadline(aLongTimeAgo) }

func (c *conn) setDeadline(d time.Duration, from time.Time) {
	c.deadline = time.Time{}
	if d > 0 {
		c.deadline = from.Add(d)
	}
	_ = c.nc.SetReadDeadline(c.deadline)
}

// outcome of reading or parsing a request.
type outcome int

const (
	answer  outcome = iota // served by the fast path
	handoff                // to net/http, with the bytes read
	hangup                 // close: the client went away or was too slow
)

func (c *conn) serve() {
	size := c.l.opts.MaxHead
	if b, ok := bufPool.Get().(*[]byte); ok && len(*b) == size {
		c.buf = *b
	} else {
		c.buf = make([]byte, size)
	}
	var next net.Conn
	defer func() {
		b := c.buf
		c.buf = nil
		bufPool.Put(&b)
		c.l.release(c, next)
	}()
	// A connection's first request has ReadHeaderTimeout from the accept,
	// later ones IdleTimeout to begin and ReadHeaderTimeout from their first
	// byte, as in net/http.
	c.setDeadline(c.l.opts.ReadHeaderTimeout, c.start)
	for first := true; ; first = false {
		if !first {
			if c.r == c.w {
				c.r, c.w = 0, 0
				c.setDeadline(c.l.opts.IdleTimeout, time.Now())
				if c.l.closing() || !c.readMore() {
					return
				}
			}
			c.setDeadline(c.l.opts.ReadHeaderTimeout, time.Now())
		}
		switch c.one() {
		case handoff:
			next = &replayConn{Conn: c.nc, buf: bytes.Clone(c.buf[c.r:c.w]), limit: c.deadline}
			return
		case hangup:
			return
		}
		if c.l.closing() {
			return
		}
	}
}

// readMore reads into the buffer; false when nothing came.
func (c *conn) readMore() bool {
	n, err := c.nc.Read(c.buf[c.w:])
	c.w += n
	return n > 0 || err == nil
}

// one reads a request head and answers it when it can.
func (c *conn) one() outcome {
	end, o := c.readHead()
	if o != answer {
		return o
	}
	head := c.buf[c.r:end]
	target, close, ok := c.parse(head)
	if !ok {
		return handoff
	}
	e := c.l.cache.lookup(target)
	if e == nil {
		return handoff
	}
	if !e.Current() {
		c.l.cache.drop(target, e)
		return handoff
	}
	resp := e.Answer(&c.req)
	if resp == nil {
		return handoff
	}
	start := time.Now()
	c.r = end
	if !c.write(resp, start, close) {
		return hangup
	}
	c.l.cache.observed(c.req.Method, resp.Route, resp.Status, time.Since(start))
	c.l.answered.Add(1)
	if close {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		time.Sleep(rstAvoidanceDelay)
		return hangup
	}
	return answer
}

// readHead reads until buf[c.r:end] is a whole request head ending in an
// empty line. A head that is not GET or HEAD, has a line not ending in
// CRLF, or is longer than the buffer goes to net/http, as does a partial
// head when reading fails (net/http answers or closes as it would have).
func (c *conn) readHead() (end int, o outcome) {
	scanned := c.r
	for {
		p := c.buf[c.r:c.w]
		if len(p) > 0 && !plausibleStart(p) {
			return 0, handoff
		}
		for i := scanned; i < c.w; i++ {
			if c.buf[i] != '\n' {
				continue
			}
			if i == c.r || c.buf[i-1] != '\r' {
				return 0, handoff
			}
			if i-c.r >= 3 && c.buf[i-2] == '\n' {
				return i + 1, answer
			}
		}
		scanned = c.w
		if c.w == len(c.buf) {
			if c.r == 0 {
				return 0, handoff // longer than the fast path reads
			}
			n := copy(c.buf, c.buf[c.r:c.w])
			scanned -= c.r
			c.r, c.w = 0, n
		}
		n, err := c.nc.Read(c.buf[c.w:])
		c.w += n
		if err != nil && n == 0 {
			if c.w > c.r {
				return 0, handoff
			}
			return 0, hangup
		}
	}
}

// plausibleStart reports whether p may begin a GET or HEAD request.
func plausibleStart(p []byte) bool {
	for _, m := range [...]string{"GET /", "HEAD /"} {
		n := min(len(p), len(m))
		if string(p[:n]) == m[:n] {
			return true
		}
	}
	return false
}

// write sends resp: its head, the Date line, Connection: close when the
// client asked for it, the empty line and, for GET, the body.
func (c *conn) write(resp *Response, now time.Time, close bool) bool {
	out := append(c.out[:0], resp.Head...)
	out = append(out, c.l.dates.get(now)...)
	if close {
		out = append(out, "Connection: close\r\n"...)
	}
	out = append(out, "\r\n"...)
	body := resp.Body
	if c.req.Method == "HEAD" {
		body = nil
	}
	var err error
	if len(body) <= 4<<10 {
		out = append(out, body...)
		_, err = c.nc.Write(out)
	} else {
		c.vecs = [2][]byte{out, body}
		bufs := net.Buffers(c.vecs[:])
		_, err = bufs.WriteTo(c.nc)
	}
	if cap(out) <= 16<<10 {
		c.out = out
	}
	return err == nil
}
