package dispatch_test

import (
	"fmt"
	"testing"
	"time"

	"herald/dispatch"
	"herald/store"
)

// BenchmarkAlert100k queues an alert to 100,000 active subscribers (every
// one matching) in a fresh database per iteration. bench/dispatch.sh runs
// the same through the CLI with varied preferences and reports peak RSS.
func BenchmarkAlert100k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		subs := make([]store.SeedSubscriber, 100000)
		cad := []string{"immediate", "daily", "daily", "weekly"}
		for i := range subs {
			subs[i] = store.SeedSubscriber{Email: fmt.Sprintf("r%06d@example.org", i), Cadence: cad[i%4]}
		}
		if _, err := f.db.SeedSubscribers(f.ctx, subs); err != nil {
			b.Fatal(err)
		}
		r := f.release(rel{title: "Urgent", lang: "en", topics: []string{"emergencies"}})
		b.StartTimer()
		start := time.Now()
		res, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID})
		if err != nil || res.Recipients != len(subs) {
			b.Fatalf("%+v %v", res, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/alert")
	}
}
