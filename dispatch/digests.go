package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"herald/audit"
	"herald/store"
)

// Origins of a digest run.
const (
	OriginSchedule = "schedule"
)

// DigestRequest asks for a digest run.
type DigestRequest struct {
	Cadence string // daily | weekly
	DryRun  bool
	Origin  string // staff (default) | schedule
	// Timezone and Period make a scheduled run: the subscribers of one time
	// zone whose last digest period is older than Period (the cron fire
	// time there) get this period's digest. A staff run leaves them zero:
	// every time zone, each at its current period.
	Timezone string
	Period   time.Time
}

// DigestResult is what a digest run queued (or would queue).
type DigestResult struct {
	RunID      int64
	Recipients int // digests queued
	Examined   int // subscribers looked at
}

// DigestPayload is the outbox payload of a digest: the releases it lists,
// newest first, and the window they were chosen from.
type DigestPayload struct {
	Cadence    string  `json:"cadence"`
	Since      int64   `json:"since"` // Unix ms, exclusive
	Until      int64   `json:"until"` // Unix ms, inclusive
	ReleaseIDs []int64 `json:"release_ids"`
}

// RunDigest queues a digest for each due subscriber of a cadence with
// matching releases published after their watermark and not after now
// (SPEC 5.3). A subscriber gets at most one digest per period: the span
// between two fire times of the cadence's cron spec in their own time
// zone. A scheduled run handles one time zone at its fire time and records
// the period for everyone it looked at; a staff run ("send now") sends the
// current period's digest to every subscriber who has not had one in it,
// and records the period only for those it sent one to. Each batch moves
// watermarks and periods in the same transaction that queues its digests,
// and the outbox key names the window start, so a repeated or concurrent
// run queues nothing twice and skips no release.
func (s *Service) RunDigest(ctx context.Context, req DigestRequest) (DigestResult, error) {
	var res DigestResult
	sched := s.daily
	switch req.Cadence {
	case CadenceDaily:
	case CadenceWeekly:
		sched = s.weekly
	default:
		return res, &ValidationError{Field: "cadence", Msg: `must be "daily" or "weekly"`}
	}
	if req.Origin == "" {
		req.Origin = OriginStaff
	}
	until := s.now()
	start := time.Now()
	w := &digestWindow{s: s, until: until}
	if !req.DryRun {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			res.RunID, err = tx.CreateDigestRun(ctx, req.Cadence, req.Origin, until)
			return err
		})
		if err != nil {
			return res, err
		}
	}
	pass := digestPass{tz: req.Timezone, period: req.Period}
	if req.Period.IsZero() {
		var err error
		if pass, err = s.staffPass(ctx, req.Cadence, sched, until); err != nil {
			return res, err
		}
	}
	if err := s.digestPass(ctx, w, req, pass, &res); err != nil {
		return res, err
	}
	if !req.DryRun {
		if err := s.db.FinishDigestRun(ctx, res.RunID, res.Recipients, s.now()); err != nil {
			return res, err
		}
		if res.Recipients > 0 {
			s.opts.Notify()
		}
	}
	s.log.Info("digest run", "run_id", res.RunID, "cadence", req.Cadence, "origin", req.Origin, "timezone", req.Timezone,
		"dry_run", req.DryRun, "examined", res.Examined, "recipients", res.Recipients, "duration", time.Since(start))
	if !req.DryRun {
		s.opts.Audit.Record(ctx, audit.Entry{Action: "digest.run", Target: "digest:" + strconv.FormatInt(res.RunID, 10),
			Details: map[string]any{"cadence": req.Cadence, "recipients": res.Recipients, "origin": req.Origin, "timezone": req.Timezone}})
	}
	return res, nil
}

// digestPass is one walk over subscribers: a scheduled run's time zone at
// its period, or a staff run's every zone (zones).
type digestPass struct {
	tz     string
	period time.Time // a staff run: now, later than every zone's period
	staff  bool      // record the period only for those who get a digest
	// zones, for a staff run, holds the current period of each time zone
	// seen (periodFor); a subscriber who had their zone's period's digest
	// is passed over. nil for a scheduled run.
	zones map[string]time.Time
	sched cron.Schedule
	mu    *sync.Mutex // zones, read and written by batches at once
}

