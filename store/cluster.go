package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// What several instances share (SPEC 6): settings, leader leases, the list
// of live instances, rate-limit counters and session revocations. Every
// method here is one statement or one short transaction, correct with any
// number of concurrent callers on either engine.

// SharedSetting returns the value stored under name, storing candidate
// first when there is none: the first instance to ask decides, every other
// gets the same value.
func (db *DB) SharedSetting(ctx context.Context, name, candidate string, now time.Time) (string, error) {
	_, err := db.write.ExecContext(ctx,
		"INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		name, candidate, ms(now))
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return db.Setting(ctx, name)
}

// Setting reads a shared setting; ErrNotFound when it is not set.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.write.QueryRowContext(ctx, "SELECT value FROM settings WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: setting %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, nil
}

// acquireLease takes the lease or renews it for its holder, in one
// statement: it succeeds when nobody holds the lease, the holder is the
// caller, or the holder's time ran out.
const acquireLease = `INSERT INTO leases (name, holder, until, acquired_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until,
	acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
WHERE leases.holder = excluded.holder OR leases.until < ?4
RETURNING holder`

// AcquireLease takes or renews the named lease for holder until now+ttl and
// reports whether holder has it.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	var got string
	err := db.write.QueryRowContext(ctx, acquireLease, name, holder, ms(now.Add(ttl)), ms(now)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return got == holder, nil
}

// ReleaseLease gives the lease up at once (a clean shutdown), so that
// another instance need not wait for it to run out.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.write.ExecContext(ctx, "DELETE FROM leases WHERE name = ? AND holder = ?", name, holder)
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// LeaseHolder returns who holds the named lease at now ("" for nobody).
func (db *DB) LeaseHolder(ctx context.Context, name string, now time.Time) (string, error) {
	var h string
	err := db.read.QueryRowContext(ctx, "SELECT holder FROM leases WHERE name = ? AND until >= ?", name, ms(now)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: lease %s: %w", name, err)
	}
	return h, nil
}

// Instance is a running `herald serve`, as its heartbeat describes it.
type Instance struct {
	ID            string
	Host          string
	PID           int
	Version       string
	SchemaVersion int
	StartedAt     time.Time
	SeenAt        time.Time
}

const beat = `INSERT INTO instances (id, host, pid, version, schema_version, started_at, seen_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`

// Heartbeat records that an instance is alive at now, and forgets
// instances not seen for a day.
func (db *DB) Heartbeat(ctx context.Context, in Instance, now time.Time) error {
	_, err := db.write.ExecContext(ctx, beat, in.ID, in.Host, in.PID, in.Version, in.SchemaVersion, ms(in.StartedAt), ms(now))
	if err == nil {
		_, err = db.write.ExecContext(ctx, "DELETE FROM instances WHERE seen_at < ?", ms(now.Add(-24*time.Hour)))
	}
	if err != nil {
		return fmt.Errorf("store: heartbeat: %w", err)
	}
	return nil
}

// RemoveInstance forgets an instance (a clean shutdown).
func (db *DB) RemoveInstance(ctx context.Context, id string) error {
	if _, err := db.write.ExecContext(ctx, "DELETE FROM instances WHERE id = ?", id); err != nil {
		return fmt.Errorf("store: remove instance: %w", err)
	}
	return nil
}

