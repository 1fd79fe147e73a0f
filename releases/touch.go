package releases

import (
	"context"
	"time"

	"herald/store"
)

// Touch runs fn in a transaction about release id, for a change of what is
// shown with it (its media): the release is locked and marked updated,
// fn runs with the release as it was, and the release is read again with
// the change. A live release's change is recorded as an update (webhooks,
// WebSub); caches in every instance render again. fn may run twice (a
// retried transaction): it changes nothing outside the transaction.
func (s *Service) Touch(ctx context.Context, id int64, fn func(tx *store.Tx, r store.Release) error) (store.Release, error) {
	var r store.Release
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now().UTC().Truncate(time.Millisecond)
		if err := tx.TouchRelease(ctx, id, now); err != nil {
			return err
		}
		prev, err := tx.Release(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, prev); err != nil {
			return err
		}
		if r, err = tx.Release(ctx, id); err != nil {
			return err
		}
		if IsLive(&r, now) {
			return s.recordEvent(ctx, tx, store.EventReleaseUpdated, r, &prev, now)
		}
		return nil
	})
	if err != nil {
		return store.Release{}, err
	}
	s.changed(false)
	return r, nil
}