// periodFor is the current period in tz of a staff run, computed once per
// zone (a zone that does not load keeps the run's time).
func (p digestPass) periodFor(tz string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if period, ok := p.zones[tz]; ok {
		return period
	}
	period := p.period
	if loc, err := time.LoadLocation(tz); err == nil {
		if f := prevFire(p.sched, p.period, loc); !f.IsZero() {
			period = f
		}
	}
	p.zones[tz] = period
	return period
}

// zoneDue is a copy of the zones' periods for one batch's query (nil for a
// scheduled run): the walk may add zones while batches run.
func (p digestPass) zoneDue() map[string]time.Time {
	if p.zones == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.zones)
}

// staffPass returns the pass of a staff run: one walk over the cadence's
// active subscribers of every time zone, each at the current period in
// their own zone. (One pass per time zone rewrote every page of the
// subscribers table once per zone: each zone's subscribers are spread
// over all of it.) The zones known now get their period in the query,
// which then passes over those who had it; a zone first seen during the
// walk is judged in Go.
func (s *Service) staffPass(ctx context.Context, cadence string, sched cron.Schedule, now time.Time) (digestPass, error) {
	p := digestPass{period: now, staff: true, zones: map[string]time.Time{}, sched: sched, mu: &sync.Mutex{}}
	tzs, err := s.db.DigestTimezones(ctx, cadence)
	for _, tz := range tzs {
		p.periodFor(tz)
	}
	return p, err
}

// digestRange is how many subscriber ids one digest batch covers. Batches
// are fixed id ranges, the same in every run, so that two runs at once
// lock the same batches (store.AudienceFilter.Lock) and a batch of one
// run waits for the other's batch of the same subscribers.
const digestRange = 2000

// digestPass walks the cadence's subscribers by id range, writing as many
// ranges at once as the database usefully takes (one on SQLite).
func (s *Service) digestPass(ctx context.Context, w *digestWindow, req DigestRequest, p digestPass, res *DigestResult) error {
	last, err := s.db.LastSubscriberID(ctx)
	if err != nil || last == 0 {
		return err
	}
	var next atomic.Int64 // the next range's first id - 1
	var mu sync.Mutex     // res
	return writeConcurrently(ctx, s.db.Writers(), func(ctx context.Context) error {
		for {
			after := next.Add(digestRange) - digestRange
			if after >= last {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err // another writer failed
			}
			one := DigestResult{RunID: res.RunID}
			if err := s.digestBatch(ctx, w, req, p, &one, after, after+digestRange); err != nil {
				return err
			}
			mu.Lock()
			res.Examined += one.Examined
			res.Recipients += one.Recipients
			mu.Unlock()
		}
	})
}