// Instances lists the instances seen at or after since, oldest first.
func (db *DB) Instances(ctx context.Context, since time.Time) ([]Instance, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, host, pid, version, schema_version, started_at, seen_at
		FROM instances WHERE seen_at >= ? ORDER BY started_at, id`, ms(since))
	if err != nil {
		return nil, fmt.Errorf("store: instances: %w", err)
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		var in Instance
		var started, seen int64
		if err := rows.Scan(&in.ID, &in.Host, &in.PID, &in.Version, &in.SchemaVersion, &started, &seen); err != nil {
			return nil, fmt.Errorf("store: instances: %w", err)
		}
		in.StartedAt, in.SeenAt = fromMS(started), fromMS(seen)
		out = append(out, in)
	}
	return out, rows.Err()
}

// rateLimit is one step of the generic cell rate algorithm in one
// statement: tat (the theoretical arrival time) moves on by interval from
// itself or from now, whichever is later, unless that would put it more
// than burst intervals ahead of now: then nothing changes and no row comes
// back. ?1 key, ?2 now, ?3 interval, ?4 how far ahead tat may run.
const rateLimit = `INSERT INTO rate_limits (key, tat) VALUES (?1, CAST(?2 AS BIGINT) + CAST(?3 AS BIGINT))
ON CONFLICT (key) DO UPDATE SET tat = CASE WHEN rate_limits.tat > ?2 THEN rate_limits.tat ELSE ?2 END + ?3
WHERE CASE WHEN rate_limits.tat > ?2 THEN rate_limits.tat ELSE ?2 END + ?3 - ?2 <= ?4
RETURNING tat`

// RateLimit counts one event under key against a limit of one per interval
// with bursts of burst, shared by every instance. It reports whether the
// event is allowed, and if not, how long until it would be.
func (db *DB) RateLimit(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	iv := interval.Milliseconds()
	var tat int64
	err := db.write.QueryRowContext(ctx, rateLimit, key, ms(now), iv, iv*int64(burst)).Scan(&tat)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("store: rate limit: %w", err)
	}
	if err := db.write.QueryRowContext(ctx, "SELECT tat FROM rate_limits WHERE key = ?", key).Scan(&tat); err != nil {
		return false, 0, fmt.Errorf("store: rate limit: %w", err)
	}
	wait := time.Duration(tat+iv-ms(now)-iv*int64(burst)) * time.Millisecond
	return false, max(wait, time.Millisecond), nil
}

// SweepRateLimits forgets counters that are back to a full burst.
func (db *DB) SweepRateLimits(ctx context.Context, now time.Time) error {
	if _, err := db.write.ExecContext(ctx, "DELETE FROM rate_limits WHERE tat < ?", ms(now)); err != nil {
		return fmt.Errorf("store: sweep rate limits: %w", err)
	}
	return nil
}

// RevokeSession records that a console session ended before its expiry
// (logout), for every instance.
func (db *DB) RevokeSession(ctx context.Context, id string, until, now time.Time) error {
	_, err := db.write.ExecContext(ctx,
		"INSERT INTO session_revocations (id, until) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", id, ms(until))
	if err == nil {
		_, err = db.write.ExecContext(ctx, "DELETE FROM session_revocations WHERE until < ?", ms(now))
	}
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return nil
}

// SessionRevoked reports whether a console session was ended by logout.
func (db *DB) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM session_revocations WHERE id = ?", id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: session revoked: %w", err)
	}
	return n > 0, nil
}

// RateWait is how long an event under key would have to wait now (0: it
// may happen), without counting one.
func (db *DB) RateWait(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (time.Duration, error) {
	var tat int64
	err := db.write.QueryRowContext(ctx, "SELECT tat FROM rate_limits WHERE key = ?", key).Scan(&tat)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	iv := interval.Milliseconds()
	wait := tat + iv - ms(now) - iv*int64(burst)
	return time.Duration(max(wait, 0)) * time.Millisecond, nil
}

// RateTake counts one event under key whether or not it was allowed (a
// failed login counts against the client that tried).
func (db *DB) RateTake(ctx context.Context, key string, now time.Time, interval time.Duration) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO rate_limits (key, tat) VALUES (?1, CAST(?2 AS BIGINT) + CAST(?3 AS BIGINT))
ON CONFLICT (key) DO UPDATE SET tat = CASE WHEN rate_limits.tat > ?2 THEN rate_limits.tat ELSE ?2 END + ?3`,
		key, ms(now), interval.Milliseconds())
	if err != nil {
		return fmt.Errorf("store: rate limit: %w", err)
	}
	return nil
}

// Preview is a console preview of an unsaved release.
type Preview struct {
	ID, Session string
	Page, Mail  []byte
	CreatedAt   time.Time
}

// PutPreview stores a preview and forgets those older than olderThan.
func (db *DB) PutPreview(ctx context.Context, p Preview, olderThan time.Time) error {
	_, err := db.write.ExecContext(ctx, "INSERT INTO previews (id, session, page, mail, created_at) VALUES (?, ?, ?, ?, ?)",
		p.ID, p.Session, string(p.Page), string(p.Mail), ms(p.CreatedAt))
	if err == nil {
		_, err = db.write.ExecContext(ctx, "DELETE FROM previews WHERE created_at < ?", ms(olderThan))
	}
	if err != nil {
		return fmt.Errorf("store: preview: %w", err)
	}
	return nil
}

// GetPreview reads a preview of session made at or after since;
// ErrNotFound when there is none.
func (db *DB) GetPreview(ctx context.Context, id, session string, since time.Time) (Preview, error) {
	p := Preview{ID: id, Session: session}
	var page, mail string
	var created int64
	err := db.read.QueryRowContext(ctx, "SELECT page, mail, created_at FROM previews WHERE id = ? AND session = ? AND created_at >= ?",
		id, session, ms(since)).Scan(&page, &mail, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: preview: %w", ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: preview: %w", err)
	}
	p.Page, p.Mail, p.CreatedAt = []byte(page), []byte(mail), fromMS(created)
	return p, nil
}
