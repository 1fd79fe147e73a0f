package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OutboxItem is a message to queue (SPEC 5.4). The mailer renders it when
// sending, from its kind, its references and its payload.
type OutboxItem struct {
	IdemKey      string // unique: queuing the same key again is a no-op
	Kind         string // confirm | manage | alert | digest
	SubscriberID int64  // 0 for a message to ToAddr only (a test copy)
	ToAddr       string
	ReleaseID    int64
	AlertID      int64
	DigestRunID  int64
	Payload      string    // kind-specific JSON
	ExpiresAt    time.Time // zero: never stale
	NotBefore    time.Time // zero: now
}

const insertOutboxHead = `INSERT INTO outbox (idem_key, kind, subscriber_id, to_addr, release_id, alert_id,
	digest_run_id, payload, state, next_attempt_at, expires_at, created_at, updated_at) VALUES `

const insertOutboxRow = `(?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`

const insertOutboxTail = ` ON CONFLICT (idem_key) DO NOTHING RETURNING idem_key`

// Enqueue queues items inside the transaction and returns how many were new;
// items whose idempotency key is already queued (or was sent) are skipped.
func (tx *Tx) Enqueue(ctx context.Context, now time.Time, items []OutboxItem) (int, error) {
	fresh, err := tx.EnqueueEach(ctx, now, items)
	n := 0
	for _, f := range fresh {
		if f {
			n++
		}
	}
	return n, err
}

// EnqueueEach is Enqueue reporting, item by item, which ones were new.
func (tx *Tx) EnqueueEach(ctx context.Context, now time.Time, items []OutboxItem) ([]bool, error) {
	if tx.e.q.enqueueArrays != "" {
		return tx.enqueueArrays(ctx, now, items)
	}
	fresh := make([]bool, len(items))
	var full *sql.Stmt // the statement of a whole chunk, parsed once
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	enqueueChunk := tx.e.enqueueChunk
	for start := 0; start < len(items); start += enqueueChunk {
		chunk := items[start:min(start+enqueueChunk, len(items))]
		q := insertOutboxHead + strings.Repeat(insertOutboxRow+", ", len(chunk)-1) + insertOutboxRow + insertOutboxTail
		if len(chunk) == enqueueChunk && full == nil {
			var err error
			if full, err = tx.tx.PrepareContext(ctx, q); err != nil {
				return fresh, fmt.Errorf("store: prepare enqueue: %w", err)
			}
		}
		args := make([]any, 0, 12*len(chunk))
		at := make(map[string]int, len(chunk))
		for i, it := range chunk {
			next := it.NotBefore
			if next.IsZero() {
				next = now
			}
			args = append(args, it.IdemKey, it.Kind, nullID(it.SubscriberID), it.ToAddr,
				nullID(it.ReleaseID), nullID(it.AlertID), nullID(it.DigestRunID), it.Payload,
				ms(next), nullMS(it.ExpiresAt), ms(now), ms(now))
			at[it.IdemKey] = start + i
		}
		var rows *sql.Rows
		var err error
		if len(chunk) == enqueueChunk {
			rows, err = full.QueryContext(ctx, args...)
		} else {
			rows, err = tx.tx.QueryContext(ctx, q, args...)
		}
		if err != nil {
			return fresh, fmt.Errorf("store: enqueue: %w", err)
		}
		for rows.Next() {
			var key string
			if err := rows.Scan(&key); err != nil {
				rows.Close()
				return fresh, fmt.Errorf("store: enqueue: %w", err)
			}
			fresh[at[key]] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fresh, fmt.Errorf("store: enqueue: %w", err)
		}
	}
	return fresh, nil
}

