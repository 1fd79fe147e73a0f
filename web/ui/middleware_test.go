package ui

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMiddleware_HeadersAndMetrics checks the behaviour the hot-path
// optimizations of SecurityHeaders and Instrument must keep: the security
// headers on every response, a handler still able to replace one, and
// requests counted by route pattern and status code.
func TestMiddleware_HeadersAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /own-csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Add("X-Frame-Options", "SAMEORIGIN")
		w.WriteHeader(http.StatusTeapot)
	})
	log := slog.New(slog.DiscardHandler)
	h := Instrument(reg, log, Recover(log, SecurityHeaders(mux)))
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	for range 3 {
		get("/ok")
	}
	own := get("/own-csp")
	missing := get("/missing")
	for _, rec := range []*httptest.ResponseRecorder{get("/ok"), missing} {
		if rec.Header().Get("Content-Security-Policy") != DefaultCSP || rec.Header().Get("X-Content-Type-Options") != "nosniff" ||
			rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Referrer-Policy") != "same-origin" {
			t.Errorf("security headers missing: %v", rec.Header())
		}
	}
	if own.Header().Get("Content-Security-Policy") != "default-src 'self'" || len(own.Header()["X-Frame-Options"]) != 2 {
		t.Errorf("a handler could not override a header: %v", own.Header())
	}
	// The shared values must not have been changed by the handler above.
	if got := get("/ok").Header()["X-Frame-Options"]; len(got) != 1 || got[0] != "DENY" {
		t.Errorf("shared header value changed: %v", got)
	}
	counts, series := map[string]float64{}, 0
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "herald_http_requests_total":
				counts[labels["route"]+" "+labels["code"]] = m.GetCounter().GetValue()
			case "herald_http_request_duration_seconds":
				series++
			}
		}
	}
	want := map[string]float64{"GET /ok 200": 5, "unmatched 404": 1, "GET /own-csp 418": 1}
	if len(counts) != len(want) {
		t.Errorf("request counts = %v, want %v", counts, want)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("request count %q = %v, want %v", k, counts[k], v)
		}
	}
	if series != 3 {
		t.Errorf("latency series = %d, want one per route (3)", series)
	}
}
