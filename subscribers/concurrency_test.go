package subscribers

import (
	"context"
	"sync"
	"testing"
)

// One address subscribing several times at once (a double click, two
// instances behind a load balancer) is one subscriber with one
// confirmation mail, and no request fails.
func TestSubscribe_ConcurrentSameAddress(t *testing.T) {
	f := newFixture(t)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = f.svc.Subscribe(context.Background(), SubscribeRequest{Email: "twice@example.org",
				Consent: Consent{IP: "203.0.113.7", Page: "/subscribe"}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("subscribe %d: %v", i, err)
		}
	}
	s := f.mustGet(t, "twice@example.org")
	if m := f.mails(t, s.ID); len(m) != 1 {
		t.Fatalf("%d mails queued for one address, want 1 (the 10-minute rule)", len(m))
	}
}
