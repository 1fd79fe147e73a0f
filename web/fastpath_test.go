package web_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/feeds"
	"herald/releases"
	"herald/store/storetest"
	"herald/templates"
	"herald/web"
	"herald/web/fastpath"
)

// fastSites are two `herald serve` fronts on one database and one feed
// cache: fast with the feed fast path, slow without it (net/http alone).
type fastSites struct {
	fast, slow string // addresses
	ln         *fastpath.Listener
	rel        *releases.Service
	reg        *prometheus.Registry // the fast front's metrics
}

func newFastSites(t *testing.T) *fastSites { return newFastSitesB(t) }

func newFastSitesB(t testing.TB) *fastSites {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	s := &fastSites{rel: rel}
	for i := range 3 {
		s.publish(t, fmt.Sprintf("Release %d on migration", i))
	}
	docs := feeds.New(feeds.Options{SiteName: "Press Office", BaseURL: "https://press.example.org"}, rel, db)
	start := func(cache *fastpath.Cache) (string, *prometheus.Registry, *fastpath.Listener) {
		reg := prometheus.NewRegistry()
		h, err := web.New(web.Options{SiteName: "Press Office", BaseURL: "https://press.example.org"}, web.Deps{
			DB: pinger{}, Registry: reg, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Templates: templates.Embedded(),
			Releases: rel, Store: db, Feeds: docs, Fast: cache,
		})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := web.NewServer(h, testLimits)
		var fl *fastpath.Listener
		if cache != nil {
			fl = fastpath.Listen(ln, cache, fastpath.Options{ReadHeaderTimeout: srv.ReadHeaderTimeout, IdleTimeout: srv.IdleTimeout})
			ln = fl
		}
		go srv.Serve(ln)
		t.Cleanup(func() {
			srv.Close()
			if fl != nil {
				fl.Shutdown(context.Background())
			}
		})
		return ln.Addr().String(), reg, fl
	}
	s.fast, s.reg, s.ln = start(fastpath.NewCache(0))
	s.slow, _, _ = start(nil)
	return s
}

func (s *fastSites) publish(t testing.TB, title string) {
	t.Helper()
	body := "First paragraph of the release.\n\nSecond paragraph."
	topics := releases.List{"migration"}
	if _, err := s.rel.Create(context.Background(), releases.Input{Title: &title, Body: &body, Topics: &topics}); err != nil {
		t.Fatal(err)
	}
}

// exchange writes raw on a new connection to addr and reads the answers
// to methods (one per request sent); it returns them as sent, and whether
// the server then closed the connection (else it has answered one more
// request on it).
func exchange(t testing.TB, addr, raw string, methods ...string) (string, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// A server refusing a huge head may close before reading it all.
	io.WriteString(c, raw)
	var got bytes.Buffer
	br := bufio.NewReader(io.TeeReader(c, &got))
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("%q: reading the answer: %v (read %q)", raw, err, got.String())
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	answers := got.String()[:got.Len()-br.Buffered()]
	// Closed: EOF (net/http and the fast path half-close, then wait).
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return answers, true
	}
	resp.Body.Close()
	return answers, false
}

var dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)

func withoutDate(s string) string { return dateLine.ReplaceAllString(s, "Date: -\r") }