// enqueueArrays queues items with one short statement whose values are
// arrays (PostgreSQL's unnest): planning a thousand-row VALUES list cost
// more than inserting the rows.
func (tx *Tx) enqueueArrays(ctx context.Context, now time.Time, items []OutboxItem) ([]bool, error) {
	fresh := make([]bool, len(items))
	n := len(items)
	if n == 0 {
		return fresh, nil
	}
	keys, kinds, to, payloads := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	subs, rels, alerts, runs := make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n)
	next, exp := make([]int64, n), make([]*int64, n)
	at := make(map[string]int, n)
	for i, it := range items {
		keys[i], kinds[i], to[i], payloads[i] = it.IdemKey, it.Kind, it.ToAddr, it.Payload
		subs[i], rels[i], alerts[i], runs[i] = ptrID(it.SubscriberID), ptrID(it.ReleaseID), ptrID(it.AlertID), ptrID(it.DigestRunID)
		next[i] = ms(now)
		if !it.NotBefore.IsZero() {
			next[i] = ms(it.NotBefore)
		}
		if !it.ExpiresAt.IsZero() {
			e := ms(it.ExpiresAt)
			exp[i] = &e
		}
		at[it.IdemKey] = i
	}
	rows, err := tx.tx.QueryContext(ctx, tx.e.q.enqueueArrays, keys, kinds, subs, to, rels, alerts, runs, payloads, next, exp, ms(now))
	if err != nil {
		return fresh, fmt.Errorf("store: enqueue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return fresh, fmt.Errorf("store: enqueue: %w", err)
		}
		fresh[at[key]] = true
	}
	if err := rows.Err(); err != nil {
		return fresh, fmt.Errorf("store: enqueue: %w", err)
	}
	return fresh, nil
}

// ptrID is an id for an array of nullable ids: 0 is NULL.
func ptrID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// nullID stores 0 as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// OutboxMessage is a queued row claimed for sending, with its recipient.
type OutboxMessage struct {
	ID           int64
	IdemKey      string
	Kind         string
	SubscriberID int64 // 0 when the subscriber is gone or for a test copy
	ReleaseID    int64
	AlertID      int64
	DigestRunID  int64
	Payload      string
	Attempts     int
	ExpiresAt    time.Time
	CreatedAt    time.Time
	// Recipient: the subscriber's current address, language and status, or
	// ToAddr for a message to no subscriber.
	To       string
	Language string
	Status   string
}

// Outbox states (SPEC 5.4): queued -> sending -> sent | failed, or expired
// (a stale alert) and cancelled (no longer to be sent).
const (
	OutboxQueued    = "queued"
	OutboxSending   = "sending"
	OutboxSent      = "sent"
	OutboxFailed    = "failed"
	OutboxExpired   = "expired"
	OutboxCancelled = "cancelled"
)

// ClaimOptions bounds one claim.
type ClaimOptions struct {
	Limit int           // rows at most
	Lease time.Duration // a claimed row may be taken up again this long after the claim
}

// selectDue picks queued rows whose time has come, oldest first; the
// (state, next_attempt_at) index gives the order (its entries end with the
// rowid), so no sort of the whole queue happens.
const selectDue = `SELECT o.id FROM outbox o
WHERE o.state = 'queued' AND o.next_attempt_at <= ?
ORDER BY o.next_attempt_at, o.id LIMIT ?`

// selectLapsed picks rows left in 'sending' whose lease ran out: their
// worker crashed or was killed mid-way.
const selectLapsed = `SELECT o.id FROM outbox o
WHERE o.state = 'sending' AND o.lease_until < ?
ORDER BY o.lease_until LIMIT ?`

const claimRows = `UPDATE outbox SET state = 'sending', lease_until = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (%s)
RETURNING id, idem_key, kind, subscriber_id, to_addr, release_id, alert_id, digest_run_id, payload,
	attempts, expires_at, created_at`

const selectRecipients = `SELECT id, email, language, status FROM subscribers WHERE id IN (%s)`

