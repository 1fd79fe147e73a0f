package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Event is something that happened, recorded in the same transaction as the
// change itself (SPEC 9.3's event types), for the webhook and WebSub
// fan-outs to pick up.
type Event struct {
	ID        int64
	UID       string // random and unique: webhook messages are msg_<UID>
	Type      string
	Data      string // JSON object
	CreatedAt time.Time
}

// EventInput is an event to record.
type EventInput struct {
	Type string
	Data []byte // JSON object
	At   time.Time
	// FeedChange marks events that may change a feed's content (a release
	// went live, was edited or deleted): the WebSub hub looks at those.
	FeedChange bool
}

// RecordEvent records ev inside the transaction of the change it reports.
func (tx *Tx) RecordEvent(ctx context.Context, ev EventInput) error {
	var pushed any = ms(ev.At) // nothing for WebSub to do
	if ev.FeedChange {
		pushed = nil
	}
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO events (uid, type, data, created_at, pushed_at) VALUES (?, ?, ?, ?, ?)`,
		newUID(), ev.Type, string(ev.Data), ms(ev.At), pushed)
	if err != nil {
		return fmt.Errorf("store: record event %s: %w", ev.Type, err)
	}
	return nil
}

// eventChunk is how many events one INSERT of RecordEvents carries.
const eventChunk = 200

// RecordEvents records many events inside one transaction with multi-row
// INSERTs (a subscriber import records one per row it activates or
// unsubscribes; a statement per event would cost a round trip each).
func (tx *Tx) RecordEvents(ctx context.Context, evs []EventInput) error {
	for len(evs) > 0 {
		chunk := evs[:min(len(evs), eventChunk)]
		q := `INSERT INTO events (uid, type, data, created_at, pushed_at) VALUES ` +
			strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)-1) + "(?, ?, ?, ?, ?)"
		args := make([]any, 0, 5*len(chunk))
		for _, ev := range chunk {
			var pushed any = ms(ev.At)
			if ev.FeedChange {
				pushed = nil
			}
			args = append(args, newUID(), ev.Type, string(ev.Data), ms(ev.At), pushed)
		}
		if _, err := tx.tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: record %d events: %w", len(chunk), err)
		}
		evs = evs[len(chunk):]
	}
	return nil
}

// EventsWanted reports which of the event types some active webhook
// subscribes to. Bulk changes (imports) record only those: an event no
// webhook wants is delivered to no one (subscriber events change no feed),
// and a million of them would slow a million-row import down threefold.
func (tx *Tx) EventsWanted(ctx context.Context, types ...string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, t := range types {
		var n int
		err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE active = 1 AND events LIKE ?`, "%,"+t+",%").Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("store: events wanted: %w", err)
		}
		out[t] = n > 0
	}
	return out, nil
}

// newUID returns 20 random bytes in URL-safe base64 (27 characters).
func newUID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// eventColumns are the columns scanEvent reads.
const eventColumns = `id, uid, type, data, created_at`

func scanEvent(sc interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var created int64
	err := sc.Scan(&e.ID, &e.UID, &e.Type, &e.Data, &created)
	e.CreatedAt = fromMS(created)
	return e, err
}

// takeEvents reads up to limit events whose column col (hooked_at or
// pushed_at) is still NULL, locking them on PostgreSQL (passing over those
// another instance holds), marks them taken at now, and returns them.
func (tx *Tx) takeEvents(ctx context.Context, col string, now time.Time, limit int) ([]Event, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE `+col+` IS NULL ORDER BY id LIMIT ?`+tx.e.skipLocked, limit)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		evs = append(evs, e)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil || len(evs) == 0 {
		return evs, err
	}
	args := []any{ms(now)}
	for _, e := range evs {
		args = append(args, e.ID)
	}
	_, err = tx.tx.ExecContext(ctx, `UPDATE events SET `+col+` = ? WHERE id IN (`+placeholders(len(evs))+`)`, args...)
	return evs, err
}

// Events lists the newest events, for tests and the console.
func (db *DB) Events(ctx context.Context, limit int) ([]Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+eventColumns+` FROM events ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Event types (SPEC 9.3).
const (
	EventReleasePublished      = "release.published"
	EventReleaseUpdated        = "release.updated"
	EventReleaseDeleted        = "release.deleted"
	EventAlertFinished         = "alert.finished"
	EventDigestFinished        = "digest.finished"
	EventSubscriberConfirmed   = "subscriber.confirmed"
	EventSubscriberUnsubscribe = "subscriber.unsubscribed"
	EventSubscriberBounced     = "subscriber.bounced"
	EventSubscriberComplained  = "subscriber.complained"
)

// EventTypes lists every event type, in the order of SPEC 9.3.
var EventTypes = []string{EventReleasePublished, EventReleaseUpdated, EventReleaseDeleted, EventAlertFinished,
	EventDigestFinished, EventSubscriberConfirmed, EventSubscriberUnsubscribe, EventSubscriberBounced, EventSubscriberComplained}
