package dispatch_test

import (
	"fmt"
	"herald/store"
	"sync"
	"testing"
	"time"

	"herald/dispatch"
)

func TestDigest_WindowOrderAndOnce(t *testing.T) {
	f := newFixture(t)
	d := f.subscriber(sub{email: "d@example.org", cadence: "daily", regions: []string{"americas"}})
	w := f.subscriber(sub{email: "w@example.org", cadence: "weekly"})
	f.clock.Add(time.Hour)
	old := f.release(rel{title: "Before confirmation", lang: "en", topics: []string{"migration"}, at: f.clock.Now().Add(-2 * time.Hour)})
	a := f.release(rel{title: "A", lang: "en", topics: []string{"migration"}, regions: []string{"argentina"}})
	f.clock.Add(time.Hour)
	b := f.release(rel{title: "B global", lang: "en", topics: []string{"refugees"}})
	f.release(rel{title: "Europe only", lang: "en", topics: []string{"migration"}, regions: []string{"france"}})
	f.release(rel{title: "Draft", lang: "en", topics: []string{"migration"}, draft: true})
	emb := f.release(rel{title: "Embargoed", lang: "en", topics: []string{"migration"}, at: f.clock.Now().Add(time.Hour)})
	_ = old

	dry, err := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily", DryRun: true})
	if err != nil || dry.Recipients != 1 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	res, err := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"})
	if err != nil || res.Recipients != 1 {
		t.Fatalf("run: %+v %v", res, err)
	}
	got := f.digestIDs(d.ID)
	if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint([]int64{b.ID, a.ID}) {
		t.Fatalf("daily digest = %v, want [[%d %d]] (newest first, no draft, embargo, other region or pre-confirmation release)", got, b.ID, a.ID)
	}
	if len(f.digestIDs(w.ID)) != 0 {
		t.Fatal("the weekly subscriber got a daily digest")
	}
	// Running again at once: nothing new, nothing queued.
	res, _ = f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"})
	if res.Recipients != 0 || len(f.digestIDs(d.ID)) != 1 {
		t.Fatalf("repeated run queued %d", res.Recipients)
	}
	// A release after the run waits for the next period (07:00 tomorrow):
	// at most one digest per period, even if a run is repeated.
	f.clock.Add(time.Hour)
	c := f.release(rel{title: "C", lang: "en", topics: []string{"migration"}})
	res, _ = f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"})
	if res.Recipients != 0 || len(f.digestIDs(d.ID)) != 1 {
		t.Fatalf("a second run in the same period queued %d", res.Recipients)
	}
	// Next period: C, and the embargoed release once its time came.
	f.clock.Set(time.Date(2026, 7, 7, 7, 30, 0, 0, time.UTC))
	res, _ = f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"})
	got = f.digestIDs(d.ID)
	if res.Recipients != 1 || len(got) != 2 || fmt.Sprint(got[1]) != fmt.Sprint([]int64{c.ID, emb.ID}) {
		t.Fatalf("second digest = %v, want [%d %d]", got, c.ID, emb.ID)
	}
	// No mail when nothing matches.
	f.clock.Set(time.Date(2026, 7, 8, 7, 30, 0, 0, time.UTC))
	f.release(rel{title: "Europe again", lang: "en", topics: []string{"migration"}, regions: []string{"france"}})
	res, _ = f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"})
	if res.Recipients != 0 {
		t.Fatalf("a digest with nothing matching was queued")
	}
}

// TestDigest_StaffRunReachesNewSubscribersOncePerPeriod: a subscriber who
// had nothing to receive at a staff run still gets the period's digest at a
// later staff run; one who got it waits for the next period.
func TestDigest_StaffRunReachesNewSubscribersOncePerPeriod(t *testing.T) {
	f := newFixture(t)
	s := f.subscriber(sub{email: "s@example.org", cadence: "daily"})
	f.clock.Add(time.Minute)
	if res, _ := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"}); res.Recipients != 0 {
		t.Fatal("a digest with nothing in it")
	}
	r := f.release(rel{title: "News", lang: "en", topics: []string{"migration"}})
	if res, _ := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"}); res.Recipients != 1 {
		t.Fatalf("staff run after the first release queued %d", res.Recipients)
	}
	if got := f.digestIDs(s.ID); len(got) != 1 || got[0][0] != r.ID {
		t.Fatalf("digest = %v", got)
	}
	// The scheduler, later the same day, sends nothing more for this period.
	f.clock.Add(time.Hour)
	f.release(rel{title: "More", lang: "en", topics: []string{"migration"}})
	f.disp.RunScheduleOnce(f.ctx)
	if len(f.digestIDs(s.ID)) != 1 {
		t.Fatal("the scheduler sent a second digest in the same period")
	}
}

