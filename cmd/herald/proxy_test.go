package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"herald/store"
)

// TestServe_TrustedProxiesAndMetrics runs herald behind a "proxy" on
// 127.0.0.1 (HERALD_TRUSTED_PROXIES): the forwarded client address is what
// consent records, the audit log, rate limits and /metrics see (SPEC 7.4).
func TestServe_TrustedProxiesAndMetrics(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir, "HERALD_TRUSTED_PROXIES=127.0.0.1/32", "HERALD_ADMIN_TOKEN=proxy-test-admin-token-0123456789abcdef")
	call := func(method, path, body, token, xff string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, d.base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	const admin = "proxy-test-admin-token-0123456789abcdef"
	if st, out := call("POST", "/api/v1/subscribers", `{"email":"ana@example.org","confirmed":true}`, admin, "1.2.3.4, 203.0.113.9"); st != 201 ||
		!strings.Contains(out, `"ip":"203.0.113.9"`) {
		t.Fatalf("consent behind the proxy: %d %s", st, out)
	}
	// Failed tokens count per forwarded client: one client is stopped,
	// another behind the same proxy is not.
	for range 10 {
		call("GET", "/api/v1/me", "", "wrong", "198.51.100.1")
	}
	if st, _ := call("GET", "/api/v1/me", "", admin, "198.51.100.1"); st != http.StatusTooManyRequests {
		t.Fatalf("after 10 failures: %d", st)
	}
	if st, _ := call("GET", "/api/v1/me", "", admin, "198.51.100.2"); st != 200 {
		t.Fatalf("another client: %d", st)
	}
	// /metrics: loopback may read it, a forwarded outside client may not.
	if st, _ := call("GET", "/metrics", "", "", ""); st != 200 {
		t.Fatalf("metrics from loopback: %d", st)
	}
	if st, out := call("GET", "/metrics", "", "", "203.0.113.9"); st != http.StatusForbidden || !strings.Contains(out, "HERALD_METRICS_ALLOW") {
		t.Fatalf("metrics from outside: %d %s", st, out)
	}
	d.stop(t)
	db, err := store.Open(context.Background(), dbFor(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.ListAudit(context.Background(), store.AuditQuery{Action: "subscriber.create"})
	if err != nil || len(entries) != 1 || entries[0].IP != "203.0.113.9" || entries[0].Actor != "admin-token" {
		t.Fatalf("audit: %+v %v", entries, err)
	}

	// Without trusted proxies, the header is nobody's word.
	// (A short admin token gets a loud warning.)
	if strings.Contains(d.logs.String(), "shorter than 32") {
		t.Fatal("a 39-character token was warned about")
	}
	const short = "short-admin-token"
	d = startDaemon(t, dir, "HERALD_ADMIN_TOKEN="+short, "HERALD_METRICS_ALLOW=192.0.2.0/24")
	if !strings.Contains(d.logs.String(), "level=WARN msg=\"HERALD_ADMIN_TOKEN is shorter than 32 characters") {
		t.Errorf("no warning about the short token:\n%s", d.logs)
	}
	if st, out := call("POST", "/api/v1/subscribers", `{"email":"bo@example.org","confirmed":true}`, short, "203.0.113.9"); st != 201 ||
		!strings.Contains(out, `"ip":"127.0.0.1"`) {
		t.Fatalf("consent without trusted proxies: %d %s", st, out)
	}
	if st, _ := call("GET", "/metrics", "", "", ""); st != http.StatusForbidden {
		t.Fatalf("metrics outside HERALD_METRICS_ALLOW: %d", st)
	}
	d.stop(t)
}
