package main

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestServe_HalfSentHeadersAreCut holds a connection to the real daemon
// with half a request, as a slow client would: the daemon closes it after
// 10 s (SPEC 12). The other limits are tested with short durations in
// package web; this checks that serve uses them.
func TestServe_HalfSentHeadersAreCut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s")
	}
	d := startDaemon(t, t.TempDir())
	defer d.stop(t)
	c, err := net.Dial("tcp", strings.TrimPrefix(d.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Ag"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(start.Add(20 * time.Second))
	got, err := io.ReadAll(c)
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a connection with half its headers stayed open for 20 s (read %q)", got)
	}
	if took < 9900*time.Millisecond || took > 12*time.Second {
		t.Errorf("half-sent headers: connection closed after %v, want 10 s", took.Round(time.Millisecond))
	}
	if strings.Contains(string(got), "200 OK") {
		t.Errorf("a request with half its headers was answered: %q", got)
	}
	// The daemon still serves whole requests.
	if code := d.api(t, "", "GET", "/healthz", "", nil); code != 200 {
		t.Errorf("GET /healthz = %d after the slow client", code)
	}
}
