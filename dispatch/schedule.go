package dispatch

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduleTick is how often the digest scheduler looks for due periods.
const scheduleTick = 20 * time.Second

// RunSchedule sends scheduled digests until ctx ends (SPEC 5.3): for each
// cadence and each time zone of its subscribers, the latest cron fire time
// in that zone is the current period; subscribers whose last period is
// older get their digest. A period missed while the daemon was down is made
// up at the next start, as one digest covering the whole window.
func (s *Service) RunSchedule(ctx context.Context) {
	t := time.NewTicker(scheduleTick)
	defer t.Stop()
	for {
		s.scheduleOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) scheduleOnce(ctx context.Context) {
	now := s.now()
	for _, c := range []struct {
		cadence string
		sched   cron.Schedule
	}{{CadenceDaily, s.daily}, {CadenceWeekly, s.weekly}} {
		tzs, err := s.db.DigestTimezones(ctx, c.cadence)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("digest schedule: listing time zones failed", "err", err)
			}
			return
		}
		for _, tz := range tzs {
			if ctx.Err() != nil {
				return
			}
			loc, err := time.LoadLocation(tz)
			if err != nil {
				s.log.Warn("digest schedule: unknown time zone of subscribers", "timezone", tz)
				continue
			}
			period := prevFire(c.sched, now, loc)
			if period.IsZero() {
				continue
			}
			due, err := s.db.DigestDue(ctx, c.cadence, tz, period)
			if err != nil || due == 0 {
				continue
			}
			_, err = s.RunDigest(ctx, DigestRequest{Cadence: c.cadence, Origin: OriginSchedule, Timezone: tz, Period: period})
			if err != nil && ctx.Err() == nil {
				s.log.Error("scheduled digest failed", "cadence", c.cadence, "timezone", tz, "err", err)
			}
		}
	}
}

// prevFire returns the latest activation of sched at or before now, with
// the schedule read in loc, or the zero time when none is found within a
// year.
func prevFire(sched cron.Schedule, now time.Time, loc *time.Location) time.Time {
	local := now.In(loc)
	for _, back := range []time.Duration{time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		var last time.Time
		for t := sched.Next(local.Add(-back)); !t.After(local); t = sched.Next(t) {
			last = t
		}
		if !last.IsZero() {
			return last.UTC()
		}
	}
	return time.Time{}
}
