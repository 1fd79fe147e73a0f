package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"herald/audit"
	"herald/releases"
	"herald/store"
)

// Audiences of an alert (SPEC 3).
const (
	AudienceMatching  = "matching"  // every active subscriber the release matches
	AudienceImmediate = "immediate" // only those with cadence immediate
)

// Origins of an alert.
const (
	OriginStaff = "staff"
	OriginAuto  = "auto"
	OriginTest  = "test"
)

// AlertRequest asks for an alert of one release (and so of its whole
// translation group: each recipient gets their own version).
type AlertRequest struct {
	ReleaseID int64
	Audience  string // matching (default) | immediate
	DryRun    bool   // count only
	TestTo    string // send one copy to this address only
	Origin    string // staff (default) | auto
}

// AlertResult is what an alert queued, or would queue for a dry run.
type AlertResult struct {
	AlertID    int64 // 0 for a dry run
	Recipients int   // messages newly queued: subscribers who already had the group are not counted
	ByCadence  map[string]int
	ByLanguage map[string]int // by the subscriber's language
}

// Alert queues an alert for a live release: one message per matching active
// subscriber who has not had this translation group yet (SPEC 5.2: at most
// one alert per subscriber per group, enforced by the outbox's unique key).
// It streams over subscribers in batches, each in one transaction.
func (s *Service) Alert(ctx context.Context, req AlertRequest) (AlertResult, error) {
	res := AlertResult{ByCadence: map[string]int{}, ByLanguage: map[string]int{}}
	if err := normalizeAlert(&req); err != nil {
		return res, err
	}
	rel, err := s.db.Release(ctx, req.ReleaseID)
	if err != nil {
		return res, err
	}
	now := s.now()
	if !releases.IsLive(&rel, now) {
		return res, fmt.Errorf("dispatch: alert for release %d: %w", rel.ID, ErrNotLive)
	}
	if req.TestTo != "" {
		return s.testAlert(ctx, rel, req, now)
	}
	f := store.ReleaseFilter{Status: "live", LiveAt: now}
	releases.FilterGroup(&f, &rel)
	members, err := s.db.ReleaseList(ctx, f)
	if err != nil {
		return res, err
	}
	if len(members) == 0 {
		return res, fmt.Errorf("dispatch: alert for release %d: %w", rel.ID, ErrNotLive)
	}
	tax, err := s.releases.Taxonomy(ctx)
	if err != nil {
		return res, err
	}
	set := newReleaseSet(tax, members)
	if !req.DryRun {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			res.AlertID, err = tx.CreateAlert(ctx, store.Alert{ReleaseID: rel.ID, Audience: req.Audience, Origin: req.Origin, CreatedAt: now})
			return err
		})
		if err != nil {
			return res, err
		}
	}
	start := time.Now()
	cadences := []string(nil)
	if req.Audience == AudienceImmediate {
		cadences = []string{CadenceImmediate}
	}
	var mu sync.Mutex // batches may be written at once: res is shared
	if err := s.fanOut(ctx, cadences, func(aud []store.Audience) error {
		return s.alertBatch(ctx, set, &mu, &res, req.DryRun, req.Origin, aud, now)
	}); err != nil {
		return res, err
	}
	if !req.DryRun {
		if err := s.db.FinishAlertFanout(ctx, res.AlertID, s.now()); err != nil {
			return res, err
		}
		s.opts.Notify()
	}
	s.log.Info("alert queued", "alert_id", res.AlertID, "release_id", rel.ID, "audience", req.Audience,
		"origin", req.Origin, "dry_run", req.DryRun, "recipients", res.Recipients, "duration", time.Since(start))
	if !req.DryRun {
		// SPEC 7.3: an alert's entry records the release, audience and
		// recipient count.
		s.opts.Audit.Record(ctx, audit.Entry{Action: "alert.send", Target: "alert:" + strconv.FormatInt(res.AlertID, 10),
			Details: map[string]any{"release": rel.ID, "audience": req.Audience, "recipients": res.Recipients, "origin": req.Origin}})
	}
	return res, nil
}

