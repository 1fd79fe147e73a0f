package main

import (
	"io"
	"net/http"
	"regexp"
	"testing"
)

// TestServe_MetricsHasLeader reads a running daemon's /metrics and finds
// herald_leader at 1: a single instance runs the timed work (SPEC 6).
func TestServe_MetricsHasLeader(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	defer d.stop(t)
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if !regexp.MustCompile(`(?m)^herald_leader 1$`).Match(metrics) {
		t.Errorf("/metrics has no herald_leader 1")
	}
}
