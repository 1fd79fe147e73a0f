package store

import (
	"context"
	"fmt"
	"time"
)

// SeedSubscriber is a subscriber row written directly, for tests and
// benchmarks of packages that need recipients before the subscriber flows
// exist. Production code adds subscribers through the subscribers package.
type SeedSubscriber struct {
	Email    string
	Status   string // default active
	Language string // default en
	Cadence  string // default daily
}

const seedSubscriber = `INSERT INTO subscribers (email, email_key, status, language, cadence, created_at, updated_at, confirmed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// SeedSubscribers inserts subscribers in one transaction and returns their
// ids, in order. It is meant for tests and benchmarks only.
func (db *DB) SeedSubscribers(ctx context.Context, subs []SeedSubscriber) ([]int64, error) {
	var ids []int64
	now := ms(time.Now())
	err := db.InTx(ctx, func(tx *Tx) error {
		ids = make([]int64, 0, len(subs))
		st, err := tx.tx.PrepareContext(ctx, seedSubscriber)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, s := range subs {
			status, lang, cadence := or(s.Status, "active"), or(s.Language, "en"), or(s.Cadence, "daily")
			var id int64
			if err := st.QueryRowContext(ctx, s.Email, AddressKey(s.Email), status, lang, cadence, now, now, now).Scan(&id); err != nil {
				return fmt.Errorf("%s: %w", s.Email, err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: seed subscribers: %w", err)
	}
	return ids, nil
}

const subscriberStatus = `SELECT status FROM subscribers WHERE id = ?`

// SubscriberStatus reads a subscriber's status (tests of the mailer check
// that a bounce marked the subscriber).
func (db *DB) SubscriberStatus(ctx context.Context, id int64) (string, error) {
	var s string
	if err := db.read.QueryRowContext(ctx, subscriberStatus, id).Scan(&s); err != nil {
		return "", fmt.Errorf("store: subscriber %d status: %w", id, err)
	}
	return s, nil
}

const forceLease = `UPDATE outbox SET state = 'sending', lease_until = ? WHERE idem_key = ?`

// ForceLease puts a row in 'sending' with the given lease, as a worker
// killed mid-transaction would leave it (tests of crash recovery).
func (db *DB) ForceLease(ctx context.Context, key string, until time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, forceLease, ms(until), key)
		return err
	})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