// fanOut reads the active subscribers of cadences (all when empty) in
// batches of batchSize, by id, and hands each batch to write. The next
// batch is read while write handles this one, on its own connection; where
// the database takes several writers at once (PostgreSQL), that many
// batches are written at once, so that herald prepares one while the
// server stores another. write must then be safe for concurrent use.
func (s *Service) fanOut(ctx context.Context, cadences []string, write func([]store.Audience) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type batch struct {
		aud []store.Audience
		err error
	}
	next := make(chan batch, 1)
	go func() {
		defer close(next)
		var after int64
		for {
			aud, err := s.db.Audience(ctx, store.AudienceFilter{Cadences: cadences, AfterID: after, Limit: batchSize})
			select {
			case next <- batch{aud, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(aud) < batchSize {
				return
			}
			after = aud[len(aud)-1].ID
		}
	}()
	err := writeConcurrently(ctx, s.db.Writers(), func(ctx context.Context) error {
		for b := range next {
			if b.err != nil {
				return b.err
			}
			if err := ctx.Err(); err != nil {
				return err // another writer failed
			}
			if len(b.aud) > 0 {
				if err := write(b.aud); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ctx.Err()
}

// alertBatch queues the alert for one batch of subscribers.
func (s *Service) alertBatch(ctx context.Context, set *releaseSet, mu *sync.Mutex, res *AlertResult, dry bool, origin string,
	aud []store.Audience, now time.Time) error {
	var added int
	byCadence, byLanguage := map[string]int{}, map[string]int{}
	// The closure may run twice (a retried transaction): it only sets the
	// values above, which are added to res once it committed.
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// The run's last write (or FlushLog) makes this batch durable.
		if err := tx.DeferFlush(ctx); err != nil {
			return err
		}
		added = 0
		clear(byCadence)
		clear(byLanguage)
		n := len(aud)
		items := make([]store.OutboxItem, 0, n)
		whom := make([]*store.Audience, 0, n)
		keys := make([]string, 0, n)
		g := set.groups[0]
		for i := range aud {
			a := &aud[i]
			r := set.pick(g, a)
			if r == nil {
				continue
			}
			key := alertKey(g.key, a.ID)
			items = append(items, store.OutboxItem{
				IdemKey: key, Kind: "alert", SubscriberID: a.ID, ReleaseID: r.ID, AlertID: res.AlertID,
				ExpiresAt: s.expiry(r, origin, now),
			})
			whom = append(whom, a)
			keys = append(keys, key)
		}
		// A dry run asks which keys exist; a real run learns it from the
		// insert itself (ON CONFLICT DO NOTHING).
		fresh := make([]bool, len(items))
		var err error
		if dry {
			had, err := tx.QueuedKeys(ctx, keys)
			if err != nil {
				return err
			}
			for i, k := range keys {
				fresh[i] = !had[k]
			}
		} else if fresh, err = tx.EnqueueEach(ctx, now, items); err != nil {
			return err
		}
		for i, f := range fresh {
			if f {
				added++
				byCadence[whom[i].Cadence]++
				byLanguage[whom[i].Language]++
			}
		}
		if dry || added == 0 {
			return nil
		}
		return tx.AddAlertRecipients(ctx, res.AlertID, added)
	})
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	res.Recipients += added
	for k, v := range byCadence {
		res.ByCadence[k] += v
	}
	for k, v := range byLanguage {
		res.ByLanguage[k] += v
	}
	return nil
}

// alertKey is the outbox idempotency key of an alert: one per subscriber and
// translation group. The group comes first so keys of one group sort together.
func alertKey(group string, subscriber int64) string {
	return "alert:" + group + ":" + strconv.FormatInt(subscriber, 10)
}

// liveMoment is when a release went live, for the stale-send guard.
func liveMoment(r *store.Release) time.Time {
	if !r.LiveAt.IsZero() {
		return r.LiveAt
	}
	return r.PublishedAt
}

// expiry is when an undelivered alert becomes stale (HERALD_ALERT_MAX_AGE):
// that long after the release went live, or, for an alert staff send later
// on purpose, that long after they sent it.
func (s *Service) expiry(r *store.Release, origin string, now time.Time) time.Time {
	from := liveMoment(r)
	if origin != OriginAuto && now.After(from) {
		from = now
	}
	return from.Add(s.opts.AlertMaxAge)
}

// testAlert queues one copy of the release to an address, recording nothing
// for any subscriber.
func (s *Service) testAlert(ctx context.Context, rel store.Release, req AlertRequest, now time.Time) (AlertResult, error) {
	res := AlertResult{ByCadence: map[string]int{}, ByLanguage: map[string]int{}}
	if req.DryRun {
		res.Recipients = 1
		return res, nil
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.CreateAlert(ctx, store.Alert{ReleaseID: rel.ID, Audience: req.Audience, Origin: OriginTest, TestTo: req.TestTo, CreatedAt: now})
		if err != nil {
			return err
		}
		res.AlertID = id
		item := store.OutboxItem{IdemKey: "test:" + strconv.FormatInt(id, 10), Kind: "alert", ToAddr: req.TestTo,
			ReleaseID: rel.ID, AlertID: id, ExpiresAt: now.Add(s.opts.AlertMaxAge)}
		if _, err := tx.Enqueue(ctx, now, []store.OutboxItem{item}); err != nil {
			return err
		}
		res.Recipients = 1
		return tx.AddAlertRecipients(ctx, id, 1)
	})
	if err != nil {
		return res, err
	}
	if err := s.db.FinishAlertFanout(ctx, res.AlertID, s.now()); err != nil {
		return res, err
	}
	s.opts.Notify()
	s.log.Info("alert test copy queued", "alert_id", res.AlertID, "release_id", rel.ID)
	s.opts.Audit.Record(ctx, audit.Entry{Action: "alert.test", Target: "alert:" + strconv.FormatInt(res.AlertID, 10),
		Details: map[string]any{"release": rel.ID, "to": req.TestTo}})
	return res, nil
}

func normalizeAlert(req *AlertRequest) error {
	req.Audience = strings.ToLower(strings.TrimSpace(req.Audience))
	if req.Audience == "" {
		req.Audience = AudienceMatching
	}
	if req.Audience != AudienceMatching && req.Audience != AudienceImmediate {
		return &ValidationError{Field: "audience", Msg: `must be "matching" or "immediate"`}
	}
	if req.Origin == "" {
		req.Origin = OriginStaff
	}
	req.TestTo = strings.TrimSpace(req.TestTo)
	if req.TestTo == "" {
		return nil
	}
	a, err := mail.ParseAddress(req.TestTo)
	if err != nil || strings.ContainsAny(req.TestTo, "\r\n,;") || len(req.TestTo) > 254 {
		return &ValidationError{Field: "test_to", Msg: "must be one email address"}
	}
	req.TestTo = a.Address
	return nil
}

// AlertStatus is an alert with its delivery counts (GET /api/v1/alerts/{id}).
func (s *Service) AlertStatus(ctx context.Context, id int64) (store.Alert, error) {
	return s.db.Alert(ctx, id)
}

// FinishAlerts records the alert.finished event (SPEC 9.3) of every alert
// whose messages all reached a final state (sent, failed, expired or
// cancelled), once per alert, and returns how many it finished. The leader
// calls it every round of RunAutoAlerts, so the event follows the last
// outcome within seconds, whichever instance sent it.
func (s *Service) FinishAlerts(ctx context.Context) (int, error) {
	n, err := s.db.FinishAlerts(ctx, s.now())
	if n > 0 {
		s.log.Info("alerts finished", "count", n)
	}
	return n, err
}

// autoAlertDelay lets translations published together (one request after
// another) go out as one group: each subscriber then gets their language.
const autoAlertDelay = 2 * time.Second

// RunAutoAlerts sends the automatic alert (audience immediate) of every
// release that goes live, until ctx ends. The release's auto_alert_at is
// set only after its fan-out, and fan-out is idempotent, so a crash in the
// middle is finished after the restart without duplicates. Each round also
// records alert.finished for the alerts whose delivery ended (FinishAlerts).
func (s *Service) RunAutoAlerts(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if err := s.autoAlerts(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("automatic alerts failed", "err", err)
		}
		if _, err := s.FinishAlerts(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("finishing alerts failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.releases.Live():
			select {
			case <-ctx.Done():
				return
			case <-time.After(autoAlertDelay):
			}
		case <-t.C:
		}
	}
}

func (s *Service) autoAlerts(ctx context.Context) error {
	ids, err := s.db.PendingAutoAlerts(ctx, s.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil
		}
		if err := s.autoAlert(ctx, id); err != nil {
			return fmt.Errorf("automatic alert of release %d: %w", id, err)
		}
		if err := s.db.MarkAutoAlerted(ctx, id, s.now()); err != nil {
			return err
		}
	}
	return nil
}

// autoAlert queues the automatic alert of one release that went live. A
// release dated long before it went live (an archive import, a backdated
// correction) is not news: it gets no automatic alert.
func (s *Service) autoAlert(ctx context.Context, id int64) error {
	r, err := s.db.Release(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.PublishedAt.Add(s.opts.AlertMaxAge).Before(liveMoment(&r)) {
		s.log.Info("no automatic alert: the release was older than HERALD_ALERT_MAX_AGE when it went live",
			"release_id", id, "published_at", r.PublishedAt)
		return nil
	}
	_, err = s.Alert(ctx, AlertRequest{ReleaseID: id, Audience: AudienceImmediate, Origin: OriginAuto})
	if errors.Is(err, ErrNotLive) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// AlertDocument is an alert's delivery as GET /api/v1/alerts/{id} shows it
// (SPEC 3), and as the console's progress bar polls it.
type AlertDocument struct {
	ID         string  `json:"id"`
	ReleaseID  string  `json:"release_id"`
	Audience   string  `json:"audience"`
	Origin     string  `json:"origin"`
	Recipients int     `json:"recipients"`
	Queued     int     `json:"queued"` // not sent yet: waiting, or being sent
	Sent       int     `json:"sent"`
	Failed     int     `json:"failed"`
	Expired    int     `json:"expired"`   // stale (HERALD_ALERT_MAX_AGE), never sent
	Cancelled  int     `json:"cancelled"` // the subscriber left or bounced
	CreatedAt  string  `json:"created_at"`
	FinishedAt *string `json:"finished_at"` // null until no message is waiting
}

// NewAlertDocument builds the JSON view of an alert.
func NewAlertDocument(al store.Alert) AlertDocument {
	d := AlertDocument{
		ID: strconv.FormatInt(al.ID, 10), ReleaseID: strconv.FormatInt(al.ReleaseID, 10),
		Audience: al.Audience, Origin: al.Origin, Recipients: al.Recipients,
		Queued: al.Pending, Sent: al.Sent, Failed: al.Failed, Expired: al.Expired, Cancelled: al.Cancelled,
		CreatedAt: releases.FormatTime(al.CreatedAt),
	}
	if !al.FinishedAt.IsZero() {
		s := releases.FormatTime(al.FinishedAt)
		d.FinishedAt = &s
	}
	return d
}
