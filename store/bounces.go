package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Bounce kinds and sources (SPEC 8.3).
const (
	BounceHard      = "hard"
	BounceSoft      = "soft"
	BounceComplaint = "complaint"

	BounceSMTP     = "smtp"
	BounceMailbox  = "mailbox"
	BounceSES      = "ses"
	BouncePostmark = "postmark"
	BounceSendGrid = "sendgrid"
	BounceMailgun  = "mailgun"
)

// BounceKinds and BounceSources list the values of the bounces table's
// kind and source columns.
var (
	BounceKinds   = []string{BounceHard, BounceSoft, BounceComplaint}
	BounceSources = []string{BounceSMTP, BounceMailbox, BounceSES, BouncePostmark, BounceSendGrid, BounceMailgun}
)

// Bounce is one recorded bounce or complaint. SubscriberID is 0 once the
// subscriber was erased (Email is then empty too).
type Bounce struct {
	ID           int64
	At           time.Time
	SubscriberID int64
	Email        string
	Kind         string
	Source       string
	MessageID    string
	Diagnostic   string
}

// BounceKey is the key under which an event is recorded once: its kind,
// what it is about (ref: "o<outbox id>" when the message is known, else
// the provider's event id) and its recipient (the subscriber's id).
func BounceKey(kind, ref string, subscriberID int64) string {
	return kind + "|" + ref + "|" + strconv.FormatInt(subscriberID, 10)
}

// OutboxRef is the ref of BounceKey for an outbox row.
func OutboxRef(outboxID int64) string { return "o" + strconv.FormatInt(outboxID, 10) }

// maxDiagnostic bounds the stored diagnostic text.
const maxDiagnostic = 1000

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 { // never cut a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}

// InsertBounce records b under key and reports whether it is new: false
// when an event with that key is already recorded (nothing changes).
func (tx *Tx) InsertBounce(ctx context.Context, b *Bounce, key string) (bool, error) {
	var sub any
	if b.SubscriberID != 0 {
		sub = b.SubscriberID
	}
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO bounces (at, subscriber_id, email, kind, source, message_id, diagnostic, dedup_key)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
		ms(b.At), sub, b.Email, b.Kind, b.Source, clipText(b.MessageID, 500), clipText(b.Diagnostic, maxDiagnostic), key).Scan(&b.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: record bounce: %w", err)
	}
	return true, nil
}

// LockSubscriber takes the write lock of a subscriber's row for the rest of
// the transaction (a no-op update), so that counting their soft bounces and
// acting on the count is not raced by another instance; ErrNotFound when
// there is no such subscriber.
func (tx *Tx) LockSubscriber(ctx context.Context, id int64) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE subscribers SET updated_at = updated_at WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: lock subscriber %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: lock subscriber %d: %w", id, ErrNotFound)
	}
	return nil
}

// CountBounces counts a subscriber's recorded events of kind since t.
func (tx *Tx) CountBounces(ctx context.Context, subscriberID int64, kind string, since time.Time) (int, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bounces WHERE subscriber_id = ? AND kind = ? AND at >= ?`,
		subscriberID, kind, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count bounces of subscriber %d: %w", subscriberID, err)
	}
	return n, nil
}

// OutboxMessageByID reads what identifies an outbox row (id, idem key,
// kind, subscriber, creation time), whatever its state; ErrNotFound when
// there is none.
func (tx *Tx) OutboxMessageByID(ctx context.Context, id int64) (OutboxMessage, error) {
	var m OutboxMessage
	var sub sql.NullInt64
	var created int64
	err := tx.tx.QueryRowContext(ctx, `SELECT id, idem_key, kind, subscriber_id, created_at FROM outbox WHERE id = ?`, id).
		Scan(&m.ID, &m.IdemKey, &m.Kind, &sub, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: outbox row %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: outbox row %d: %w", id, err)
	}
	m.SubscriberID, m.CreatedAt = sub.Int64, fromMS(created)
	return m, nil
}

// BounceQuery filters the bounces list. BeforeID pages: events with a
// smaller id.
type BounceQuery struct {
	Kind     string
	Source   string
	Since    time.Time
	BeforeID int64
	Limit    int
}

// ListBounces lists recorded events newest first.
func (db *DB) ListBounces(ctx context.Context, q BounceQuery) ([]Bounce, error) {
	var where []string
	var args []any
	if q.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, q.Kind)
	}
	if q.Source != "" {
		where, args = append(where, "source = ?"), append(args, q.Source)
	}
	rows, err := db.logPage(ctx, "SELECT id, at, subscriber_id, email, kind, source, message_id, diagnostic FROM bounces",
		where, args, logPageQuery{Since: q.Since, BeforeID: q.BeforeID, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("store: list bounces: %w", err)
	}
	defer rows.Close()
	out := []Bounce{}
	for rows.Next() {
		var b Bounce
		var at int64
		var sub sql.NullInt64
		if err := rows.Scan(&b.ID, &at, &sub, &b.Email, &b.Kind, &b.Source, &b.MessageID, &b.Diagnostic); err != nil {
			return nil, fmt.Errorf("store: list bounces: %w", err)
		}
		b.At, b.SubscriberID = fromMS(at), sub.Int64
		out = append(out, b)
	}
	return out, rows.Err()
}

// BounceCounts counts the events recorded since t, by kind (every kind
// present, 0 when none).
func (db *DB) BounceCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	out := map[string]int{}
	for _, k := range BounceKinds {
		out[k] = 0
	}
	rows, err := db.read.QueryContext(ctx, `SELECT kind, COUNT(*) FROM bounces WHERE at >= ? GROUP BY kind`, ms(since))
	if err != nil {
		return nil, fmt.Errorf("store: bounce counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: bounce counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// SentSince counts the messages sent since t (the complaint rate's
// denominator). The scan starts at the first row queued a retry period
// before t, found by the primary key.
func (db *DB) SentSince(ctx context.Context, since time.Time) (int, error) {
	from, err := db.firstOutboxSince(ctx, since.Add(-deliveryLookBack))
	if err != nil {
		return 0, err
	}
	var n int
	err = db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE id >= ? AND state = 'sent' AND sent_at >= ?`, from, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: sent since: %w", err)
	}
	return n, nil
}

// bounceRecord records a permanent refusal at SMTP time (SPEC 8.3, source
// smtp) for the subscriber of an outbox row, with the row as its ref.
const bounceRecord = `INSERT INTO bounces (at, subscriber_id, email, kind, source, message_id, diagnostic, dedup_key)
SELECT ?, id, email, 'hard', 'smtp', ?, ?, ? FROM subscribers WHERE id = ?
ON CONFLICT (dedup_key) DO NOTHING`

func bounceRecordArgs(now time.Time, r OutboxResult) []any {
	return []any{ms(now), clipText(r.MessageID, 500), clipText(r.Error, maxDiagnostic),
		BounceKey(BounceHard, OutboxRef(r.ID), r.SubscriberID), r.SubscriberID}
}