func TestDigest_OneVersionPerGroup(t *testing.T) {
	f := newFixture(t)
	fr := f.subscriber(sub{email: "fr@example.org", cadence: "daily", lang: "fr"})
	de := f.subscriber(sub{email: "de@example.org", cadence: "daily", lang: "de"})
	f.clock.Add(time.Minute)
	en := f.release(rel{title: "Road map", lang: "en", key: "rm", topics: []string{"migration"}})
	f.clock.Add(time.Minute)
	frR := f.release(rel{title: "Feuille de route", lang: "fr", key: "rm", topics: []string{"migration"}})
	if _, err := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"}); err != nil {
		t.Fatal(err)
	}
	if got := f.digestIDs(fr.ID); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint([]int64{frR.ID}) {
		t.Errorf("fr digest = %v, want only the French version", got)
	}
	if got := f.digestIDs(de.ID); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint([]int64{en.ID}) {
		t.Errorf("de digest = %v, want only the earliest version", got)
	}
}

func TestDigest_ConcurrentRunsQueueOnce(t *testing.T) {
	f := newFixture(t)
	const n = 1500
	for i := 0; i < n; i++ {
		f.subscriber(sub{email: fmt.Sprintf("s%04d@example.org", i), cadence: "weekly"})
	}
	f.clock.Add(time.Minute)
	f.release(rel{title: "News", lang: "en", topics: []string{"migration"}})
	var wg sync.WaitGroup
	results := make([]int, 3)
	for i := range results {
		wg.Go(func() {
			res, err := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "weekly"})
			if err != nil {
				t.Error(err)
			}
			results[i] = res.Recipients
		})
	}
	wg.Wait()
	if total := results[0] + results[1] + results[2]; total != n {
		t.Fatalf("concurrent runs queued %v = %d digests, want %d in all", results, total, n)
	}
}

func TestSchedule_LocalTimeOncePerPeriodAndMakeUp(t *testing.T) {
	f := newFixture(t)
	// 2026-07-06 is a Monday. Paris is UTC+2 in July: 07:00 local = 05:00 UTC.
	f.clock.Set(time.Date(2026, 7, 5, 20, 0, 0, 0, time.UTC))
	paris := f.subscriber(sub{email: "paris@example.org", cadence: "daily", tz: "Europe/Paris"})
	ny := f.subscriber(sub{email: "ny@example.org", cadence: "daily", tz: "America/New_York"})
	f.clock.Add(time.Minute)
	r := f.release(rel{title: "Evening news", lang: "en", topics: []string{"migration"}})

	step := func(to time.Time) {
		f.clock.Set(to)
		f.disp.RunScheduleOnce(f.ctx)
	}
	step(time.Date(2026, 7, 6, 4, 59, 0, 0, time.UTC))
	if len(f.digestIDs(paris.ID)) != 0 {
		t.Fatal("Paris digest before 07:00 Paris time")
	}
	step(time.Date(2026, 7, 6, 5, 0, 30, 0, time.UTC))
	if got := f.digestIDs(paris.ID); len(got) != 1 || got[0][0] != r.ID {
		t.Fatalf("Paris digest at 07:00 local = %v", got)
	}
	if len(f.digestIDs(ny.ID)) != 0 {
		t.Fatal("New York digest at 01:00 New York time")
	}
	step(time.Date(2026, 7, 6, 6, 0, 0, 0, time.UTC))
	if len(f.digestIDs(paris.ID)) != 1 {
		t.Fatal("second Paris digest in the same period")
	}
	step(time.Date(2026, 7, 6, 11, 0, 30, 0, time.UTC)) // 07:00 in New York (UTC-4)
	if len(f.digestIDs(ny.ID)) != 1 {
		t.Fatal("no New York digest at 07:00 local")
	}

	// Down for three days: one make-up digest covering the whole window.
	var missed []int64
	for d := 0; d < 3; d++ {
		f.clock.Set(time.Date(2026, 7, 7+d, 12, 0, 0, 0, time.UTC))
		missed = append(missed, f.release(rel{title: fmt.Sprintf("Day %d", d), lang: "en", topics: []string{"migration"}}).ID)
	}
	step(time.Date(2026, 7, 9, 18, 0, 0, 0, time.UTC))
	got := f.digestIDs(paris.ID)
	if len(got) != 2 || fmt.Sprint(got[1]) != fmt.Sprint([]int64{missed[2], missed[1], missed[0]}) {
		t.Fatalf("make-up digest = %v, want one with %v newest first", got, missed)
	}
}

