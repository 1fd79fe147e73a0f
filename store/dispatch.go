package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Audience is a subscriber as alert and digest fan-out sees it: only what
// matching, language choice and the digest window need.
type Audience struct {
	ID           int64
	Language     string
	Cadence      string
	Timezone     string
	Topics       []string
	Regions      []string
	ConfirmedAt  time.Time
	DigestSince  time.Time // watermark; zero: since confirmation
	DigestPeriod time.Time // last scheduled period handled; zero: none
}

// AudienceFilter selects active subscribers for a fan-out batch.
type AudienceFilter struct {
	Cadences []string  // empty: every cadence
	Timezone string    // "": every time zone
	DueFor   time.Time // non-zero: only those whose last digest period is before it
	// PeriodOnly makes DueFor ignore the confirmation time: a staff run
	// reaches subscribers confirmed after the period began, a scheduled
	// run waits for their first full period.
	PeriodOnly bool
	// ZoneDue, with PeriodOnly, replaces DueFor for subscribers of the time
	// zones it names: each zone's own period (a staff run over every
	// zone); DueFor stays the bound of the others.
	ZoneDue map[string]time.Time
	AfterID int64 // keyset pagination by id
	// ThroughID, when set, ends the batch at this id (inclusive): a batch
	// of the id range (AfterID, ThroughID] rather than of Limit rows.
	ThroughID int64
	Limit     int
	// Lock makes the batch wait for, and then exclude, every other locked
	// batch starting at the same AfterID until its transaction ends
	// (PostgreSQL's digest lock; SQLite's write transactions are exclusive
	// anyway): a digest run moves watermarks, and a second run at the same
	// time (a staff run beside the schedule, another instance) must wait
	// for this batch and then find it done. Runs that lock must therefore
	// cut the same id ranges (see ThroughID). Alerts need no lock: their
	// idempotency keys already make them once only.
	Lock bool
}

// Audience returns the next batch of active subscribers, by id. Called
// inside the write transaction of the batch, so that a concurrent run (the
// CLI beside the daemon) sees this batch's watermarks once it commits.
func (tx *Tx) Audience(ctx context.Context, f AudienceFilter) ([]Audience, error) {
	return audience(ctx, tx.tx, tx.e, f)
}

// Audience reads the next batch of active subscribers outside any write
// transaction, from a reading connection: an alert's fan-out reads the
// next batch while it writes this one (its idempotency keys make a batch
// read twice harmless, and the mailer checks each subscriber's status when
// it sends). f.Lock is ignored.
func (db *DB) Audience(ctx context.Context, f AudienceFilter) ([]Audience, error) {
	f.Lock = false
	return audience(ctx, db.read, db.e, f)
}

func audience(ctx context.Context, c querier, e *engine, f AudienceFilter) ([]Audience, error) {
	q := `SELECT id, language, cadence, timezone, topics, regions, confirmed_at, digest_since, digest_period
		FROM subscribers WHERE status = 'active' AND id > ?`
	args := []any{f.AfterID}
	if f.ThroughID > 0 {
		q += " AND id <= ?"
		args = append(args, f.ThroughID)
	}
	if len(f.Cadences) > 0 {
		q += " AND cadence IN (" + placeholders(len(f.Cadences)) + ")"
		for _, c := range f.Cadences {
			args = append(args, c)
		}
	}
	if f.Timezone != "" {
		q += " AND timezone = ?"
		args = append(args, f.Timezone)
	}
	switch {
	case !f.DueFor.IsZero() && f.PeriodOnly && len(f.ZoneDue) > 0:
		zones := make([]string, 0, len(f.ZoneDue))
		for tz := range f.ZoneDue {
			zones = append(zones, tz)
		}
		slices.Sort(zones) // one statement text for the same zones
		q += " AND COALESCE(digest_period, 0) < CASE timezone"
		for _, tz := range zones {
			q += " WHEN ? THEN CAST(? AS BIGINT)"
			args = append(args, tz, ms(f.ZoneDue[tz]))
		}
		q += " ELSE CAST(? AS BIGINT) END"
		args = append(args, ms(f.DueFor))
	case !f.DueFor.IsZero() && f.PeriodOnly:
		q += " AND COALESCE(digest_period, 0) < ?"
		args = append(args, ms(f.DueFor))
	case !f.DueFor.IsZero():
		q += " AND COALESCE(digest_period, confirmed_at, 0) < ?"
		args = append(args, ms(f.DueFor))
	}
	q += " ORDER BY id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	if f.Lock && e.digestLock != "" {
		// Taken before the read: under READ COMMITTED the SELECT below then
		// sees the watermarks of every batch of the range that held the
		// lock before.
		rows, err := c.QueryContext(ctx, e.digestLock, f.AfterID%math.MaxInt32)
		if err == nil {
			err = rows.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("store: audience: digest lock: %w", err)
		}
	}
	rows, err := c.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audience: %w", err)
	}
	defer rows.Close()
	out := make([]Audience, 0, max(f.Limit, 64))
	for rows.Next() {
		var a Audience
		var topics, regions string
		var confirmed, since, period sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Language, &a.Cadence, &a.Timezone, &topics, &regions, &confirmed, &since, &period); err != nil {
			return nil, fmt.Errorf("store: audience: %w", err)
		}
		a.Topics, a.Regions = splitSlugs(topics), splitSlugs(regions)
		a.ConfirmedAt, a.DigestSince, a.DigestPeriod = fromNullMS(confirmed), fromNullMS(since), fromNullMS(period)
		out = append(out, a)
	}
	return out, rows.Err()
}

