package releases_test

import (
	"context"
	"sync"
	"testing"
)

// Several writers at once (two instances, or the CLI beside the daemon)
// creating releases with one title get one slug each (SPEC 2: unique), and
// nobody an error: slug assignment reads then writes, and a lost race runs
// again on PostgreSQL.
func TestCreate_ConcurrentSameTitleDistinctSlugs(t *testing.T) {
	svc, _ := newService(t)
	const n = 6
	slugs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := svc.Create(context.Background(), valid())
			slugs[i], errs[i] = r.Slug, err
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if seen[slugs[i]] {
			t.Fatalf("slug %q given twice: %v", slugs[i], slugs)
		}
		seen[slugs[i]] = true
	}
}
