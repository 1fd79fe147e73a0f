package store

import (
	"context"
	"fmt"
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

const insertOutbox = `INSERT INTO outbox (idem_key, kind, subscriber_id, to_addr, release_id, alert_id,
	digest_run_id, payload, state, next_attempt_at, expires_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)
ON CONFLICT (idem_key) DO NOTHING`

// Enqueue queues items inside the transaction and returns how many were new;
// items whose idempotency key is already queued (or was sent) are skipped.
func (tx *Tx) Enqueue(ctx context.Context, now time.Time, items []OutboxItem) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	stmt, err := tx.tx.PrepareContext(ctx, insertOutbox)
	if err != nil {
		return 0, fmt.Errorf("store: prepare enqueue: %w", err)
	}
	defer stmt.Close()
	n := 0
	for _, it := range items {
		next := it.NotBefore
		if next.IsZero() {
			next = now
		}
		res, err := stmt.ExecContext(ctx, it.IdemKey, it.Kind, nullID(it.SubscriberID), it.ToAddr,
			nullID(it.ReleaseID), nullID(it.AlertID), nullID(it.DigestRunID), it.Payload,
			ms(next), nullMS(it.ExpiresAt), ms(now), ms(now))
		if err != nil {
			return n, fmt.Errorf("store: enqueue %s: %w", it.Kind, err)
		}
		if c, _ := res.RowsAffected(); c > 0 {
			n++
		}
	}
	return n, nil
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
