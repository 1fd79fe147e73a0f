package ui

import (
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
