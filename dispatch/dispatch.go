// Package dispatch decides who gets what, when: staff-triggered and
// automatic alerts, scheduled and on-demand digests, and the content of
// those messages. It reads releases and subscribers, applies the one
// matching rule of the releases package, and queues messages in the outbox
// for the mailer; it never sends anything itself.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"herald/audit"
	"herald/releases"
	"herald/store"
)

// batchSize is how many subscribers one fan-out transaction handles.
const batchSize = 1000

// writeConcurrently runs work in n goroutines (at least one), as many as
// the database takes writers at once (store.DB.Writers), and waits for all
// of them. The first error cancels the ctx the others were given, and is
// the one returned, not the cancellation it caused.
func writeConcurrently(ctx context.Context, n int, work func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, max(1, n))
	for range cap(errs) {
		go func() {
			err := work(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range cap(errs) {
		first = firstCause(first, <-errs)
	}
	return first
}

// firstCause keeps the error that stopped concurrent writers: the first
// one, unless it is only the cancellation that another writer's error
// caused, which err then replaces.
func firstCause(first, err error) error {
	if first == nil || errors.Is(first, context.Canceled) && err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return first
}

// Cadences.
const (
	CadenceImmediate = "immediate"
	CadenceDaily     = "daily"
	CadenceWeekly    = "weekly"
)

// Options configures the dispatcher.
type Options struct {
	DigestDaily  string        // cron spec, read in each subscriber's time zone
	DigestWeekly string        // cron spec
	AlertMaxAge  time.Duration // alerts not delivered this long after going live are dropped
	Now          func() time.Time
	Logger       *slog.Logger
	// Notify is called after messages were queued, to wake the mailer.
	Notify func()
	// Audit records alerts and digest runs (SPEC 7.3); nil records nothing.
	Audit *audit.Recorder
}

// Service is the dispatcher.
type Service struct {
	db       *store.DB
	releases *releases.Service
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	daily    cron.Schedule
	weekly   cron.Schedule
}

// New returns a dispatcher. The cron specs must be valid (config checks
// them at startup).
func New(db *store.DB, rel *releases.Service, opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AlertMaxAge <= 0 {
		opts.AlertMaxAge = 24 * time.Hour
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	s := &Service{db: db, releases: rel, opts: opts, log: opts.Logger, now: opts.Now}
	daily, err := cron.ParseStandard(opts.DigestDaily)
	if err != nil {
		return nil, fmt.Errorf("dispatch: daily digest spec %q: %w", opts.DigestDaily, err)
	}
	weekly, err := cron.ParseStandard(opts.DigestWeekly)
	if err != nil {
		return nil, fmt.Errorf("dispatch: weekly digest spec %q: %w", opts.DigestWeekly, err)
	}
	// Read on each zone's wall clock, so that clock changes neither skip
	// nor repeat a digest time (SPEC 12).
	s.daily, s.weekly = newWallClock(daily), newWallClock(weekly)
	return s, nil
}

// ValidationError reports an invalid request field (HTTP 422).
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// InvalidField names the field, for the API's error mapper.
func (e *ValidationError) InvalidField() string { return e.Field }

// ErrNotLive means an alert was asked for a release that is a draft or
// still under embargo.
var ErrNotLive = errors.New("release is not live")

// Error wrappers shared with the store.
var (
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
)