// ClaimOutbox takes up to opts.Limit due rows in one transaction: rows left
// in 'sending' by a crashed worker whose lease ran out, then queued rows whose
// next attempt is due. Each becomes 'sending' with a lease and one more
// attempt, and comes back with its recipient: the subscriber's current
// address, language and status, or ToAddr for a message to no subscriber.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, opts ClaimOptions) ([]OutboxMessage, error) {
	if opts.Limit <= 0 {
		opts.Limit = 1
	}
	var out []OutboxMessage
	// On PostgreSQL the SELECTs lock what they pick and pass over rows that
	// another instance is claiming at the same moment.
	lapsed, err := db.writeStmt(ctx, selectLapsed+db.e.skipLocked)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	due, err := db.writeStmt(ctx, selectDue+db.e.skipLocked)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		out = nil
		ids, err := tx.queryIDs(ctx, lapsed, ms(now), opts.Limit)
		if err != nil {
			return err
		}
		if n := opts.Limit - len(ids); n > 0 {
			more, err := tx.queryIDs(ctx, due, ms(now), n)
			if err != nil {
				return err
			}
			ids = append(ids, more...)
		}
		if len(ids) == 0 {
			return nil
		}
		out, err = tx.claim(ctx, now, opts.Lease, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	return out, nil
}

func (tx *Tx) queryIDs(ctx context.Context, st *sql.Stmt, args ...any) ([]int64, error) {
	return scanIDs(tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...))
}

func (tx *Tx) claim(ctx context.Context, now time.Time, lease time.Duration, ids []int64) ([]OutboxMessage, error) {
	args := make([]any, 0, len(ids)+2)
	args = append(args, ms(now.Add(lease)), ms(now))
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := tx.tx.QueryContext(ctx, fmt.Sprintf(claimRows, placeholders(len(ids))), args...)
	if err != nil {
		return nil, err
	}
	out := make([]OutboxMessage, 0, len(ids))
	subs := map[int64][]int{}
	for rows.Next() {
		var m OutboxMessage
		var sub, rel, alert, run, exp sql.NullInt64
		var created int64
		if err := rows.Scan(&m.ID, &m.IdemKey, &m.Kind, &sub, &m.To, &rel, &alert, &run, &m.Payload,
			&m.Attempts, &exp, &created); err != nil {
			rows.Close()
			return nil, err
		}
		m.SubscriberID, m.ReleaseID, m.AlertID, m.DigestRunID = sub.Int64, rel.Int64, alert.Int64, run.Int64
		m.ExpiresAt, m.CreatedAt = fromNullMS(exp), fromMS(created)
		if sub.Valid {
			subs[sub.Int64] = append(subs[sub.Int64], len(out))
		}
		out = append(out, m)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return out, nil
	}
	return out, tx.fillRecipients(ctx, out, subs)
}

// fillRecipients sets To, Language and Status of claimed rows from the
// subscribers they name (one query for the batch).
func (tx *Tx) fillRecipients(ctx context.Context, out []OutboxMessage, subs map[int64][]int) error {
	args := make([]any, 0, len(subs))
	for id := range subs {
		args = append(args, id)
	}
	rows, err := tx.tx.QueryContext(ctx, fmt.Sprintf(selectRecipients, placeholders(len(args))), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var email, lang, status string
		if err := rows.Scan(&id, &email, &lang, &status); err != nil {
			return err
		}
		for _, i := range subs[id] {
			out[i].To, out[i].Language, out[i].Status = email, lang, status
		}
	}
	return rows.Err()
}

const extendLease = `UPDATE outbox SET lease_until = ? WHERE id IN (%s) AND state = 'sending'`

// ExtendOutboxLease renews the lease of rows this process still holds
// (claimed and not yet recorded), so that a short lease is enough while the
// process lives and rows of a crashed process come back quickly.
func (db *DB) ExtendOutboxLease(ctx context.Context, ids []int64, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, ms(until))
	for _, id := range ids {
		args = append(args, id)
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, fmt.Sprintf(extendLease, placeholders(len(ids))), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: extend outbox lease: %w", err)
	}
	return nil
}