// LastSubscriberID is the highest subscriber id, 0 when there is none:
// where a walk over id ranges ends.
func (db *DB) LastSubscriberID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := db.read.QueryRowContext(ctx, "SELECT MAX(id) FROM subscribers").Scan(&id); err != nil {
		return 0, fmt.Errorf("store: last subscriber id: %w", err)
	}
	return id.Int64, nil
}

// QueuedKeys reports which of the idempotency keys are already in the
// outbox (queued or done), for dry runs that must count only new messages.
func (tx *Tx) QueuedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	found := map[string]bool{}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = k
		}
		rows, err := tx.tx.QueryContext(ctx, "SELECT idem_key FROM outbox WHERE idem_key IN ("+placeholders(n)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("store: queued keys: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: queued keys: %w", err)
			}
			found[k] = true
		}
		rows.Close()
		keys = keys[n:]
	}
	return found, nil
}

// SetDigestWatermarks moves the digest watermark of subscribers to until,
// and records period as their last scheduled period when it is not zero.
func (tx *Tx) SetDigestWatermarks(ctx context.Context, ids []int64, until, period time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	q := "UPDATE subscribers SET digest_since = ?"
	args := []any{ms(until)}
	if !period.IsZero() {
		q += ", digest_period = ?"
		args = append(args, ms(period))
	}
	q += " WHERE id IN (" + placeholders(len(ids)) + ")"
	for _, id := range ids {
		args = append(args, id)
	}
	if _, err := tx.tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("store: digest watermarks: %w", err)
	}
	return nil
}

// DigestTimezones lists the time zones of active subscribers of a cadence.
func (db *DB) DigestTimezones(ctx context.Context, cadence string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx,
		"SELECT DISTINCT timezone FROM subscribers WHERE status = 'active' AND cadence = ?", cadence)
	if err != nil {
		return nil, fmt.Errorf("store: digest time zones: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tz string
		if err := rows.Scan(&tz); err != nil {
			return nil, fmt.Errorf("store: digest time zones: %w", err)
		}
		out = append(out, tz)
	}
	return out, rows.Err()
}

// Alert is an alert job and its delivery counts.
type Alert struct {
	ID         int64
	ReleaseID  int64
	Audience   string
	Origin     string // auto | staff | test
	TestTo     string
	Recipients int
	CreatedAt  time.Time
	QueuedAt   time.Time // fan-out finished
	FinishedAt time.Time // every message sent, failed or dropped
	// Message counts by state.
	Pending, Sent, Failed, Expired, Cancelled int
}

// CreateAlert records a new alert job and returns its id.
func (tx *Tx) CreateAlert(ctx context.Context, a Alert) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx,
		"INSERT INTO alerts (release_id, audience, origin, test_to, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		a.ReleaseID, a.Audience, a.Origin, a.TestTo, ms(a.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create alert: %w", err)
	}
	return id, nil
}

// AddAlertRecipients adds n to an alert's recipient count.
func (tx *Tx) AddAlertRecipients(ctx context.Context, id int64, n int) error {
	if _, err := tx.tx.ExecContext(ctx, "UPDATE alerts SET recipients = recipients + ? WHERE id = ?", n, id); err != nil {
		return fmt.Errorf("store: alert %d recipients: %w", id, err)
	}
	return nil
}

