package dispatch

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// RunScheduleOnce runs one scheduler tick, for tests.
func (s *Service) RunScheduleOnce(ctx context.Context) { s.scheduleOnce(ctx) }

// PrevFire exposes prevFire for tests.
func PrevFire(spec string, now time.Time, loc *time.Location) time.Time {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		panic(err)
	}
	return prevFire(sched, now, loc)
}

// RunAutoAlertsOnce runs one pass of the automatic alerts, for tests.
func (s *Service) RunAutoAlertsOnce(ctx context.Context) {
	if err := s.autoAlerts(ctx); err != nil {
		panic(err)
	}
}
