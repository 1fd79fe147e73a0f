package ui

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/48")}
	for _, tc := range []struct {
		name, peer string
		trusted    []netip.Prefix
		xff, fwd   []string
		want       string
	}{
		{"no proxy configured: headers ignored", "203.0.113.5:4000", nil, []string{"198.51.100.7"}, nil, "203.0.113.5"},
		{"untrusted peer: headers ignored", "203.0.113.5:4000", trusted, []string{"198.51.100.7"}, nil, "203.0.113.5"},
		{"trusted peer: the address it saw", "10.0.0.2:4000", trusted, []string{"198.51.100.7"}, nil, "198.51.100.7"},
		{"a spoofed hop left of the real one is ignored", "10.0.0.2:4000", trusted, []string{"1.2.3.4, 198.51.100.7"}, nil, "198.51.100.7"},
		{"chain of trusted proxies", "10.0.0.2:4000", trusted, []string{"198.51.100.7, 10.1.1.1", "10.2.2.2"}, nil, "198.51.100.7"},
		{"garbage hop stops the walk", "10.0.0.2:4000", trusted, []string{"198.51.100.7, not-an-ip, 10.1.1.1"}, nil, "10.1.1.1"},
		{"no header: the proxy itself", "10.0.0.2:4000", trusted, nil, nil, "10.0.0.2"},
		{"Forwarded, IPv6 with port", "[2001:db8::1]:443", trusted, nil, []string{`for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded wins over X-Forwarded-For", "10.0.0.2:1", trusted, []string{"198.51.100.9"}, []string{"for=192.0.2.61"}, "192.0.2.61"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:1", trusted, []string{"198.51.100.7"}, nil, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				r.Header.Add("Forwarded", v)
			}
			var got string
			ClientIPs(tc.trusted)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ClientIP(r) })).ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Fatalf("client %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAllowClients(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		peer, xff string
		allow     []netip.Prefix
		any       bool
		want      int
	}{
		{"127.0.0.1:1", "", loop, false, 200},
		{"[::1]:1", "", loop, false, 200},
		{"203.0.113.5:1", "", loop, false, 403},
		{"203.0.113.5:1", "", nil, true, 200},
		// Behind a trusted proxy the forwarded client decides, not the proxy.
		{"10.0.0.2:1", "203.0.113.5", append(loop, trusted...), false, 403},
		{"10.0.0.2:1", "127.0.0.1", loop, false, 200},
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		w := httptest.NewRecorder()
		ClientIPs(trusted)(AllowClients(tc.allow, tc.any, ok)).ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s via %q: %d, want %d", tc.peer, tc.xff, w.Code, tc.want)
		}
	}
}
