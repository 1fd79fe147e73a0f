package dispatch_test

import (
	"fmt"
	"testing"
	"time"

	"herald/dispatch"
)

// TestSchedule_DSTAndOddOffsets runs the scheduler every 5 minutes of a
// simulated clock across both European clock changes of 2026 and checks
// that subscribers in UTC, Paris (DST), São Paulo (no DST since 2019) and
// Kathmandu (UTC+05:45) each get exactly one digest a day, at 07:00 on
// their own clock.
func TestSchedule_DSTAndOddOffsets(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates eight days of scheduler ticks")
	}
	for _, window := range []struct{ name, from string }{
		{"spring forward", "2026-03-27T12:00:00Z"}, // Paris: 2026-03-29 02:00 -> 03:00
		{"fall back", "2026-10-23T12:00:00Z"},      // Paris: 2026-10-25 03:00 -> 02:00
	} {
		t.Run(window.name, func(t *testing.T) {
			f := newFixture(t)
			start, _ := time.Parse(time.RFC3339, window.from)
			f.clock.Set(start)
			zones := []string{"UTC", "Europe/Paris", "America/Sao_Paulo", "Asia/Kathmandu"}
			ids := map[string]int64{}
			for _, tz := range zones {
				ids[tz] = f.subscriber(sub{email: fmt.Sprintf("%d@example.org", len(ids)), cadence: "daily", tz: tz}).ID
			}
			end := start.Add(4 * 24 * time.Hour)
			for now := start; now.Before(end); now = now.Add(5 * time.Minute) {
				f.clock.Set(now)
				if now.Minute() == 30 {
					f.release(rel{title: "News at " + now.Format(time.RFC3339), lang: "en", topics: []string{"migration"}})
				}
				f.disp.RunScheduleOnce(f.ctx)
			}
			for _, tz := range zones {
				loc, _ := time.LoadLocation(tz)
				days := map[string]int{}
				for _, m := range f.mails(ids[tz], "digest") {
					local := m.CreatedAt.In(loc)
					if local.Hour() != 7 || local.Minute() >= 5 {
						t.Errorf("%s: digest queued at %s local, want 07:00-07:05", tz, local.Format("2006-01-02 15:04 MST"))
					}
					days[local.Format("2006-01-02")]++
				}
				if len(days) != 4 {
					t.Errorf("%s: digests on %d days, want 4: %v", tz, len(days), days)
				}
				for d, n := range days {
					if n != 1 {
						t.Errorf("%s: %d digests on %s", tz, n, d)
					}
				}
			}
		})
	}
}

// TestSchedule_SkippedTimeFiresAtTheChange runs the scheduler every 5
// minutes of a simulated clock across New York's spring-forward day with a
// daily digest at 02:30, a time that day does not have: the digest of
// 2026-03-08 is queued at 03:00 EDT, the first instant after it (SPEC 12),
// not skipped to the next day; and each day still gets one digest.
func TestSchedule_SkippedTimeFiresAtTheChange(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates three days of scheduler ticks")
	}
	f := newFixture(t)
	disp, err := dispatch.New(f.db, f.rel, dispatch.Options{DigestDaily: "30 2 * * *", DigestWeekly: "30 2 * * 0",
		AlertMaxAge: 24 * time.Hour, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := time.Parse(time.RFC3339, "2026-03-06T12:00:00Z")
	f.clock.Set(start)
	id := f.subscriber(sub{email: "ny@example.org", cadence: "daily", tz: "America/New_York"}).ID
	ny, _ := time.LoadLocation("America/New_York")
	for now := start; now.Before(start.Add(3 * 24 * time.Hour)); now = now.Add(5 * time.Minute) {
		f.clock.Set(now)
		if now.Minute() == 20 {
			f.release(rel{title: "News at " + now.Format(time.RFC3339), lang: "en", topics: []string{"migration"}})
		}
		disp.RunScheduleOnce(f.ctx)
	}
	want := map[string]string{"2026-03-07": "02:30 EST", "2026-03-08": "03:00 EDT", "2026-03-09": "02:30 EDT"}
	got := map[string]string{}
	for _, m := range f.mails(id, "digest") {
		local := m.CreatedAt.In(ny)
		day := local.Format("2006-01-02")
		if prev, dup := got[day]; dup {
			t.Errorf("two digests on %s: at %s and %s", day, prev, local.Format("15:04 MST"))
		}
		got[day] = local.Truncate(5 * time.Minute).Format("15:04 MST")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("digests queued at %v, want %v", got, want)
	}
}
