package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Source is a feed herald polls for releases (SPEC 9.1).
type Source struct {
	ID                 int64
	URL                string
	Mode               string // draft | publish
	Language           string
	Topics             []string
	Regions            []string
	CategoryMap        map[string]string
	Interval           time.Duration
	TranslationKeyFrom string // none | link
	ETag               string
	LastModified       string
	NextRunAt          time.Time
	Failures           int
	LastError          string
	LastRunAt          time.Time
	// BaselineAt is when the items already in the feed were taken in
	// without alerts (the first successful poll); zero until then.
	BaselineAt time.Time
	Enabled    bool // false: not polled on schedule
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const sourceColumns = `id, url, mode, language, topics, regions, category_map, interval_ms, translation_key_from, etag,
	last_modified, next_run_at, failures, last_error, last_run_at, baseline_at, enabled, created_at, updated_at`

func scanSource(sc interface{ Scan(...any) error }) (Source, error) {
	var s Source
	var topics, regions, cmap string
	var interval, next, created, updated int64
	var last, baseline sql.NullInt64
	var enabled int64
	err := sc.Scan(&s.ID, &s.URL, &s.Mode, &s.Language, &topics, &regions, &cmap, &interval, &s.TranslationKeyFrom, &s.ETag,
		&s.LastModified, &next, &s.Failures, &s.LastError, &last, &baseline, &enabled, &created, &updated)
	if err != nil {
		return s, err
	}
	_ = json.Unmarshal([]byte(topics), &s.Topics)
	_ = json.Unmarshal([]byte(regions), &s.Regions)
	_ = json.Unmarshal([]byte(cmap), &s.CategoryMap)
	s.Interval = time.Duration(interval) * time.Millisecond
	s.NextRunAt, s.LastRunAt, s.CreatedAt, s.UpdatedAt = fromMS(next), fromNullMS(last), fromMS(created), fromMS(updated)
	s.BaselineAt, s.Enabled = fromNullMS(baseline), enabled != 0
	return s, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// InsertSource stores s and sets its id.
func (tx *Tx) InsertSource(ctx context.Context, s *Source) error {
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO sources (url, mode, language, topics, regions, category_map, interval_ms,
		translation_key_from, next_run_at, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.URL, s.Mode, s.Language, jsonText(nonNilStrings(s.Topics)), jsonText(nonNilStrings(s.Regions)), jsonText(nonNilMap(s.CategoryMap)),
		s.Interval.Milliseconds(), s.TranslationKeyFrom, ms(s.NextRunAt), boolInt(s.Enabled), ms(s.CreatedAt), ms(s.UpdatedAt)).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("store: insert source: %w", err)
	}
	return nil
}

// UpdateSource writes the settings of s (not its poll state; but a new URL
// clears the validators and the baseline).
func (tx *Tx) UpdateSource(ctx context.Context, s *Source) error {
	_, err := tx.tx.ExecContext(ctx, `UPDATE sources SET url = ?, mode = ?, language = ?, topics = ?, regions = ?, category_map = ?,
		interval_ms = ?, translation_key_from = ?, etag = ?, last_modified = ?, next_run_at = ?, baseline_at = ?, enabled = ?, updated_at = ?
		WHERE id = ?`,
		s.URL, s.Mode, s.Language, jsonText(nonNilStrings(s.Topics)), jsonText(nonNilStrings(s.Regions)), jsonText(nonNilMap(s.CategoryMap)),
		s.Interval.Milliseconds(), s.TranslationKeyFrom, s.ETag, s.LastModified, ms(s.NextRunAt), nullMS(s.BaselineAt), boolInt(s.Enabled),
		ms(s.UpdatedAt), s.ID)
	if err != nil {
		return fmt.Errorf("store: update source %d: %w", s.ID, err)
	}
	return nil
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Source reads a source inside a transaction, locked for an update.
func (tx *Tx) Source(ctx context.Context, id int64) (Source, error) {
	s, err := scanSource(tx.tx.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ?`+tx.e.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// DeleteSource deletes a source with its items and runs (its releases stay).
func (tx *Tx) DeleteSource(ctx context.Context, id int64) error {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete source %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Source reads one source.
func (db *DB) Source(ctx context.Context, id int64) (Source, error) {
	s, err := scanSource(db.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: source %d: %w", id, err)
	}
	return s, nil
}

// Sources lists every source, oldest first.
func (db *DB) Sources(ctx context.Context) ([]Source, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sources: %w", err)
	}
	defer rows.Close()
	out := []Source{}
	for rows.Next() {
		s, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sources: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ClaimSource takes source id for a poll (any time; "run now") or, with
// id 0, the source that is most overdue, if any: its next_run_at moves
// lease ahead, so that no other instance polls it meanwhile. It returns
// ErrNotFound when there is nothing to take.
func (db *DB) ClaimSource(ctx context.Context, id int64, now time.Time, lease time.Duration) (Source, error) {
	var s Source
	err := db.InTx(ctx, func(tx *Tx) error {
		var err error
		if id != 0 {
			s, err = tx.Source(ctx, id)
		} else {
			s, err = scanSource(tx.tx.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE next_run_at <= ? AND enabled = 1
				ORDER BY next_run_at LIMIT 1`+tx.e.skipLocked, ms(now)))
			if errors.Is(err, sql.ErrNoRows) {
				err = ErrNotFound
			}
		}
		if err != nil {
			return err
		}
		_, err = tx.tx.ExecContext(ctx, `UPDATE sources SET next_run_at = ? WHERE id = ?`, ms(now.Add(lease)), s.ID)
		return err
	})
	return s, err
}

