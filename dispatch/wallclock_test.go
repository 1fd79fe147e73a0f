package dispatch_test

import (
	"fmt"
	"testing"
	"time"

	"herald/dispatch"
)

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWallClock_Next checks the digest schedule across clock changes
// (SPEC 12): a time that a spring-forward skips fires at the change, the
// first valid instant after it that day; a time that a fall-back repeats
// fires once, at its first occurrence.
func TestWallClock_Next(t *testing.T) {
	tests := []struct {
		name, zone, spec, after string
		want                    []string // the next fire times, UTC
	}{
		{"New York spring forward, skipped 02:30 fires at 03:00 EDT", "America/New_York", "30 2 * * *", "2026-03-07T17:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"New York spring forward, 07:00 unaffected", "America/New_York", "0 7 * * *", "2026-03-07T17:00:00Z",
			[]string{"2026-03-08T11:00:00Z", "2026-03-09T11:00:00Z"}},
		{"New York spring forward, two times in the gap fire once", "America/New_York", "0,30 2 * * *", "2026-03-07T17:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:30:00Z"}},
		{"New York spring forward, weekly on that Sunday", "America/New_York", "30 2 * * 0", "2026-03-05T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-15T06:30:00Z"}},
		{"New York fall back, repeated 01:30 fires once (EDT)", "America/New_York", "30 1 * * *", "2026-10-31T16:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"New York fall back, asked during the second 01:xx", "America/New_York", "30 1 * * *", "2026-11-01T06:10:00Z",
			[]string{"2026-11-02T06:30:00Z"}},
		{"Paris spring forward, skipped 02:30 fires at 03:00 CEST", "Europe/Paris", "30 2 * * *", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"Paris fall back, repeated 02:30 fires once (CEST)", "Europe/Paris", "30 2 * * *", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"Lord Howe spring forward by 30 minutes, 02:15 fires at 02:30", "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T00:00:00Z",
			[]string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
		{"Lord Howe fall back by 30 minutes, 01:45 fires once", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z",
			[]string{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}},
		{"UTC weekly", "UTC", "0 7 * * 1", "2026-07-06T07:00:00Z",
			[]string{"2026-07-13T07:00:00Z", "2026-07-20T07:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			sched := dispatch.WallClock(tt.spec)
			at := mustParse(t, tt.after).In(loc)
			for i, w := range tt.want {
				at = sched.Next(at)
				if want := mustParse(t, w); !at.Equal(want) {
					t.Fatalf("fire %d = %s (%s), want %s (%s)", i+1, at.UTC().Format(time.RFC3339), at.Format("15:04 MST"),
						w, want.In(loc).Format("15:04 MST"))
				}
				if at.Location() != loc {
					t.Errorf("fire %d is in %v, want the zone asked in (%v)", i+1, at.Location(), loc)
				}
			}
		})
	}
}

// TestWallClock_OncePerDay walks a daily schedule through the days around
// both clock changes of 2026 and counts the fires per local date: one each,
// with the skipped time on the spring day and the repeated one on the
// autumn day.
func TestWallClock_OncePerDay(t *testing.T) {
	for _, tt := range []struct{ zone, spec, from string }{
		{"America/New_York", "30 2 * * *", "2026-03-06T00:00:00Z"},
		{"America/New_York", "30 1 * * *", "2026-10-30T00:00:00Z"},
		{"Europe/Paris", "30 2 * * *", "2026-03-27T00:00:00Z"},
		{"Europe/Paris", "30 2 * * *", "2026-10-23T00:00:00Z"},
		{"Australia/Lord_Howe", "15 2 * * *", "2026-10-01T00:00:00Z"},
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-02T00:00:00Z"},
	} {
		t.Run(fmt.Sprintf("%s %s %s", tt.zone, tt.spec, tt.from[:10]), func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			sched := dispatch.WallClock(tt.spec)
			start := mustParse(t, tt.from)
			days := map[string]int{}
			for at := sched.Next(start.In(loc)); at.Before(start.Add(6 * 24 * time.Hour)); at = sched.Next(at) {
				days[at.In(loc).Format("2006-01-02")]++
			}
			if len(days) != 6 {
				t.Errorf("fires on %d days, want 6: %v", len(days), days)
			}
			for d, n := range days {
				if n != 1 {
					t.Errorf("%d fires on %s", n, d)
				}
			}
		})
	}
}

// TestPrevFire_SkippedTime checks the scheduler's current period on a
// spring-forward day: from 03:00 EDT on, the day's 02:30 digest is due.
func TestPrevFire_SkippedTime(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct{ now, want string }{
		{"2026-03-08T06:59:00Z", "2026-03-07T07:30:00Z"}, // 01:59 EST: yesterday's 02:30 EST
		{"2026-03-08T07:00:00Z", "2026-03-08T07:00:00Z"}, // 03:00 EDT: today's, at the change
		{"2026-03-08T16:00:00Z", "2026-03-08T07:00:00Z"},
		{"2026-03-09T06:29:00Z", "2026-03-08T07:00:00Z"},
		{"2026-03-09T06:30:00Z", "2026-03-09T06:30:00Z"}, // 02:30 EDT
		{"2026-11-01T06:45:00Z", "2026-11-01T05:30:00Z"}, // 01:45 EST, the second pass: still the first 01:30
	}
	for _, tt := range tests {
		spec := "30 2 * * *"
		if tt.now[:10] == "2026-11-01" {
			spec = "30 1 * * *"
		}
		if got := dispatch.PrevFire(spec, mustParse(t, tt.now), ny); !got.Equal(mustParse(t, tt.want)) {
			t.Errorf("PrevFire(%q, %s) = %s, want %s", spec, tt.now, got.Format(time.RFC3339), tt.want)
		}
	}
}