// FinishAlertFanout records that every message of the alert is queued.
func (db *DB) FinishAlertFanout(ctx context.Context, id int64, at time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, "UPDATE alerts SET queued_at = ? WHERE id = ?", ms(at), id)
		if err != nil {
			return fmt.Errorf("store: finish alert %d: %w", id, err)
		}
		return nil
	})
}

// Alert reads an alert with its message counts. finished_at is the time of
// the last message's outcome once none is pending.
func (db *DB) Alert(ctx context.Context, id int64) (Alert, error) {
	var a Alert
	var queued, finished sql.NullInt64
	var created int64
	err := db.read.QueryRowContext(ctx,
		"SELECT id, release_id, audience, origin, test_to, recipients, created_at, queued_at, finished_at FROM alerts WHERE id = ?", id).
		Scan(&a.ID, &a.ReleaseID, &a.Audience, &a.Origin, &a.TestTo, &a.Recipients, &created, &queued, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("store: alert %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: alert %d: %w", id, err)
	}
	a.CreatedAt, a.QueuedAt = fromMS(created), fromNullMS(queued)
	var last sql.NullInt64
	err = db.read.QueryRowContext(ctx, `SELECT
		COUNT(*) FILTER (WHERE state IN ('queued', 'sending')), COUNT(*) FILTER (WHERE state = 'sent'),
		COUNT(*) FILTER (WHERE state = 'failed'), COUNT(*) FILTER (WHERE state = 'expired'),
		COUNT(*) FILTER (WHERE state = 'cancelled'), MAX(updated_at)
		FROM outbox WHERE alert_id = ?`, id).Scan(&a.Pending, &a.Sent, &a.Failed, &a.Expired, &a.Cancelled, &last)
	if err != nil {
		return a, fmt.Errorf("store: alert %d counts: %w", id, err)
	}
	switch {
	case finished.Valid: // recorded by FinishAlerts with the alert.finished event
		a.FinishedAt = fromMS(finished.Int64)
	case !a.QueuedAt.IsZero() && a.Pending == 0:
		a.FinishedAt = a.QueuedAt
		if last.Valid && fromMS(last.Int64).After(a.FinishedAt) {
			a.FinishedAt = fromMS(last.Int64)
		}
	}
	return a, nil
}

// FinishAlerts records alert.finished (SPEC 9.3) for every alert whose
// fan-out is done and none of whose messages is waiting any more (each is
// sent, failed, expired or cancelled), and returns how many it finished.
// It runs on the leader; the conditional update of alerts.finished_at is
// the marker that makes the event once only, even beside another instance
// or a retried transaction. Test copies are finished without an event.
func (db *DB) FinishAlerts(ctx context.Context, now time.Time) (int, error) {
	ids, err := scanIDs(db.read.QueryContext(ctx, `SELECT id FROM alerts a WHERE finished_at IS NULL AND queued_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.alert_id = a.id AND o.state IN ('queued', 'sending'))
		ORDER BY id LIMIT 100`))
	if err != nil {
		return 0, fmt.Errorf("store: unfinished alerts: %w", err)
	}
	n := 0
	for _, id := range ids {
		var done bool
		err := db.InTx(ctx, func(tx *Tx) error {
			var err error
			done, err = tx.finishAlert(ctx, id, now)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("store: finish alert %d: %w", id, err)
		}
		if done {
			n++
		}
	}
	return n, nil
}

// finishAlert marks one alert finished, if it is and no one did yet, and
// records its event.
func (tx *Tx) finishAlert(ctx context.Context, id int64, now time.Time) (bool, error) {
	var a Alert
	var created, queued int64
	var last sql.NullInt64
	err := tx.tx.QueryRowContext(ctx, `SELECT release_id, origin, recipients, created_at, queued_at FROM alerts
		WHERE id = ? AND finished_at IS NULL AND queued_at IS NOT NULL`+tx.e.forUpdate, id).
		Scan(&a.ReleaseID, &a.Origin, &a.Recipients, &created, &queued)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // finished meanwhile
	}
	if err != nil {
		return false, err
	}
	err = tx.tx.QueryRowContext(ctx, `SELECT
		COUNT(*) FILTER (WHERE state IN ('queued', 'sending')), COUNT(*) FILTER (WHERE state = 'sent'),
		COUNT(*) FILTER (WHERE state = 'failed'), COUNT(*) FILTER (WHERE state = 'expired'),
		COUNT(*) FILTER (WHERE state = 'cancelled'), MAX(updated_at)
		FROM outbox WHERE alert_id = ?`, id).Scan(&a.Pending, &a.Sent, &a.Failed, &a.Expired, &a.Cancelled, &last)
	if err != nil || a.Pending > 0 {
		return false, err
	}
	finished := fromMS(queued)
	if last.Valid && fromMS(last.Int64).After(finished) {
		finished = fromMS(last.Int64)
	}
	res, err := tx.tx.ExecContext(ctx, "UPDATE alerts SET finished_at = ? WHERE id = ? AND finished_at IS NULL", ms(finished), id)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if a.Origin == "test" {
		return true, nil
	}
	data, _ := json.Marshal(map[string]any{"alert": map[string]any{"id": strconv.FormatInt(id, 10),
		"release_id": strconv.FormatInt(a.ReleaseID, 10), "origin": a.Origin, "recipients": a.Recipients,
		"sent": a.Sent, "failed": a.Failed, "expired": a.Expired, "cancelled": a.Cancelled,
		"started_at": fromMS(created).UTC().Format(time.RFC3339), "finished_at": finished.UTC().Format(time.RFC3339)}})
	return true, tx.RecordEvent(ctx, EventInput{Type: EventAlertFinished, Data: data, At: now})
}