// SourceRun is one poll.
type SourceRun struct {
	ID         int64
	SourceID   int64
	StartedAt  time.Time
	FinishedAt time.Time
	Status     string // ok | not_modified | error
	New        int
	Updated    int
	Unchanged  int
	Skipped    int
	Error      string
}

// SourcePoll is what a poll leaves on its source.
type SourcePoll struct {
	ETag, LastModified string
	NextRunAt          time.Time
	Failures           int
	LastError          string
}

// FinishSourceRun records a poll and the source's new state.
func (db *DB) FinishSourceRun(ctx context.Context, run *SourceRun, p SourcePoll) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.tx.QueryRowContext(ctx, `INSERT INTO source_runs (source_id, started_at, finished_at, status, new_items, updated,
			unchanged, skipped, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, run.SourceID, ms(run.StartedAt), ms(run.FinishedAt),
			run.Status, run.New, run.Updated, run.Unchanged, run.Skipped, run.Error).Scan(&run.ID); err != nil {
			return err
		}
		// The first successful poll sets the baseline (see the sources
		// package): later polls alert on what is new.
		baseline := any(nil)
		if run.Status == "ok" || run.Status == "not_modified" {
			baseline = ms(run.FinishedAt)
		}
		_, err := tx.tx.ExecContext(ctx, `UPDATE sources SET etag = ?, last_modified = ?, next_run_at = ?, failures = ?, last_error = ?,
			last_run_at = ?, baseline_at = COALESCE(baseline_at, ?) WHERE id = ?`,
			p.ETag, p.LastModified, ms(p.NextRunAt), p.Failures, p.LastError, ms(run.FinishedAt), baseline, run.SourceID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish source run: %w", err)
	}
	return nil
}

// SourceRuns lists a source's polls, newest first.
func (db *DB) SourceRuns(ctx context.Context, sourceID int64, limit int) ([]SourceRun, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, source_id, started_at, finished_at, status, new_items, updated, unchanged, skipped, error
		FROM source_runs WHERE source_id = ? ORDER BY id DESC LIMIT ?`, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: source runs: %w", err)
	}
	defer rows.Close()
	out := []SourceRun{}
	for rows.Next() {
		var r SourceRun
		var start, end int64
		if err := rows.Scan(&r.ID, &r.SourceID, &start, &end, &r.Status, &r.New, &r.Updated, &r.Unchanged, &r.Skipped, &r.Error); err != nil {
			return nil, fmt.Errorf("store: source runs: %w", err)
		}
		r.StartedAt, r.FinishedAt = fromMS(start), fromMS(end)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SourceItem is an item of a source seen before.
type SourceItem struct {
	ReleaseID int64 // 0 when its release was deleted
	Hash      string
}

// SourceItems reads the items of a source by key.
func (db *DB) SourceItems(ctx context.Context, sourceID int64) (map[string]SourceItem, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT item_key, COALESCE(release_id, 0), hash FROM source_items WHERE source_id = ?`, sourceID)
	if err != nil {
		return nil, fmt.Errorf("store: source items: %w", err)
	}
	defer rows.Close()
	out := map[string]SourceItem{}
	for rows.Next() {
		var k string
		var it SourceItem
		if err := rows.Scan(&k, &it.ReleaseID, &it.Hash); err != nil {
			return nil, fmt.Errorf("store: source items: %w", err)
		}
		out[k] = it
	}
	return out, rows.Err()
}

// PutSourceItem records an item and its release inside the transaction
// that created or updated the release.
func (tx *Tx) PutSourceItem(ctx context.Context, sourceID int64, key string, releaseID int64, hash string, now time.Time) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO source_items (source_id, item_key, release_id, hash, seen_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source_id, item_key) DO UPDATE SET release_id = excluded.release_id, hash = excluded.hash, seen_at = excluded.seen_at`,
		sourceID, key, nullID(releaseID), hash, ms(now))
	if err != nil {
		return fmt.Errorf("store: source item: %w", err)
	}
	return nil
}
