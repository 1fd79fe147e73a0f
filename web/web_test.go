package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/templates"
	"herald/web"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func newHandler(t *testing.T, db web.Pinger) http.Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	h, err := web.New(web.Options{SiteName: "Press Office"}, web.Deps{
		DB: db, Registry: reg, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Templates: templates.Embedded(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHealthz(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"up", nil, 200, "ok"}, // exactly "ok" (SPEC 3)
		{"down", errors.New("store: ping: disk gone"), 503, "database unavailable: ping: disk gone"}, // the reason, on one line
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			newHandler(t, pinger{tt.err}).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			body := rec.Body.String()
			if tt.err == nil && body != "ok" || rec.Code != tt.status || strings.TrimSpace(body) != tt.body {
				t.Fatalf("%d %q", rec.Code, rec.Body)
			}
		})
	}
}

func TestSecurityHeadersAndMetrics(t *testing.T) {
	h := newHandler(t, pinger{})
	for _, path := range []string{"/healthz", "/no-such-page"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		hd := rec.Header()
		if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", path, hd)
		}
	}
	// /metrics answers loopback only by default (SPEC 7.4).
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil)) // from 192.0.2.1
	if rec.Code != http.StatusForbidden {
		t.Fatalf("metrics from 192.0.2.1: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if !strings.Contains(body, `herald_http_requests_total{code="200",route="GET /healthz"} 1`) ||
		!strings.Contains(body, `route="unmatched"`) {
		t.Fatalf("metrics do not count requests by route and code:\n%s", body)
	}
}
