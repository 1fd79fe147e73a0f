package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Media is an image or a PDF of a release (SPEC 10). Key names the file as
// uploaded, DisplayKey the copy that pages, feeds and mail show (an image
// at most 1200 px wide; the same file when no smaller copy was needed).
// Media are listed by Position, then ID.
type Media struct {
	ID            int64
	ReleaseID     int64
	Position      int64
	Kind          string // image | pdf
	Name          string // the uploaded file's name, cleaned
	Key           string
	Type          string // media type, judged by content
	Bytes         int64
	Width, Height int // pixels; 0 for a PDF
	SHA256        string
	DisplayKey    string
	DisplayType   string
	DisplayBytes  int64
	DisplayWidth  int
	DisplayHeight int
	Alt           string
	Caption       string
	Credit        string
	CreatedAt     time.Time
}

const mediaColumns = `id, release_id, position, kind, name, key, type, bytes, width, height, sha256,
	display_key, display_type, display_bytes, display_width, display_height, alt, caption, credit, created_at`

func scanMedia(sc interface{ Scan(...any) error }) (Media, error) {
	var m Media
	var created int64
	err := sc.Scan(&m.ID, &m.ReleaseID, &m.Position, &m.Kind, &m.Name, &m.Key, &m.Type, &m.Bytes, &m.Width, &m.Height,
		&m.SHA256, &m.DisplayKey, &m.DisplayType, &m.DisplayBytes, &m.DisplayWidth, &m.DisplayHeight,
		&m.Alt, &m.Caption, &m.Credit, &created)
	m.CreatedAt = fromMS(created)
	return m, err
}

// InsertMedia stores m's row after the release's other media and sets
// m.ID and m.Position. The bytes go in with PutBlob.
func (tx *Tx) InsertMedia(ctx context.Context, m *Media) error {
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO media (release_id, position, kind, name, key, type, bytes, width, height,
	sha256, display_key, display_type, display_bytes, display_width, display_height, alt, caption, credit, created_at)
SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM media WHERE release_id = ?
RETURNING id, position`,
		m.ReleaseID, m.Kind, m.Name, m.Key, m.Type, m.Bytes, m.Width, m.Height, m.SHA256, m.DisplayKey, m.DisplayType,
		m.DisplayBytes, m.DisplayWidth, m.DisplayHeight, m.Alt, m.Caption, m.Credit, ms(m.CreatedAt), m.ReleaseID).Scan(&m.ID, &m.Position)
	if isUnique(err) {
		return fmt.Errorf("store: insert media %q: %w", m.Key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: insert media of release %d: %w", m.ReleaseID, err)
	}
	return nil
}

// DeleteMedia removes one medium of a release (and, on PostgreSQL, its
// bytes, by cascade) and returns it; ErrNotFound when the release has no
// such medium. The caller removes its files after the commit
// (DiscardBlobFiles).
func (tx *Tx) DeleteMedia(ctx context.Context, releaseID, mediaID int64) (Media, error) {
	m, err := scanMedia(tx.tx.QueryRowContext(ctx, "DELETE FROM media WHERE id = ? AND release_id = ? RETURNING "+mediaColumns,
		mediaID, releaseID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: media %d of release %d: %w", mediaID, releaseID, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: delete media %d: %w", mediaID, err)
	}
	return m, nil
}

// SetMediaOrder gives the media of a release the positions 1, 2, ... in
// the order of ids (ids of other releases are left alone).
func (tx *Tx) SetMediaOrder(ctx context.Context, releaseID int64, ids []int64) error {
	for i, id := range ids {
		if _, err := tx.tx.ExecContext(ctx, "UPDATE media SET position = ? WHERE id = ? AND release_id = ?", i+1, id, releaseID); err != nil {
			return fmt.Errorf("store: order media of release %d: %w", releaseID, err)
		}
	}
	return nil
}

// MediaKeys returns the keys of every file of a release's media (before
// the release is deleted, so that its files can go after the commit).
func (tx *Tx) MediaKeys(ctx context.Context, releaseID int64) ([]string, error) {
	rows, err := tx.tx.QueryContext(ctx, "SELECT key, display_key FROM media WHERE release_id = ?", releaseID)
	if err != nil {
		return nil, fmt.Errorf("store: media keys of release %d: %w", releaseID, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k, d string
		if err := rows.Scan(&k, &d); err != nil {
			return nil, fmt.Errorf("store: media keys of release %d: %w", releaseID, err)
		}
		keys = append(keys, mediaFileKeys(k, d)...)
	}
	return keys, rows.Err()
}

// mediaFileKeys are the distinct keys of a medium's files.
func mediaFileKeys(key, display string) []string {
	if display == key {
		return []string{key}
	}
	return []string{key, display}
}

// MediaByKey finds the medium one of whose files is key (the uploaded
// file or its display copy).
func (db *DB) MediaByKey(ctx context.Context, key string) (Media, error) {
	m, err := scanMedia(db.read.QueryRowContext(ctx, "SELECT "+mediaColumns+" FROM media WHERE key = ? OR display_key = ? LIMIT 1", key, key))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: media %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: media %q: %w", key, err)
	}
	return m, nil
}

// CountMedia counts media rows and stored blobs (tests check that a
// refused upload stores nothing).
func (db *DB) CountMedia(ctx context.Context) (rows, blobs int64, err error) {
	if rows, err = countRows(ctx, db.read, "media"); err != nil {
		return 0, 0, err
	}
	blobs, err = countRows(ctx, db.read, "media_blobs")
	return rows, blobs, err
}

// loadMedia fills Media of rs, in order, with one query.
func loadMedia(ctx context.Context, q querier, rs []Release) error {
	if len(rs) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(rs))
	args := make([]any, len(rs))
	for i := range rs {
		idx[rs[i].ID] = i
		args[i] = rs[i].ID
		rs[i].Media = nil
	}
	rows, err := q.QueryContext(ctx, "SELECT "+mediaColumns+" FROM media WHERE release_id IN ("+placeholders(len(rs))+
		") ORDER BY release_id, position, id", args...)
	if err != nil {
		return fmt.Errorf("store: release media: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return fmt.Errorf("store: release media: %w", err)
		}
		r := &rs[idx[m.ReleaseID]]
		r.Media = append(r.Media, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: release media: %w", err)
	}
	return nil
}

// TouchRelease marks a release changed at now (its media changed): its
// row is locked for the rest of the transaction, feeds show the entry
// as updated, and every instance's caches render again.
func (tx *Tx) TouchRelease(ctx context.Context, id int64, now time.Time) error {
	res, err := tx.tx.ExecContext(ctx, "UPDATE releases SET updated_at = ? WHERE id = ?", ms(now), id)
	if err != nil {
		return fmt.Errorf("store: touch release %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: release %d: %w", id, ErrNotFound)
	}
	return nil
}
