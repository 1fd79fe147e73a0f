package ui_test

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"herald/store/storetest"
	"herald/web/ui"
)

// Two instances' limiters on one database enforce one limit (SPEC 6).
func TestIPLimiter_SharedAcrossInstances(t *testing.T) {
	db := storetest.New(t)
	a := ui.NewIPLimiter(rate.Limit(0.5), 3).Shared("subscribe", db)
	b := ui.NewIPLimiter(rate.Limit(0.5), 3).Shared("subscribe", db)
	now := time.Now()
	for i, l := range []*ui.IPLimiter{a, b, a} {
		if ok, _ := l.Allow("192.0.2.7", now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := b.Allow("192.0.2.7", now)
	if ok || wait < time.Second {
		t.Fatalf("4th request through the other instance: ok=%v wait=%v; want refused for ~2 s", ok, wait)
	}
	if ok, _ := b.Allow("192.0.2.8", now); !ok {
		t.Fatal("another client is limited too")
	}
	// Failed logins: Take on one instance, Wait seen by the other.
	la := ui.NewIPLimiter(rate.Limit(1.0/20), 2).Shared("login", db)
	lb := ui.NewIPLimiter(rate.Limit(1.0/20), 2).Shared("login", db)
	la.Take("198.51.100.1", now)
	if w := lb.Wait("198.51.100.1", now); w != 0 {
		t.Fatalf("after one failure of a burst of 2, wait = %v; want 0", w)
	}
	lb.Take("198.51.100.1", now)
	if w := la.Wait("198.51.100.1", now); w < 15*time.Second {
		t.Fatalf("wait after 2 failures = %v, want about 20 s", w)
	}
}