// OutboxResult is the outcome of one claimed row.
type OutboxResult struct {
	ID          int64
	State       string    // sent | queued (deferred) | failed | expired | cancelled
	NextAttempt time.Time // for queued: when to try again
	Error       string    // last error, for anything but sent
	MessageID   string    // for sent
	Subject     string    // for sent: kept for the subscriber's data download
	// Bounce marks the row's subscriber bounced (a permanent 5xx for the
	// recipient) and cancels their other queued rows: no further mail.
	Bounce       bool
	SubscriberID int64
	// Release gives the row back untouched (not attempted): its attempt is
	// not counted.
	Release bool
}

const (
	markSent = `UPDATE outbox SET state = 'sent', sent_at = ?, updated_at = ?, message_id = ?, subject = ?, last_error = '',
	lease_until = NULL WHERE id = ? AND state = 'sending'`
	markRetry = `UPDATE outbox SET state = 'queued', next_attempt_at = ?, updated_at = ?, last_error = ?,
	lease_until = NULL WHERE id = ? AND state = 'sending'`
	markReleased = `UPDATE outbox SET state = 'queued', updated_at = ?, lease_until = NULL,
	attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = ? AND state = 'sending'`
	markDone = `UPDATE outbox SET state = ?, updated_at = ?, last_error = ?, lease_until = NULL
	WHERE id = ? AND state = 'sending'`
	bounceSubscriber = `UPDATE subscribers SET status = 'bounced', bounced_at = ?, updated_at = ?
	WHERE id = ? AND status <> 'bounced'`
	cancelForSubscriber = `UPDATE outbox SET state = 'cancelled', updated_at = ?, last_error = ?
	WHERE subscriber_id = ? AND state = 'queued'`
	// bounceEvent records subscriber.bounced (SPEC 9.3) before
	// bounceSubscriber runs, only when it changes the status. Its data names
	// the subscriber by id and status: the JSON is built here in Go, and
	// the address would need escaping in SQL.
	bounceEvent = `INSERT INTO events (uid, type, data, created_at, pushed_at)
	SELECT ?, 'subscriber.bounced', ?, ?, ? FROM subscribers WHERE id = ? AND status <> 'bounced'`
)

func bounceEventArgs(now time.Time, subscriberID int64) []any {
	data := `{"subscriber":{"id":"` + strconv.FormatInt(subscriberID, 10) + `","status":"bounced"}}`
	return []any{newUID(), data, ms(now), ms(now), subscriberID}
}

