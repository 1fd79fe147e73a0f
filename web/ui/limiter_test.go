package ui

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestIPLimiter_PerClient(t *testing.T) {
	l := NewIPLimiter(rate.Every(time.Minute), 2)
	now := time.Now()
	for _, ip := range []string{"192.0.2.1", "192.0.2.1", "198.51.100.2"} {
		if ok, _ := l.Allow(ip, now); !ok {
			t.Fatalf("%s refused within its burst", ip)
		}
	}
	if ok, wait := l.Allow("192.0.2.1", now); ok || wait <= 0 {
		t.Fatal("third request from one client allowed")
	}
	if ok, _ := l.Allow("192.0.2.1", now.Add(time.Minute)); !ok {
		t.Fatal("client still refused after its refill")
	}
}

// TestIPLimiter_FloodKeepsThePunished: filling the table from many
// addresses does not give a punished client a fresh bucket.
func TestIPLimiter_FloodKeepsThePunished(t *testing.T) {
	l := NewIPLimiter(rate.Limit(1.0/60), 2)
	now := time.Unix(1000, 0)
	for range 3 {
		l.Take("203.0.113.1", now)
	}
	if ok, _ := l.Allow("203.0.113.1", now); ok {
		t.Fatal("not limited")
	}
	for i := range maxLimiterEntries + 10 {
		l.Allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now.Add(time.Second))
	}
	if len(l.clients) > maxLimiterEntries {
		t.Fatalf("%d entries", len(l.clients))
	}
	if ok, _ := l.Allow("203.0.113.1", now.Add(2*time.Second)); ok {
		t.Fatal("the flood emptied the punished client's bucket")
	}
}