// digestBatch queues the digests of the subscribers of ids (after, through]
// in one transaction, and adds what it did to res.
func (s *Service) digestBatch(ctx context.Context, w *digestWindow, req DigestRequest, p digestPass, res *DigestResult, after, through int64) error {
	var n, queued int
	// The closure may run twice (a retried transaction): it only sets the
	// values above, and res changes once it committed.
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// The run's last write (or FlushLog) makes this batch durable.
		if err := tx.DeferFlush(ctx); err != nil {
			return err
		}
		n, queued = 0, 0
		aud, err := tx.Audience(ctx, store.AudienceFilter{
			Cadences: []string{req.Cadence}, Timezone: p.tz, DueFor: p.period, PeriodOnly: p.staff,
			ZoneDue: p.zoneDue(), AfterID: after, ThroughID: through, Lock: true,
		})
		if err != nil || len(aud) == 0 {
			return err
		}
		n = len(aud)
		set, err := w.covering(ctx, aud)
		if err != nil {
			return err
		}
		items := make([]store.OutboxItem, 0, len(aud))
		done := map[int64][]int64{} // period (Unix ms) -> whose watermark and period move to it
		keys := make([]string, 0, len(aud))
		for i := range aud {
			a := &aud[i]
			period := p.period
			if p.zones != nil {
				if period = p.periodFor(a.Timezone); !a.DigestPeriod.Before(period) {
					continue // had this period's digest
				}
			}
			if !p.staff {
				done[period.UnixMilli()] = append(done[period.UnixMilli()], a.ID)
			}
			since := watermark(a, w.until)
			picks := set.digestFor(a, since, w.until)
			if len(picks) == 0 {
				continue
			}
			dp := DigestPayload{Cadence: req.Cadence, Since: since.UnixMilli(), Until: w.until.UnixMilli()}
			for _, r := range picks {
				dp.ReleaseIDs = append(dp.ReleaseIDs, r.ID)
			}
			payload, err := json.Marshal(dp)
			if err != nil {
				return fmt.Errorf("dispatch: encode digest: %w", err)
			}
			key := "digest:" + strconv.FormatInt(a.ID, 10) + ":" + strconv.FormatInt(dp.Since, 10)
			keys = append(keys, key)
			items = append(items, store.OutboxItem{IdemKey: key, Kind: "digest", SubscriberID: a.ID,
				DigestRunID: res.RunID, Payload: string(payload)})
			if p.staff {
				done[period.UnixMilli()] = append(done[period.UnixMilli()], a.ID)
			}
		}
		if req.DryRun {
			had, err := tx.QueuedKeys(ctx, keys)
			if err != nil {
				return err
			}
			queued = len(keys) - len(had)
			return nil
		}
		if queued, err = tx.Enqueue(ctx, w.until, items); err != nil {
			return err
		}
		for period, ids := range done {
			if err := tx.SetDigestWatermarks(ctx, ids, w.until, time.UnixMilli(period)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		res.Recipients += queued
		res.Examined += n
	}
	return err
}

// watermark is where a subscriber's digest window starts: after their
// previous digest, or after their confirmation. A subscriber with neither
// (an import without a confirmation time) starts now.
func watermark(a *store.Audience, until time.Time) time.Time {
	switch {
	case !a.DigestSince.IsZero():
		return a.DigestSince
	case !a.ConfirmedAt.IsZero():
		return a.ConfirmedAt
	}
	return until
}

// digestWindow loads, once per run, the live releases published up to the
// run time and after the earliest watermark seen so far, with every live
// member of their translation groups (to choose each subscriber's version).
type digestWindow struct {
	s     *Service
	until time.Time
	from  time.Time // releases after this are loaded
	set   *releaseSet
	mu    sync.Mutex // from and set: batches run at once
}

func (w *digestWindow) covering(ctx context.Context, aud []store.Audience) (*releaseSet, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	from := w.until
	for i := range aud {
		if m := watermark(&aud[i], w.until); m.Before(from) {
			from = m
		}
	}
	if w.set != nil && !from.Before(w.from) {
		return w.set, nil
	}
	inWindow, err := w.s.db.ReleaseList(ctx, store.ReleaseFilter{Status: "live", LiveAt: w.until, PublishedAfter: from})
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	var groupKeys []string
	for i := range inWindow {
		if k := inWindow[i].TranslationKey; k != "" && !keys[k] {
			keys[k] = true
			groupKeys = append(groupKeys, k)
		}
	}
	all := inWindow
	if len(groupKeys) > 0 {
		more, err := w.s.db.ReleaseList(ctx, store.ReleaseFilter{Status: "live", LiveAt: w.until, TranslationKeys: groupKeys})
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		for _, r := range inWindow {
			seen[r.ID] = true
		}
		for _, r := range more {
			if !seen[r.ID] {
				all = append(all, r)
			}
		}
	}
	tax, err := w.s.releases.Taxonomy(ctx)
	if err != nil {
		return nil, err
	}
	w.from, w.set = from, newReleaseSet(tax, all)
	return w.set, nil
}
