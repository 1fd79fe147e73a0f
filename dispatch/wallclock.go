package dispatch

import (
	"time"

	"github.com/robfig/cron/v3"
)

// wallClock is a cron schedule read on the wall clock of a time zone, with
// the clock changes settled as SPEC 12 asks:
//
//   - a time that a spring-forward skips (02:30 in New York on the second
//     Sunday of March) fires at the first instant after it that day, the
//     change itself (03:00 EDT);
//   - a time that a fall-back repeats (01:30 in New York on the first Sunday
//     of November) fires once, at its first occurrence.
//
// robfig/cron steps through real hours in the zone, so it jumps from a
// skipped time to the next day and fires a repeated time twice. wallClock
// instead asks it for the next wall-clock time in UTC, where the clock
// never changes, and then finds the instant at which the zone's clock shows
// that time. Every wall-clock time fires once, so two times in one gap
// (02:00 and 02:30) fire once together at the change.
type wallClock struct {
	spec cron.Schedule  // the schedule, read in UTC
	loc  *time.Location // the spec's CRON_TZ, or nil: the zone of the time given to Next
}

// newWallClock wraps a parsed spec. Schedules that are not wall-clock times
// (@every 1h: a fixed delay) are returned as they are.
func newWallClock(s cron.Schedule) cron.Schedule {
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return s
	}
	w := &wallClock{}
	if spec.Location != time.Local {
		w.loc = spec.Location
	}
	utc := *spec
	utc.Location = time.UTC
	w.spec = &utc
	return w
}

// Next returns the first activation after t, in t's location, or the zero
// time when there is none within robfig/cron's five years.
func (w *wallClock) Next(t time.Time) time.Time {
	loc := w.loc
	if loc == nil {
		loc = t.Location()
	}
	for c := w.spec.Next(wallTime(t.In(loc))); !c.IsZero(); c = w.spec.Next(c) {
		// After a fall-back the wall clock shows times again that already
		// fired in the first pass: their first occurrence is before t.
		if at := firstInstant(c, loc); at.After(t) {
			return at.In(t.Location())
		}
	}
	return time.Time{}
}

// wallTime is the reading of t's clock as a UTC time.
func wallTime(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// firstInstant returns the first instant at which loc's clock shows wall (a
// UTC time read as a wall-clock time), or, when loc's clock skips it, the
// instant of the change that skips it.
func firstInstant(wall time.Time, loc *time.Location) time.Time {
	// The offsets in force a day either side of wall: a time that exists
	// shows under one of them, a repeated time under both.
	_, before := wall.Add(-24 * time.Hour).In(loc).Zone()
	_, after := wall.Add(24 * time.Hour).In(loc).Zone()
	var first time.Time
	for _, off := range []int{before, after} {
		at := wall.Add(-time.Duration(off) * time.Second)
		if wallTime(at.In(loc)).Equal(wall) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	if !first.IsZero() {
		return first.In(loc)
	}
	// A gap: read with the offset before it, wall lies past the change, in
	// the zone period that the change starts.
	start, _ := wall.Add(-time.Duration(before) * time.Second).In(loc).ZoneBounds()
	return start
}
