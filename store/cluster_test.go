package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

func TestLease_OneHolderRenewalAndTakeover(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ttl := 15 * time.Second
	if ok, err := db.AcquireLease(ctx, "leader", "a", t0, ttl); err != nil || !ok {
		t.Fatalf("a takes a free lease: %v, %v", ok, err)
	}
	if ok, _ := db.AcquireLease(ctx, "leader", "b", t0.Add(5*time.Second), ttl); ok {
		t.Fatal("b took a lease a still holds")
	}
	if ok, _ := db.AcquireLease(ctx, "leader", "a", t0.Add(10*time.Second), ttl); !ok {
		t.Fatal("a could not renew its own lease")
	}
	// a renewed until t0+25s: b must still wait at t0+20s, and gets it after.
	if ok, _ := db.AcquireLease(ctx, "leader", "b", t0.Add(20*time.Second), ttl); ok {
		t.Fatal("b took a renewed lease")
	}
	if ok, _ := db.AcquireLease(ctx, "leader", "b", t0.Add(26*time.Second), ttl); !ok {
		t.Fatal("b did not take over a lapsed lease")
	}
	if h, _ := db.LeaseHolder(ctx, "leader", t0.Add(27*time.Second)); h != "b" {
		t.Fatalf("holder = %q, want b", h)
	}
	if ok, _ := db.AcquireLease(ctx, "leader", "a", t0.Add(27*time.Second), ttl); ok {
		t.Fatal("a took back b's lease")
	}
	if err := db.ReleaseLease(ctx, "leader", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.AcquireLease(ctx, "leader", "a", t0.Add(28*time.Second), ttl); !ok {
		t.Fatal("a could not take a released lease")
	}
}

func TestLease_ConcurrentCandidatesOneWins(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	var mu sync.Mutex
	winners := 0
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := db.AcquireLease(ctx, "leader", string(rune('a'+i)), now, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d candidates hold the lease at once, want 1", winners)
	}
}

func TestSharedSetting_FirstWriterDecides(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	v1, err := db.SharedSetting(ctx, "secret", "first", time.Now())
	if err != nil || v1 != "first" {
		t.Fatalf("first = %q, %v", v1, err)
	}
	v2, _ := db.SharedSetting(ctx, "secret", "second", time.Now())
	if v2 != "first" {
		t.Fatalf("second caller got %q, want the first value", v2)
	}
}

func TestRateLimit_BurstThenInterval(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _, err := db.RateLimit(ctx, "ip:1", t0, 2*time.Second, 3); err != nil || !ok {
			t.Fatalf("event %d of the burst refused: %v", i, err)
		}
	}
	ok, wait, err := db.RateLimit(ctx, "ip:1", t0, 2*time.Second, 3)
	if err != nil || ok || wait != 2*time.Second {
		t.Fatalf("4th at once: ok=%v wait=%v err=%v; want refused, wait 2s", ok, wait, err)
	}
	if ok, _, _ := db.RateLimit(ctx, "ip:2", t0, 2*time.Second, 3); !ok {
		t.Fatal("another key is limited too")
	}
	if ok, _, _ := db.RateLimit(ctx, "ip:1", t0.Add(2*time.Second), 2*time.Second, 3); !ok {
		t.Fatal("refused after one interval")
	}
	if ok, _, _ := db.RateLimit(ctx, "ip:1", t0.Add(2*time.Second), 2*time.Second, 3); ok {
		t.Fatal("allowed twice after one interval")
	}
}

func TestSessionRevocation(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	if err := db.RevokeSession(ctx, "s1", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.SessionRevoked(ctx, "s1"); !r {
		t.Fatal("revoked session not reported")
	}
	if r, _ := db.SessionRevoked(ctx, "s2"); r {
		t.Fatal("unrelated session reported revoked")
	}
}

func TestInstances_Heartbeat(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	in := store.Instance{ID: "i1", Host: "h", PID: 1, Version: "dev", SchemaVersion: 4, StartedAt: now}
	if err := db.Heartbeat(ctx, in, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Heartbeat(ctx, store.Instance{ID: "i2", Host: "h", PID: 2, Version: "dev", StartedAt: now}, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	live, err := db.Instances(ctx, now.Add(-15*time.Second))
	if err != nil || len(live) != 1 || live[0].ID != "i1" || live[0].SchemaVersion != 4 {
		t.Fatalf("live = %+v, %v", live, err)
	}
}
