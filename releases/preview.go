package releases

import (
	"context"
	"time"

	"herald/store"
)

// Preview validates in exactly as Create (id 0) or Update (id) would and
// returns the release that would be stored, without storing anything: the
// admin console shows it before saving. The slug is derived from the title
// when none is given (without checking that it is free), and the checks
// that need a write transaction (a taken slug, a second release of one
// language in a translation group) are left to the save.
func (s *Service) Preview(ctx context.Context, id int64, in Input) (store.Release, error) {
	tax, err := s.Taxonomy(ctx)
	if err != nil {
		return store.Release{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	r := store.Release{CreatedAt: now, UpdatedAt: now}
	if id != 0 {
		if r, err = s.db.Release(ctx, id); err != nil {
			return store.Release{}, err
		}
		r.UpdatedAt = now
	}
	if err := s.apply(&r, in, tax, now); err != nil {
		return store.Release{}, err
	}
	if r.Slug == "" {
		r.Slug = Slugify(r.Title, MaxSlug)
	}
	if r.LiveAt.IsZero() && IsLive(&r, now) {
		r.LiveAt = now
	}
	return r, nil
}
