package web_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"herald/web"
)

// Short limits, so that the tests take seconds; serve uses the defaults.
var testLimits = web.ServerOptions{
	ReadHeaderTimeout: 300 * time.Millisecond,
	BodyTimeout:       500 * time.Millisecond,
	LongBodyTimeout:   5 * time.Second,
	IdleTimeout:       600 * time.Millisecond,
}

// slack is how late a limit may act on a busy 2-core machine.
const slack = 1500 * time.Millisecond

// startLimited serves a small mux through web.NewServer on a real
// listener on 127.0.0.1 and returns its address.
func startLimited(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	readBody := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusRequestTimeout)
			return
		}
		fmt.Fprintf(w, "read %d", len(b))
	}
	mux.HandleFunc("POST /api/v1/releases", readBody)
	mux.HandleFunc("POST /api/v1/subscribers/import", readBody)
	// Reads its body at once, then works longer than the body limit.
	mux.HandleFunc("POST /work", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "context ended: "+r.Context().Err().Error(), http.StatusServiceUnavailable)
		case <-time.After(3 * testLimits.BodyTimeout):
			io.WriteString(w, "done")
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(mux, testLimits)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// readUntilClosed reads what the server sends until it closes the
// connection and returns it with the time that took; it fails the test when
// the server keeps the connection open for 10 s.
func readUntilClosed(t *testing.T, c net.Conn) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for 10 s (read %q)", b)
	}
	return string(b), time.Since(start)
}

func within(t *testing.T, what string, got, limit time.Duration) {
	t.Helper()
	if got < limit-50*time.Millisecond || got > limit+slack {
		t.Errorf("%s after %v, want about %v", what, got.Round(time.Millisecond), limit)
	}
}

// TestServer_HalfSentHeadersAreCut: a client that stops halfway through
// its headers is disconnected after ReadHeaderTimeout; one that finishes
// them in time is served.
func TestServer_HalfSentHeadersAreCut(t *testing.T) {
	t.Parallel()
	addr := startLimited(t)

	c := dial(t, addr)
	start := time.Now()
	write(t, c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sl") // and nothing more
	got, _ := readUntilClosed(t, c)
	within(t, "half-sent headers: connection closed", time.Since(start), testLimits.ReadHeaderTimeout)
	if strings.Contains(got, "200 OK") {
		t.Errorf("a request with half its headers was answered: %q", got)
	}

	// A slow client that finishes its headers within the limit is served.
	c = dial(t, addr)
	write(t, c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	time.Sleep(testLimits.ReadHeaderTimeout / 3)
	write(t, c, "Connection: close\r\n\r\n")
	if got, _ := readUntilClosed(t, c); !strings.HasPrefix(got, "HTTP/1.1 200 OK") || !strings.HasSuffix(got, "ok") {
		t.Errorf("headers sent within the limit: got %q, want 200 ok", got)
	}
}

// trickle sends a request whose 40-byte body arrives over 2 s (a byte every
// 50 ms): longer than the body limit, shorter than the import limit.
func trickle(t *testing.T, addr, path string) (string, time.Duration) {
	t.Helper()
	c := dial(t, addr)
	start := time.Now()
	write(t, c, "POST "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: 40\r\nConnection: close\r\n\r\n")
	for range 40 {
		if _, err := io.WriteString(c, "x"); err != nil {
			break // the server has closed the connection
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, _ := readUntilClosed(t, c)
	return got, time.Since(start)
}

// TestServer_SlowBodyIsCut: a body that stalls, or that trickles in for
// longer than BodyTimeout, is cut.
func TestServer_SlowBodyIsCut(t *testing.T) {
	t.Parallel()
	addr := startLimited(t)

	// Headers, part of the body, then nothing.
	c := dial(t, addr)
	start := time.Now()
	write(t, c, "POST /api/v1/releases HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"title\":")
	got, _ := readUntilClosed(t, c)
	within(t, "stalled body: connection closed", time.Since(start), testLimits.BodyTimeout)
	if strings.Contains(got, "\r\n\r\nread ") {
		t.Errorf("a stalled body was read to its end: %q", got)
	}

	// A body that keeps coming, but too slowly: the limit is on the whole
	// body, not on each read.
	got, took := trickle(t, addr, "/api/v1/releases")
	if strings.Contains(got, "read 40") || took > testLimits.BodyTimeout+slack {
		t.Errorf("a body trickling for 2 s was accepted (after %v): %q", took.Round(time.Millisecond), got)
	}
	if !strings.Contains(got, "408") && got != "" {
		t.Errorf("cut body: got %q, want a 408 or a closed connection", got)
	}
}

// TestServer_ImportMayTakeLonger: the same trickling body is accepted on
// the import route, whose limit is LongBodyTimeout.
func TestServer_ImportMayTakeLonger(t *testing.T) {
	t.Parallel()
	addr := startLimited(t)
	got, took := trickle(t, addr, "/api/v1/subscribers/import")
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK") || !strings.HasSuffix(got, "read 40") {
		t.Errorf("an import body taking %v (limit %v): got %q, want 200 read 40", took.Round(time.Millisecond), testLimits.LongBodyTimeout, got)
	}
	if took < 2*testLimits.BodyTimeout {
		t.Errorf("the import body took only %v, not longer than the ordinary limit %v", took, testLimits.BodyTimeout)
	}
}

// TestServer_WorkAfterTheBodyIsNotCut: the body limit ends with the body;
// a handler that works past it after reading its body keeps its context
// and its connection.
func TestServer_WorkAfterTheBodyIsNotCut(t *testing.T) {
	t.Parallel()
	addr := startLimited(t)
	c := dial(t, addr)
	write(t, c, "POST /work HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
	got, took := readUntilClosed(t, c)
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK") || !strings.HasSuffix(got, "done") {
		t.Errorf("a handler working %v after reading its body: got %q, want 200 done", took.Round(time.Millisecond), got)
	}
}

// TestServer_IdleKeepAliveIsClosed: a keep-alive connection serves several
// requests, then is closed IdleTimeout after the last.
func TestServer_IdleKeepAliveIsClosed(t *testing.T) {
	t.Parallel()
	addr := startLimited(t)
	c := dial(t, addr)
	br := bufio.NewReader(c)
	get := func() {
		t.Helper()
		write(t, c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("GET / = %d %q", res.StatusCode, body)
		}
	}
	get()
	time.Sleep(testLimits.IdleTimeout / 2)
	get() // still open: the connection is kept alive between requests
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	n, err := br.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("an idle keep-alive connection stayed open for 10 s")
	}
	if n != 0 {
		t.Errorf("the server sent %d bytes to an idle connection", n)
	}
	within(t, "idle keep-alive connection closed", time.Since(start), testLimits.IdleTimeout)
}
