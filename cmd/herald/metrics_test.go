package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServe_MetricsOfTheDeployFiles reads a running daemon's /metrics and
// finds there every herald metric that the alert rules and the dashboard in
// deploy/ use, and herald_leader at 1: a single instance runs the timed
// work (SPEC 6).
func TestServe_MetricsOfTheDeployFiles(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	defer d.stop(t)
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(d.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		return string(b)
	}
	get("/feed.rss") // a request, for the per-route series
	// The lease is taken by the cluster loop just after startup.
	leader := regexp.MustCompile(`(?m)^herald_leader 1$`)
	metrics := get("/metrics")
	for deadline := time.Now().Add(10 * time.Second); !leader.MatchString(metrics) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		metrics = get("/metrics")
	}
	if !leader.MatchString(metrics) {
		t.Errorf("/metrics has no herald_leader 1")
	}
	name := regexp.MustCompile(`\bherald_[a-z0-9_]*[a-z0-9]`)
	for _, file := range []string{"../../deploy/prometheus/herald-rules.yml", "../../deploy/grafana/herald.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for _, m := range name.FindAllString(string(b), -1) {
			used[m] = true
		}
		if len(used) == 0 {
			t.Errorf("%s names no herald metric", file)
		}
		for m := range used {
			if !strings.Contains(metrics, "\n"+m+" ") && !strings.Contains(metrics, "\n"+m+"{") {
				t.Errorf("%s uses %s, which /metrics does not show", file, m)
			}
		}
	}
}
