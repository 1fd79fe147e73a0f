package ui

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The client's address (SPEC 7.4). Behind a proxy, r.RemoteAddr is the
// proxy's; the proxy names the client in X-Forwarded-For or Forwarded
// (RFC 7239). Those headers are believed only when the peer is one of
// HERALD_TRUSTED_PROXIES, and then read from the right: each trusted proxy
// appends the address it saw, so the first untrusted address from the
// right is the client (an address the client wrote itself further left is
// ignored). Rate limits, consent records and the audit log use this
// address.

type clientIPKey struct{}

// ClientIPs returns the middleware that finds each request's client
// address, trusting forwarding headers only from the given proxies.
func ClientIPs(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := clientIP(r, trusted)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
		})
	}
}

// ClientIP is the request's client address, as ClientIPs found it; without
// that middleware, the peer's address.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(netip.Addr); ok && ip.IsValid() {
		return ip.String()
	}
	return peerAddr(r).String()
}

// ClientAddr is ClientIP as an address (invalid when unknown).
func ClientAddr(r *http.Request) netip.Addr {
	if ip, ok := r.Context().Value(clientIPKey{}).(netip.Addr); ok {
		return ip
	}
	return peerAddr(r)
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap().WithZone("")
}

func trustedAddr(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r)
	if len(trusted) == 0 || !trustedAddr(peer, trusted) {
		return peer
	}
	var hops []string
	if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		hops = forwardedFor(fw)
	} else {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // a hop that is not an address: believe nothing left of it
		}
		client = a
		if !trustedAddr(a, trusted) {
			break
		}
	}
	return client
}

// forwardedFor lists the for= values of Forwarded headers (RFC 7239), in
// order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					out = append(out, val)
				}
			}
		}
	}
	return out
}

// parseHop reads one hop: 192.0.2.1, "[2001:db8::1]:4711", 192.0.2.1:80.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// AllowClients answers 403 to clients outside allow (unless any), for
// /metrics (SPEC 7.4: HERALD_METRICS_ALLOW).
func AllowClients(allow []netip.Prefix, any bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !any && !trustedAddr(ClientAddr(r), allow) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("forbidden: this address may not read the metrics (HERALD_METRICS_ALLOW)\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
