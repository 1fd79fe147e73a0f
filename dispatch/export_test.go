package dispatch

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// RunScheduleOnce runs one scheduler tick, for tests.
func (s *Service) RunScheduleOnce(ctx context.Context) { s.scheduleOnce(ctx) }

// PrevFire exposes prevFire for tests, with the spec read on the wall clock
// as the scheduler reads it.
func PrevFire(spec string, now time.Time, loc *time.Location) time.Time {
	return prevFire(WallClock(spec), now, loc)
}

// WallClock parses a standard cron spec into the schedule the scheduler
// uses, for tests.
func WallClock(spec string) cron.Schedule {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		panic(err)
	}
	return newWallClock(sched)
}

// RunAutoAlertsOnce runs one pass of the automatic alerts, for tests.
func (s *Service) RunAutoAlertsOnce(ctx context.Context) {
	if err := s.autoAlerts(ctx); err != nil {
		panic(err)
	}
}