// RecordOutbox stores the outcomes of claimed rows. A row no longer in
// 'sending' (another process took it up after its lease ran out) is left as
// it is. Sent rows, the bulk of the traffic, are marked in one statement;
// the others in one transaction.
func (db *DB) RecordOutbox(ctx context.Context, now time.Time, results []OutboxResult) error {
	if len(results) == 0 {
		return nil
	}
	sent := map[string][2]string{} // id -> Message-ID, subject
	rest := results[:0:0]
	for _, r := range results {
		if r.State == OutboxSent && !r.Release && !r.Bounce {
			sent[strconv.FormatInt(r.ID, 10)] = [2]string{r.MessageID, r.Subject}
		} else {
			rest = append(rest, r)
		}
	}
	if len(sent) > 0 {
		if err := db.markSent(ctx, now, sent); err != nil {
			return err
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return db.recordTx(ctx, now, rest)
}

func (db *DB) markSent(ctx context.Context, now time.Time, sent map[string][2]string) error {
	js, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("store: record sent mail: %w", err)
	}
	// One statement (its own implicit transaction) in the engine's form:
	// its text never changes, so it is prepared once.
	st, err := db.writeStmt(ctx, db.e.q.markSentBulk)
	if err == nil {
		_, err = st.ExecContext(ctx, ms(now), ms(now), string(js))
	}
	if err != nil {
		return fmt.Errorf("store: record sent mail: %w", err)
	}
	return nil
}

// recordTx stores outcomes other than a plain send in one transaction.
func (db *DB) recordTx(ctx context.Context, now time.Time, results []OutboxResult) error {
	// Prepare outside the transaction: it holds the only write connection.
	stmts := map[string]*sql.Stmt{}
	for _, q := range []string{markSent, markRetry, markReleased, markDone, bounceEvent, bounceSubscriber, cancelForSubscriber, bounceRecord} {
		s, err := db.writeStmt(ctx, q)
		if err != nil {
			return fmt.Errorf("store: record outbox: %w", err)
		}
		stmts[q] = s
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		bound := map[string]*sql.Stmt{}
		exec := func(q string, args ...any) error {
			s, ok := bound[q]
			if !ok {
				s = tx.tx.StmtContext(ctx, stmts[q])
				bound[q] = s
			}
			_, err := s.ExecContext(ctx, args...)
			return err
		}
		for _, r := range results {
			if err := recordOne(exec, now, r); err != nil {
				return fmt.Errorf("row %d: %w", r.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record outbox: %w", err)
	}
	return nil
}

func recordOne(exec func(string, ...any) error, now time.Time, r OutboxResult) error {
	t := ms(now)
	switch {
	case r.Release:
		return exec(markReleased, t, r.ID)
	case r.State == OutboxSent:
		return exec(markSent, t, t, r.MessageID, r.Subject, r.ID)
	case r.State == OutboxQueued:
		return exec(markRetry, ms(r.NextAttempt), t, r.Error, r.ID)
	case r.State == OutboxFailed || r.State == OutboxExpired || r.State == OutboxCancelled:
		if err := exec(markDone, r.State, t, r.Error, r.ID); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown outbox state %q", r.State)
	}
	if r.Bounce && r.SubscriberID != 0 {
		if err := exec(bounceRecord, bounceRecordArgs(now, r)...); err != nil {
			return err
		}
		if err := exec(bounceEvent, bounceEventArgs(now, r.SubscriberID)...); err != nil {
			return err
		}
		if err := exec(bounceSubscriber, t, t, r.SubscriberID); err != nil {
			return err
		}
		return exec(cancelForSubscriber, t, "recipient bounced", r.SubscriberID)
	}
	return nil
}

// writeStmt returns q prepared once on the write pool: the outbox records
// thousands of outcomes a second, and parsing the same UPDATE for every
// transaction would cost more than running it.
func (db *DB) writeStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(q); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.write.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(q, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// preparedStmt returns q when it was prepared on the write pool before this
// transaction began (see writeStmt), else nil: preparing it now would wait
// for the connection this transaction holds.
func (tx *Tx) preparedStmt(q string) *sql.Stmt {
	if tx.db == nil {
		return nil
	}
	if s, ok := tx.db.stmts.Load(q); ok {
		return s.(*sql.Stmt)
	}
	return nil
}

// MarkSubscriberBounced marks a subscriber bounced and cancels their queued
// mail (SPEC 5.4: a permanent failure stops all mail to them).
func (db *DB) MarkSubscriberBounced(ctx context.Context, now time.Time, subscriberID int64) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, bounceEvent, bounceEventArgs(now, subscriberID)...); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, bounceSubscriber, ms(now), ms(now), subscriberID); err != nil {
			return err
		}
		_, err := tx.CancelQueued(ctx, now, subscriberID, "recipient bounced")
		return err
	})
	if err != nil {
		return fmt.Errorf("store: bounce subscriber %d: %w", subscriberID, err)
	}
	return nil
}

