package store

import (
	"context"
	"fmt"
	"time"
)

// ReleaseRef is what a sitemap says of a release: where it is, its
// language and translation group, and when it last changed.
type ReleaseRef struct {
	ID             int64
	Slug           string
	Language       string
	TranslationKey string
	UpdatedAt      time.Time
}

// LiveReleaseRefs lists every release live at now, newest first, without
// their text (a sitemap of 100,000 releases reads a few megabytes).
func (db *DB) LiveReleaseRefs(ctx context.Context, now time.Time) ([]ReleaseRef, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, slug, language, translation_key, updated_at FROM releases r
		WHERE r.status = 'published' AND r.published_at <= ? ORDER BY r.published_at DESC, r.id DESC`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: live releases: %w", err)
	}
	defer rows.Close()
	var out []ReleaseRef
	for rows.Next() {
		var r ReleaseRef
		var updated int64
		if err := rows.Scan(&r.ID, &r.Slug, &r.Language, &r.TranslationKey, &updated); err != nil {
			return nil, fmt.Errorf("store: live releases: %w", err)
		}
		r.UpdatedAt = fromMS(updated)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: live releases: %w", err)
	}
	return out, nil
}
