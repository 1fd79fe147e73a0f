package outbound

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestForbidden(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"::1", true}, {"0.0.0.0", true}, {"::", true},
		{"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true}, {"fd00::1", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
		{"100.64.0.1", true}, {"224.0.0.1", true}, {"255.255.255.255", true},
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"2606:4700:4700::1111", false}, {"172.32.0.1", false},
	} {
		if got := Forbidden(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Forbidden(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}

func get(t *testing.T, c *Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := NewRequest(context.Background(), "GET", url, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// TestLoopbackRefusedByDefault calls a real listener on 127.0.0.1, by
// literal address and by a name that resolves to it ("localhost": the
// check happens after resolution).
func TestLoopbackRefusedByDefault(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	c := New(Options{UserAgent: "herald/test"})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		if _, err := get(t, c, u); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("GET %s: err = %v, want ErrForbiddenAddress", u, err)
		}
	}
	if hits != 0 {
		t.Errorf("the listener was reached %d times", hits)
	}
}

// TestRedirectToForbiddenRefused: a first hop that is allowed cannot
// redirect herald to an internal address. The test listener is itself on
// loopback, so this client's dialer lets that one address through and
// checks every other.
func TestRedirectToForbiddenRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	c := New(Options{})
	c.hc.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == srv.Listener.Addr().String() {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return (&net.Dialer{Control: refusePrivate}).DialContext(ctx, network, addr)
	}
	if _, err := get(t, c, srv.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("err = %v, want ErrForbiddenAddress", err)
	}
}

func TestAllowPrivate(t *testing.T) {
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	c := New(Options{UserAgent: "herald/1.2.3 (+http://example.org)", AllowPrivate: true})
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBody(resp)
	if err != nil || string(b) != "hello" {
		t.Fatalf("body %q, %v", b, err)
	}
	if ua != "herald/1.2.3 (+http://example.org)" {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestSizeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 2000)))
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true, MaxBody: 1000})
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBody(resp); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	c = New(Options{AllowPrivate: true, MaxBody: 2000})
	resp, _ = get(t, c, srv.URL)
	if b, err := ReadBody(resp); err != nil || len(b) != 2000 {
		t.Fatalf("exactly the limit: %d bytes, %v", len(b), err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := get(t, c, srv.URL)
	if err == nil {
		t.Fatal("a hanging server answered")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{"ftp://x/", "javascript:alert(1)", "/relative", "http://", "http://user:pw@example.org/", "gopher://example.org"} {
		if CheckURL(u) == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		}
	}
	for _, u := range []string{"http://example.org/feed", "https://example.org:8443/x?y=1"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q): %v", u, err)
		}
	}
	if !IsSelf("http://Press.example.org:80/websub", "http://press.example.org") || IsSelf("https://other.org/", "https://press.example.org") {
		t.Error("IsSelf")
	}
}