// CancelQueued cancels a subscriber's queued messages (they unsubscribed or
// were erased) inside the transaction that causes it, and returns how many.
func (tx *Tx) CancelQueued(ctx context.Context, now time.Time, subscriberID int64, reason string) (int, error) {
	res, err := tx.tx.ExecContext(ctx, cancelForSubscriber, ms(now), reason, subscriberID)
	if err != nil {
		return 0, fmt.Errorf("store: cancel queued mail of subscriber %d: %w", subscriberID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

const expireStale = `UPDATE outbox SET state = 'expired', updated_at = ?, last_error = 'stale: not sent in time'
WHERE state = 'queued' AND expires_at IS NOT NULL AND expires_at < ?
RETURNING kind`

// ExpireOutbox marks queued rows whose expires_at has passed as expired
// (never sent) and returns how many per kind.
func (db *DB) ExpireOutbox(ctx context.Context, now time.Time) (map[string]int, error) {
	counts := map[string]int{}
	err := db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.tx.QueryContext(ctx, expireStale, ms(now), ms(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			if err := rows.Scan(&kind); err != nil {
				return err
			}
			counts[kind]++
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire outbox: %w", err)
	}
	return counts, nil
}

// OutboxQueue is how much mail waits.
type OutboxQueue struct {
	Due      int       // queued and due now, or left in sending by a crash
	Sending  int       // claimed by a worker
	Deferred int       // queued for a later attempt
	NextAt   time.Time // the earliest deferred attempt; zero if none
}

// Depth is every message not yet sent, failed or dropped.
func (q OutboxQueue) Depth() int { return q.Due + q.Sending + q.Deferred }

const outboxQueue = `SELECT
	COUNT(*) FILTER (WHERE state = 'queued' AND next_attempt_at <= ?),
	COUNT(*) FILTER (WHERE state = 'sending'),
	COUNT(*) FILTER (WHERE state = 'queued' AND next_attempt_at > ?),
	MIN(CASE WHEN state = 'queued' AND next_attempt_at > ? THEN next_attempt_at END)
FROM outbox WHERE state IN ('queued', 'sending')`

// OutboxQueue counts the mail that waits (it reads the due index only).
func (db *DB) OutboxQueue(ctx context.Context, now time.Time) (OutboxQueue, error) {
	var q OutboxQueue
	var next sql.NullInt64
	t := ms(now)
	err := db.read.QueryRowContext(ctx, outboxQueue, t, t, t).Scan(&q.Due, &q.Sending, &q.Deferred, &next)
	if err != nil {
		return q, fmt.Errorf("store: outbox queue: %w", err)
	}
	q.NextAt = fromNullMS(next)
	return q, nil
}

const outboxCounts = `SELECT state, COUNT(*) FROM outbox GROUP BY state`

// OutboxCounts counts messages by state (GET /api/v1/stats).
func (db *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, outboxCounts)
	if err != nil {
		return nil, fmt.Errorf("store: outbox counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("store: outbox counts: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}

// OutboxRow is a stored outbox row as it is, for tests and tools.
type OutboxRow struct {
	ID          int64
	IdemKey     string
	Kind        string
	State       string
	Attempts    int
	NextAttempt time.Time
	LeaseUntil  time.Time
	LastError   string
	MessageID   string
	SentAt      time.Time
}

const getOutbox = `SELECT id, idem_key, kind, state, attempts, next_attempt_at, lease_until, last_error,
	message_id, sent_at FROM outbox WHERE idem_key = ?`

// OutboxByKey reads the row queued under an idempotency key.
func (db *DB) OutboxByKey(ctx context.Context, key string) (OutboxRow, error) {
	var r OutboxRow
	var next int64
	var lease, sent sql.NullInt64
	err := db.read.QueryRowContext(ctx, getOutbox, key).Scan(&r.ID, &r.IdemKey, &r.Kind, &r.State, &r.Attempts,
		&next, &lease, &r.LastError, &r.MessageID, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("store: outbox %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: outbox %q: %w", key, err)
	}
	r.NextAttempt, r.LeaseUntil, r.SentAt = fromMS(next), fromNullMS(lease), fromNullMS(sent)
	return r, nil
}
