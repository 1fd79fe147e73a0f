package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Staff is a staff member's row (SPEC 7.1). Role is the role's name;
// EmailKey is the address in lower case, unique.
type Staff struct {
	ID           int64
	Email        string
	EmailKey     string
	Name         string
	Role         string
	Disabled     bool
	PasswordHash string
	Epoch        int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  time.Time // zero: never
}

const staffColumns = `id, email, email_key, name, role, disabled, password_hash, epoch, created_at, updated_at, last_login_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanStaff(r rowScanner) (Staff, error) {
	var s Staff
	var disabled int64
	var created, updated int64
	var last sql.NullInt64
	err := r.Scan(&s.ID, &s.Email, &s.EmailKey, &s.Name, &s.Role, &disabled, &s.PasswordHash, &s.Epoch, &created, &updated, &last)
	if err != nil {
		return Staff{}, err
	}
	s.Disabled = disabled != 0
	s.CreatedAt, s.UpdatedAt, s.LastLoginAt = fromMS(created), fromMS(updated), fromNullMS(last)
	return s, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// InsertStaff adds a staff member and returns its id; ErrConflict when the
// address (EmailKey) is taken.
func (tx *Tx) InsertStaff(ctx context.Context, s Staff) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO staff (email, email_key, name, role, disabled, password_hash, epoch, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (email_key) DO NOTHING RETURNING id`,
		s.Email, s.EmailKey, s.Name, s.Role, boolInt(s.Disabled), s.PasswordHash, ms(s.CreatedAt), ms(s.CreatedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || isUnique(err) {
		return 0, fmt.Errorf("store: staff %s: %w", s.EmailKey, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert staff: %w", err)
	}
	return id, nil
}

// UpdateStaff writes a member's name, role and disabled flag; disabling
// also moves the epoch on, ending the member's sessions.
func (tx *Tx) UpdateStaff(ctx context.Context, s Staff, now time.Time) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE staff SET name = ?, role = ?,
epoch = CASE WHEN disabled = 0 AND ? = 1 THEN epoch + 1 ELSE epoch END, disabled = ?, updated_at = ? WHERE id = ?`,
		s.Name, s.Role, boolInt(s.Disabled), boolInt(s.Disabled), ms(now), s.ID)
	return oneRow(res, err, "update staff")
}

// SetStaffPassword stores a new password hash and moves the epoch on, so
// that sessions from before the change end.
func (tx *Tx) SetStaffPassword(ctx context.Context, id int64, hash string, now time.Time) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE staff SET password_hash = ?, epoch = epoch + 1, updated_at = ? WHERE id = ?`, hash, ms(now), id)
	return oneRow(res, err, "set staff password")
}

func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}

// StaffByID reads a staff member.
func (db *DB) StaffByID(ctx context.Context, id int64) (Staff, error) {
	s, err := scanStaff(db.read.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, fmt.Errorf("store: staff %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("store: staff %d: %w", id, err)
	}
	return s, nil
}

// StaffForUpdate reads a staff member in tx, locking the row.
func (tx *Tx) StaffForUpdate(ctx context.Context, id int64) (Staff, error) {
	s, err := scanStaff(tx.tx.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ?"+tx.e.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, fmt.Errorf("store: staff %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("store: staff %d: %w", id, err)
	}
	return s, nil
}

// StaffByEmailKeyForUpdate reads a staff member by lower-case address in
// tx, locking the row; ErrNotFound when there is none.
func (tx *Tx) StaffByEmailKeyForUpdate(ctx context.Context, key string) (Staff, error) {
	s, err := scanStaff(tx.tx.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE email_key = ?"+tx.e.forUpdate, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, fmt.Errorf("store: staff: %w", ErrNotFound)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("store: staff by email: %w", err)
	}
	return s, nil
}

// StaffByEmailKey reads a staff member by lower-case address.
func (db *DB) StaffByEmailKey(ctx context.Context, key string) (Staff, error) {
	s, err := scanStaff(db.read.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE email_key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return Staff{}, fmt.Errorf("store: staff: %w", ErrNotFound)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("store: staff by email: %w", err)
	}
	return s, nil
}

// ListStaff lists every staff member by address.
func (db *DB) ListStaff(ctx context.Context) ([]Staff, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT "+staffColumns+" FROM staff ORDER BY email_key")
	if err != nil {
		return nil, fmt.Errorf("store: list staff: %w", err)
	}
	defer rows.Close()
	var out []Staff
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan staff: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TouchStaffLogin records a successful sign-in.
func (db *DB) TouchStaffLogin(ctx context.Context, id int64, now time.Time) error {
	_, err := db.write.ExecContext(ctx, "UPDATE staff SET last_login_at = ? WHERE id = ?", ms(now), id)
	if err != nil {
		return fmt.Errorf("store: staff login: %w", err)
	}
	return nil
}

// StaffLink is a set-password link, by the hash of its token.
type StaffLink struct {
	TokenHash string
	StaffID   int64
	Purpose   string // invite | reset
	CreatedAt time.Time
	ExpiresAt time.Time
}

// InsertStaffLink stores a set-password link.
func (tx *Tx) InsertStaffLink(ctx context.Context, l StaffLink) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO staff_links (token_hash, staff_id, purpose, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		l.TokenHash, l.StaffID, l.Purpose, ms(l.CreatedAt), ms(l.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: insert staff link: %w", err)
	}
	return nil
}

// Link states, as UseStaffLink reports them.
var (
	// ErrLinkUsed means the link worked once already.
	ErrLinkUsed = errors.New("link already used")
	// ErrLinkExpired means the link is past its expiry.
	ErrLinkExpired = errors.New("link expired")
)

// UseStaffLink marks a link used, in one statement (two instances cannot
// both use it), and returns the member it is for. A link never issued is
// ErrNotFound; a used one ErrLinkUsed; an expired one ErrLinkExpired.
func (tx *Tx) UseStaffLink(ctx context.Context, hash string, now time.Time) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, `UPDATE staff_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING staff_id`,
		ms(now), hash, ms(now)).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: use staff link: %w", err)
	}
	var used sql.NullInt64
	var expires int64
	err = tx.tx.QueryRowContext(ctx, "SELECT used_at, expires_at FROM staff_links WHERE token_hash = ?", hash).Scan(&used, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("store: staff link: %w", ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("store: staff link: %w", err)
	case used.Valid:
		return 0, ErrLinkUsed
	default:
		return 0, ErrLinkExpired
	}
}

// StaffLinkState reports whether a link can still be used (nil), or why not
// (ErrNotFound, ErrLinkUsed, ErrLinkExpired), without using it.
func (db *DB) StaffLinkState(ctx context.Context, hash string, now time.Time) error {
	var used sql.NullInt64
	var expires int64
	err := db.read.QueryRowContext(ctx, "SELECT used_at, expires_at FROM staff_links WHERE token_hash = ?", hash).Scan(&used, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: staff link: %w", ErrNotFound)
	case err != nil:
		return fmt.Errorf("store: staff link: %w", err)
	case used.Valid:
		return ErrLinkUsed
	case expires <= ms(now):
		return ErrLinkExpired
	}
	return nil
}
