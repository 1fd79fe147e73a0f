package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// APIToken is a personal API token's row (SPEC 7.2); the secret itself is
// never stored, only its SHA-256 (hex).
type APIToken struct {
	ID         int64
	TokenHash  string
	Name       string
	Role       string
	StaffID    int64 // 0: made with the admin token
	StaffEmail string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// InsertAPIToken stores a token and returns its id.
func (tx *Tx) InsertAPIToken(ctx context.Context, t APIToken) (int64, error) {
	var staff sql.NullInt64
	if t.StaffID != 0 {
		staff = sql.NullInt64{Int64: t.StaffID, Valid: true}
	}
	var id int64
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO api_tokens (token_hash, name, role, staff_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		t.TokenHash, t.Name, t.Role, staff, ms(t.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: insert api token: %w", err)
	}
	return id, nil
}

const tokenColumns = `t.id, t.token_hash, t.name, t.role, COALESCE(t.staff_id, 0), COALESCE(s.email, ''), t.created_at, t.last_used_at, t.revoked_at`

func scanToken(r rowScanner) (APIToken, error) {
	var t APIToken
	var created int64
	var used, revoked sql.NullInt64
	if err := r.Scan(&t.ID, &t.TokenHash, &t.Name, &t.Role, &t.StaffID, &t.StaffEmail, &created, &used, &revoked); err != nil {
		return APIToken{}, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromNullMS(used), fromNullMS(revoked)
	return t, nil
}

// APITokenByHash reads a live (not revoked) token by the hash of its secret.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, "SELECT "+tokenColumns+
		" FROM api_tokens t LEFT JOIN staff s ON s.id = t.staff_id WHERE t.token_hash = ? AND t.revoked_at IS NULL", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, fmt.Errorf("store: api token: %w", ErrNotFound)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("store: api token: %w", err)
	}
	return t, nil
}

// APITokenByID reads a token (revoked or not).
func (db *DB) APITokenByID(ctx context.Context, id int64) (APIToken, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, "SELECT "+tokenColumns+
		" FROM api_tokens t LEFT JOIN staff s ON s.id = t.staff_id WHERE t.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, fmt.Errorf("store: api token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("store: api token %d: %w", id, err)
	}
	return t, nil
}

// ListAPITokens lists live tokens, newest first: of one staff member, of
// the admin token (staffID 0 and own), or all (all).
func (db *DB) ListAPITokens(ctx context.Context, staffID int64, all bool) ([]APIToken, error) {
	q := "SELECT " + tokenColumns + " FROM api_tokens t LEFT JOIN staff s ON s.id = t.staff_id WHERE t.revoked_at IS NULL"
	var args []any
	switch {
	case all:
	case staffID == 0:
		q += " AND t.staff_id IS NULL"
	default:
		q += " AND t.staff_id = ?"
		args = append(args, staffID)
	}
	rows, err := db.read.QueryContext(ctx, q+" ORDER BY t.id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan api token: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken marks a live token revoked; ErrNotFound when there is no
// such live token.
func (tx *Tx) RevokeAPIToken(ctx context.Context, id int64, now time.Time) error {
	res, err := tx.tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", ms(now), id)
	return oneRow(res, err, "revoke api token")
}

// TouchAPIToken records a token's use. It writes at most once a minute per
// token, so that a busy script does not turn every read into a write.
func (db *DB) TouchAPIToken(ctx context.Context, id int64, now time.Time) error {
	_, err := db.write.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
		ms(now), id, ms(now.Add(-time.Minute)))
	if err != nil {
		return fmt.Errorf("store: touch api token: %w", err)
	}
	return nil
}
