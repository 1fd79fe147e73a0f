package releases

import (
	"context"
	"strconv"
	"time"

	"herald/audit"
	"herald/store"
)

// pollInterval bounds how late an embargoed release goes live, and how late
// this process sees changes made by another (the CLI).
const pollInterval = time.Second

// Run notices changes made by other processes and instances (their writes
// bump a version counter in the database) and, while leader() is true (the
// instance holds the leader lease; nil means always), marks embargoed
// releases live when their time comes (SPEC 2: within 60 s, with no request
// needed), until ctx ends. Going live is recorded once in the database
// (live_at), so a restart or a change of leader neither loses nor repeats it.
func (s *Service) Run(ctx context.Context, leader func() bool) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var seen int64
	for {
		if err := s.tick(ctx, &seen, leader == nil || leader()); err != nil && ctx.Err() == nil {
			s.log.Error("go-live check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) tick(ctx context.Context, seen *int64, lead bool) error {
	v, err := s.db.Version(ctx, "releases")
	if err != nil {
		return err
	}
	if v != *seen {
		*seen = v
		s.changed(false)
	}
	if !lead {
		return nil
	}
	next, err := s.db.NextGoLive(ctx)
	if err != nil || next.IsZero() || next.After(s.now()) {
		return err
	}
	_, err = s.PublishDue(ctx)
	return err
}

// PublishDue records every release whose time has come as live now and
// returns how many there were.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	var ids []int64
	now := s.now().UTC().Truncate(time.Millisecond)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ids, err = tx.MarkLive(ctx, now); err != nil {
			return err
		}
		for _, id := range ids {
			r, err := tx.Release(ctx, id)
			if err != nil {
				return err
			}
			if err := s.recordEvent(ctx, tx, store.EventReleasePublished, r, nil, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		s.log.Info("release went live", "release_id", id)
		s.audit.Record(ctx, audit.Entry{Action: "release.live", Target: "release:" + strconv.FormatInt(id, 10)})
	}
	if len(ids) > 0 {
		s.changed(true)
	}
	return len(ids), nil
}