func TestPrevFire_DST(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		now  time.Time
		want time.Time
	}{
		{time.Date(2026, 3, 29, 6, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 5, 0, 0, 0, time.UTC)}, // after the spring change: UTC+2
		{time.Date(2026, 3, 29, 5, 30, 0, 0, time.UTC), time.Date(2026, 3, 29, 5, 0, 0, 0, time.UTC)},
		{time.Date(2026, 3, 29, 4, 30, 0, 0, time.UTC), time.Date(2026, 3, 28, 6, 0, 0, 0, time.UTC)}, // before: yesterday 07:00 UTC+1
		{time.Date(2026, 10, 25, 6, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 6, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := dispatch.PrevFire("0 7 * * *", tt.now, paris); !got.Equal(tt.want) {
			t.Errorf("PrevFire(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
	if got := dispatch.PrevFire("0 7 * * 1", time.Date(2026, 7, 9, 12, 0, 0, 0, time.UTC), time.UTC); !got.Equal(time.Date(2026, 7, 6, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly = %v", got)
	}
}

// A staff run walks every time zone at once and records, for each
// subscriber, the period of their own zone: the scheduler then sends
// nothing more in that period in Paris, and New York's next period (which
// starts later) still gets its digest.
func TestDigest_StaffRunRecordsEachZonesOwnPeriod(t *testing.T) {
	f := newFixture(t)
	// 06:00 UTC: 08:00 in Paris (today's 07:00 passed), 02:00 in New York
	// (its current period began yesterday at 07:00).
	f.clock.Set(time.Date(2026, 7, 6, 5, 30, 0, 0, time.UTC))
	paris := f.subscriber(sub{email: "paris@example.org", cadence: "daily", tz: "Europe/Paris"})
	ny := f.subscriber(sub{email: "ny@example.org", cadence: "daily", tz: "America/New_York"})
	f.clock.Set(time.Date(2026, 7, 6, 6, 0, 0, 0, time.UTC))
	r := f.release(rel{title: "Morning news", lang: "en", topics: []string{"migration"}})
	res, err := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"})
	if err != nil || res.Recipients != 2 || res.Examined != 2 {
		t.Fatalf("staff run = %+v, %v; want 2 digests of 2 subscribers", res, err)
	}
	for _, s := range []store.Subscriber{paris, ny} {
		if got := f.digestIDs(s.ID); len(got) != 1 || got[0][0] != r.ID {
			t.Fatalf("%s: digests %v", s.Email, got)
		}
	}
	// A second staff run in the same periods sends nothing.
	if res, _ := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"}); res.Recipients != 0 {
		t.Fatalf("second staff run queued %d", res.Recipients)
	}
	// Paris's period is today's: nothing more from the scheduler today.
	f.clock.Set(time.Date(2026, 7, 6, 9, 0, 0, 0, time.UTC))
	f.release(rel{title: "Later news", lang: "en", topics: []string{"migration"}})
	f.disp.RunScheduleOnce(f.ctx)
	if len(f.digestIDs(paris.ID)) != 1 {
		t.Fatal("Paris got a second digest in the period of the staff run")
	}
	// New York's staff-run period was yesterday's: today's 07:00 there
	// (11:00 UTC) starts a new one, with the later release.
	f.clock.Set(time.Date(2026, 7, 6, 11, 0, 30, 0, time.UTC))
	f.disp.RunScheduleOnce(f.ctx)
	if got := f.digestIDs(ny.ID); len(got) != 2 {
		t.Fatalf("New York digests %v, want the staff run's and today's", got)
	}
}