// PendingAutoAlerts lists releases that went live, are live at now, and have
// not had their automatic alert yet, oldest first.
func (db *DB) PendingAutoAlerts(ctx context.Context, now time.Time) ([]int64, error) {
	ids, err := scanIDs(db.read.QueryContext(ctx, `SELECT id FROM releases
		WHERE live_at IS NOT NULL AND auto_alert_at IS NULL AND status = 'published' AND published_at <= ?
		ORDER BY live_at, id`, ms(now)))
	if err != nil {
		return nil, fmt.Errorf("store: pending auto alerts: %w", err)
	}
	return ids, nil
}

// MarkAutoAlerted records that a release's automatic alert is queued.
func (db *DB) MarkAutoAlerted(ctx context.Context, id int64, at time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.MarkAutoAlerted(ctx, id, at) })
}

// MarkAutoAlerted records, in the transaction that stores a release, that it
// has had its automatic alert: it then gets none (an ingest source's
// baseline items).
func (tx *Tx) MarkAutoAlerted(ctx context.Context, id int64, at time.Time) error {
	_, err := tx.tx.ExecContext(ctx, "UPDATE releases SET auto_alert_at = ? WHERE id = ? AND auto_alert_at IS NULL", ms(at), id)
	if err != nil {
		return fmt.Errorf("store: mark release %d auto-alerted: %w", id, err)
	}
	return nil
}

// CreateDigestRun records a digest run and returns its id.
func (tx *Tx) CreateDigestRun(ctx context.Context, cadence, origin string, at time.Time) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, "INSERT INTO digest_runs (cadence, origin, run_at) VALUES (?, ?, ?) RETURNING id",
		cadence, origin, ms(at)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create digest run: %w", err)
	}
	return id, nil
}

// FinishDigestRun records how many digests a run queued, and the
// digest.finished event (SPEC 9.3) with it.
func (db *DB) FinishDigestRun(ctx context.Context, id int64, recipients int, at time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, "UPDATE digest_runs SET recipients = ?, finished_at = ? WHERE id = ?", recipients, ms(at), id)
		if err != nil {
			return fmt.Errorf("store: finish digest run %d: %w", id, err)
		}
		var cadence, origin string
		if err := tx.tx.QueryRowContext(ctx, "SELECT cadence, origin FROM digest_runs WHERE id = ?", id).Scan(&cadence, &origin); err != nil {
			return fmt.Errorf("store: finish digest run %d: %w", id, err)
		}
		data, _ := json.Marshal(map[string]any{"digest": map[string]any{"id": strconv.FormatInt(id, 10), "cadence": cadence,
			"origin": origin, "recipients": recipients, "finished_at": at.UTC().Format(time.RFC3339)}})
		return tx.RecordEvent(ctx, EventInput{Type: EventDigestFinished, Data: data, At: at})
	})
}

// DigestDue counts the active subscribers of a cadence in a time zone whose
// last scheduled digest period is before period (read-only, so that an idle
// scheduler tick takes no write lock).
func (db *DB) DigestDue(ctx context.Context, cadence, tz string, period time.Time) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers
		WHERE status = 'active' AND cadence = ? AND timezone = ? AND COALESCE(digest_period, confirmed_at, 0) < ?`,
		cadence, tz, ms(period)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: digests due: %w", err)
	}
	return n, nil
}