// etagOf asks addr for the ETag of path with headers.
func etagOf(t *testing.T, addr, path, headers string) string {
	t.Helper()
	got, _ := exchange(t, addr, "HEAD "+path+" HTTP/1.1\r\nHost: x\r\n"+headers+"\r\n", "HEAD")
	m := regexp.MustCompile(`(?m)^Etag: ([^\r]*)\r$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no ETag in %q", got)
	}
	return m[1]
}

// TestFastPath_AnswersAsNetHTTP: for every kind of request, the front with
// the fast path sends exactly the bytes that net/http alone sends (but
// for the Date), and answers on the fast path exactly the requests it
// should.
func TestFastPath_AnswersAsNetHTTP(t *testing.T) {
	s := newFastSites(t)
	for _, p := range []string{"/feed.rss", "/feed.atom", "/feed.json", "/feed.rss?topic=migration"} {
		exchange(t, s.fast, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n", "GET") // records the answers
	}
	etag := etagOf(t, s.slow, "/feed.rss", "")
	gzETag := etagOf(t, s.slow, "/feed.rss", "Accept-Encoding: gzip\r\n")
	lastMod := regexp.MustCompile(`(?m)^Last-Modified: ([^\r]*)\r$`).FindStringSubmatch(must(exchange(t, s.slow, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n", "GET")))[1]
	big := strings.Repeat("a", 100<<10)
	huge := strings.Repeat("a", 1100<<10)
	get := func(target, headers string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: press.example.org\r\n" + headers + "\r\n"
	}
	cases := []struct {
		name      string
		raw       string
		methods   []string
		fast      int  // requests the fast path should answer
		wantClose bool // the server closes after answering
		status    string
	}{
		{"plain", get("/feed.rss", ""), nil, 1, false, "200"},
		{"gzip", get("/feed.rss", "Accept-Encoding: gzip, deflate\r\n"), nil, 1, false, "200"},
		{"gzip q=0", get("/feed.rss", "Accept-Encoding: gzip;q=0, deflate\r\n"), nil, 1, false, "200"},
		{"identity", get("/feed.rss", "Accept-Encoding: identity\r\n"), nil, 1, false, "200"},
		{"star", get("/feed.rss", "Accept-Encoding: *;q=0.5\r\n"), nil, 1, false, "200"},
		{"x-gzip, two lines", get("/feed.rss", "accept-encoding: br\r\nACCEPT-ENCODING: x-gzip\r\n"), nil, 1, false, "200"},
		{"if-none-match", get("/feed.rss", "If-None-Match: "+etag+"\r\n"), nil, 1, false, "304"},
		{"if-none-match gzip", get("/feed.rss", "Accept-Encoding: gzip\r\nIf-None-Match: "+gzETag+"\r\n"), nil, 1, false, "304"},
		{"if-none-match other", get("/feed.rss", "If-None-Match: \"0123\"\r\n"), nil, 1, false, "200"},
		{"if-none-match list", get("/feed.rss", "If-None-Match: \"0123\", "+etag+"\r\n"), nil, 1, false, "304"},
		{"if-none-match weak", get("/feed.rss", "If-None-Match: W/"+etag+"\r\n"), nil, 1, false, "304"},
		{"if-none-match star", get("/feed.rss", "If-None-Match: *\r\n"), nil, 1, false, "304"},
		{"if-none-match empty", get("/feed.rss", "If-None-Match:\r\nIf-Modified-Since: "+lastMod+"\r\n"), nil, 1, false, "200"},
		{"if-modified-since", get("/feed.rss", "If-Modified-Since: "+lastMod+"\r\n"), nil, 1, false, "304"},
		{"if-modified-since old", get("/feed.rss", "If-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\n"), nil, 1, false, "200"},
		{"if-none-match beats if-modified-since", get("/feed.rss", "If-None-Match: \"0123\"\r\nIf-Modified-Since: "+lastMod+"\r\n"), nil, 1, false, "200"},
		{"head", "HEAD /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HEAD"}, 1, false, "200"},
		{"head gzip", "HEAD /feed.rss HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", []string{"HEAD"}, 1, false, "200"},
		{"head 304", "HEAD /feed.rss HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\n\r\n", []string{"HEAD"}, 1, false, "304"},
		{"connection close", get("/feed.rss", "Connection: close\r\n"), nil, 1, true, "200"},
		{"connection keep-alive", get("/feed.rss", "Connection: keep-alive\r\n"), nil, 1, false, "200"},
		{"browser headers", get("/feed.rss", "User-Agent: x\r\nAccept: */*\r\nAccept-Language: fr\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nCookie: a=b\r\nReferer: https://x/\r\nX-Forwarded-For: 192.0.2.1\r\nContent-Length: 0\r\n"), nil, 1, false, "200"},
		{"atom", get("/feed.atom", ""), nil, 1, false, "200"},
		{"json gzip", get("/feed.json", "Accept-Encoding: gzip\r\n"), nil, 1, false, "200"},
		{"query", get("/feed.rss?topic=migration", ""), nil, 1, false, "200"},
		{"pipelined", get("/feed.rss", "") + get("/feed.rss", "Accept-Encoding: gzip\r\n"), []string{"GET", "GET"}, 2, false, "200"},
		{"pipelined then post", get("/feed.rss", "") + "POST /feed.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab", []string{"GET", "POST"}, 1, false, "200"},
		{"http/1.0", "GET /feed.rss HTTP/1.0\r\nHost: x\r\n\r\n", nil, 0, true, "200"},
		{"post", "POST /feed.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", []string{"POST"}, 0, false, "405"},
		{"body", get("/feed.rss", "Content-Length: 5\r\n") + "hello", nil, 0, false, "200"},
		{"chunked body", get("/feed.rss", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", nil, 0, false, "200"},
		{"expect", get("/feed.rss", "Expect: 100-continue\r\nContent-Length: 0\r\n"), nil, 0, false, "200"},
		{"odd header", get("/feed.rss", "X-Odd: 1\r\n"), nil, 0, false, "200"},
		{"authorization", get("/feed.rss", "Authorization: Bearer x\r\n"), nil, 0, false, "200"},
		{"upgrade", get("/feed.rss", "Connection: Upgrade\r\nUpgrade: websocket\r\n"), nil, 0, false, "200"},
		{"unknown query", get("/feed.rss?foo=bar", ""), nil, 0, false, "200"},
		{"bad query", get("/feed.rss?limit=x", ""), nil, 0, false, "400"},
		{"no host", "GET /feed.rss HTTP/1.1\r\n\r\n", nil, 0, true, "400"},
		{"two hosts", get("/feed.rss", "Host: y\r\n"), nil, 0, true, "400"},
		{"bare newlines", "GET /feed.rss HTTP/1.1\nHost: x\n\n", nil, 0, false, "200"},
		{"absolute form", "GET http://x/feed.rss HTTP/1.1\r\nHost: x\r\n\r\n", nil, 0, false, "200"},
		{"escaped path", get("/feed%2Erss", ""), nil, 0, false, "200"},
		{"other page", get("/healthz", ""), nil, 0, false, "200"},
		{"100 KB header", get("/feed.rss", "Cookie: "+big+"\r\n"), nil, 0, false, "200"},
		{"1.1 MB header", get("/feed.rss", "Cookie: "+huge+"\r\n"), nil, 0, true, "431"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			methods := c.methods
			if methods == nil {
				methods = []string{"GET"}
			}
			before := s.ln.Stats().Answered
			fast, fastClosed := exchange(t, s.fast, c.raw, methods...)
			answered := s.ln.Stats().Answered - before
			slow, slowClosed := exchange(t, s.slow, c.raw, methods...)
			if withoutDate(fast) != withoutDate(slow) {
				t.Errorf("the fast path answered\n%.1500q\nnet/http\n%.1500q", fast, slow)
			}
			if !strings.HasPrefix(slow, "HTTP/1.") || slow[9:12] != c.status {
				t.Errorf("net/http answered %.200q, want status %s", slow, c.status)
			}
			if fastClosed != slowClosed || slowClosed != c.wantClose {
				t.Errorf("closed: fast path %v, net/http %v, want %v", fastClosed, slowClosed, c.wantClose)
			}
			if answered != int64(c.fast) {
				t.Errorf("the fast path answered %d requests, want %d", answered, c.fast)
			}
		})
	}
}

func must(s string, _ bool) string { return s }

// TestFastPath_FeedChangeIsSeenAtOnce: once a release is published, the
// very next request on a connection the fast path serves gets the new
// document, and the one after that is fast again.
func TestFastPath_FeedChangeIsSeenAtOnce(t *testing.T) {
	s := newFastSites(t)
	req := "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n"
	// Asked until the fast path answers: the answer that records its
	// entry comes from net/http, and on a loaded machine the next request
	// may still find no entry (it failed 2 runs of 60 with the cores busy).
	for deadline := time.Now().Add(5 * time.Second); ; {
		n := s.ln.Stats().Answered
		exchange(t, s.fast, req, "GET")
		if s.ln.Stats().Answered > n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fast path never answered /feed.rss")
		}
	}
	c, err := net.Dial("tcp", s.fast)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	ask := func() string {
		t.Helper()
		io.WriteString(c, req)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	before := s.ln.Stats().Answered
	if b := ask(); strings.Contains(b, "Just published") || s.ln.Stats().Answered != before+1 {
		t.Fatalf("first answer: fast %v, new release in it: %v", s.ln.Stats().Answered != before, strings.Contains(b, "Just published"))
	}
	s.publish(t, "Just published")
	if b := ask(); !strings.Contains(b, "Just published") {
		t.Fatal("the answer after publishing lacks the new release")
	}
	n := s.ln.Stats().Answered
	got, _ := exchange(t, s.fast, req, "GET")
	if !strings.Contains(got, "Just published") || s.ln.Stats().Answered != n+1 {
		t.Fatalf("the next fast answer: fast %v, new release in it: %v", s.ln.Stats().Answered == n+1, strings.Contains(got, "Just published"))
	}
}

// TestFastPath_CountsRequests: fast answers count in the request metrics
// as net/http's do, under the route and status.
func TestFastPath_CountsRequests(t *testing.T) {
	s := newFastSites(t)
	count := func(code string) float64 {
		return counterOf(t, s.reg, "GET /feed.rss", code)
	}
	exchange(t, s.fast, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	etag := etagOf(t, s.fast, "/feed.rss", "")
	before200, before304, fastBefore := count("200"), count("304"), s.ln.Stats().Answered
	exchange(t, s.fast, strings.Repeat("GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n", 3)+"HEAD /feed.rss HTTP/1.1\r\nHost: x\r\nIf-None-Match: "+etag+"\r\n\r\n",
		"GET", "GET", "GET", "HEAD")
	if got := s.ln.Stats().Answered - fastBefore; got != 4 {
		t.Fatalf("the fast path answered %d of 4", got)
	}
	if d200, d304 := count("200")-before200, count("304")-before304; d200 != 3 || d304 != 1 {
		t.Errorf("counted %v answers 200 and %v 304, want 3 and 1", d200, d304)
	}
}

// counterOf reads herald_http_requests_total{route,code} in reg.
func counterOf(t *testing.T, reg *prometheus.Registry, route, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "herald_http_requests_total" {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return m.Counter.GetValue()
			}
		}
	}
	return 0
}

// TestFastPath_SlowClientsAreCut: a half-sent request head is cut after
// ReadHeaderTimeout, the first on a connection and one after a fast
// answer, and an idle connection after IdleTimeout, as net/http does.
func TestFastPath_SlowClientsAreCut(t *testing.T) {
	s := newFastSites(t)
	exchange(t, s.fast, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	for _, addr := range []string{s.fast, s.slow} {
		c := dial(t, addr)
		write(t, c, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n")
		got, d := readUntilClosed(t, c)
		if got != "" {
			t.Errorf("%s answered a half-sent head: %q", addr, got)
		}
		within(t, "first head cut", d, testLimits.ReadHeaderTimeout)
	}
	// After a fast answer: idle, then a head begun and not finished.
	c := dial(t, s.fast)
	br := bufio.NewReader(c)
	write(t, c, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	time.Sleep(testLimits.IdleTimeout / 2)
	write(t, c, "GET /feed.rss HTTP/1.1\r\n")
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	rest, err := io.ReadAll(br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || len(rest) > 0 {
		t.Fatalf("after a fast answer, a half-sent head: read %q, %v", rest, err)
	}
	within(t, "second head cut", time.Since(start), testLimits.ReadHeaderTimeout)
	// Idle after a fast answer.
	c = dial(t, s.fast)
	br = bufio.NewReader(c)
	write(t, c, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err = http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	start = time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Fatalf("read %q on an idle connection", rest)
	}
	within(t, "idle connection closed", time.Since(start), testLimits.IdleTimeout)
}

// TestFastPath_HandoffKeepsTheHeaderDeadline: a head that the fast path
// hands to net/http (too long for it) gets no more time than
// ReadHeaderTimeout from its start.
func TestFastPath_HandoffKeepsTheHeaderDeadline(t *testing.T) {
	s := newFastSites(t)
	c := dial(t, s.fast)
	write(t, c, "GET /feed.rss HTTP/1.1\r\nHost: x\r\nCookie: "+strings.Repeat("a", 20<<10))
	got, d := readUntilClosed(t, c)
	if got != "" {
		t.Errorf("answered a half-sent head: %q", got)
	}
	within(t, "handed-off head cut", d, testLimits.ReadHeaderTimeout)
}

// TestFastPath_ShutdownClosesIdleConnections: Shutdown ends connections
// waiting for a request at once.
func TestFastPath_ShutdownClosesIdleConnections(t *testing.T) {
	s := newFastSites(t)
	c := dial(t, s.fast)
	br := bufio.NewReader(c)
	write(t, c, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.ln.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v", d)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after shutdown the connection reads %v, want EOF", err)
	}
}

// BenchmarkFeedServing measures one request of bench/feeds.sh's three
// kinds over a keep-alive TCP connection per goroutine, client included,
// with the fast path and with net/http alone. The client reads a fixed
// number of bytes (an answer's length does not change) to stay cheap.
func BenchmarkFeedServing(b *testing.B) {
	s := newFastSitesB(b)
	etag := ""
	for _, kind := range []string{"plain", "gzip", "304"} {
		headers := ""
		switch kind {
		case "gzip":
			headers = "Accept-Encoding: gzip\r\n"
		case "304":
			headers = "If-None-Match: " + etag + "\r\n"
		}
		req := []byte("GET /feed.rss HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n")
		for _, front := range []struct{ name, addr string }{{"fastpath", s.fast}, {"net-http", s.slow}} {
			probe, _ := exchange(b, front.addr, string(req), "GET")
			if etag == "" {
				etag = regexp.MustCompile(`(?m)^Etag: ([^\r]*)\r$`).FindStringSubmatch(probe)[1]
			}
			b.Run(kind+"/"+front.name, func(b *testing.B) {
				b.SetBytes(int64(len(probe)))
				b.RunParallel(func(pb *testing.PB) {
					c, err := net.Dial("tcp", front.addr)
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					buf := make([]byte, len(probe))
					for pb.Next() {
						if _, err := c.Write(req); err != nil {
							b.Error(err)
							return
						}
						if _, err := io.ReadFull(c, buf); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
