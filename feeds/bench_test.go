package feeds

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchEnv holds 1,000 live releases of realistic size (a 50-item RSS feed
// of them is about 60 KB, as in the load test).
func benchEnv(b *testing.B) *env {
	b.Helper()
	e := newEnv(b)
	topics := []string{"migration", "refugees", "human-trafficking", "emergencies"}
	regions := []string{"argentina", "mali", "greece", "", "americas"}
	body := strings.Repeat("The organization and its partners met to agree on a common response. ", 5)
	for i := range 1000 {
		spec := relSpec{title: fmt.Sprintf("Release number %d about migration in the region", i), body: body,
			topics: []string{topics[i%len(topics)]}, at: t0.Add(-time.Duration(i) * time.Minute)}
		if r := regions[i%len(regions)]; r != "" {
			spec.regions = []string{r}
		}
		e.create(b, spec)
	}
	return e
}

// BenchmarkGet_Hit is the cache hit path of a poll of /feed.rss.
func BenchmarkGet_Hit(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	d := e.get(b, RSS, "")
	b.ReportAllocs()
	b.ResetTimer()
	defer b.ReportMetric(float64(len(d.Body)), "feed_bytes")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.feeds.Get(ctx, RSS, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGet_HitFiltered is the hit path with a query string.
func BenchmarkGet_HitFiltered(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	const q = "topic=migration,refugees&region=americas&lang=en"
	e.get(b, Atom, q)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.feeds.Get(ctx, Atom, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRender is a cache miss: query 50 releases, write the document
// and gzip it, as after every change.
func BenchmarkRender(b *testing.B) {
	e := benchEnv(b)
	for _, format := range []Format{RSS, Atom, JSON} {
		b.Run(format.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sl, err := e.feeds.slotFor(context.Background(), format, "", e.rel.Version())
				if err != nil {
					b.Fatal(err)
				}
				sl.state.Store(nil)
				if _, _, err := e.feeds.refresh(context.Background(), sl); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
