package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WebSub (SPEC 9.2): verified subscriptions, and the hub's durable queue of
// intent verifications, content pushes and pings of external hubs.

// WebSub job kinds.
const (
	WebSubVerify  = "verify"
	WebSubContent = "content"
	WebSubPublish = "publish"
)

// WebSubJob is one row of the hub's queue.
type WebSubJob struct {
	ID             int64
	Kind           string
	SubscriptionID int64
	Topic          string
	Callback       string // verify, content: the subscriber; publish: the external hub
	Mode           string // verify: subscribe | unsubscribe
	Secret         string // verify: the requested secret; content: the subscription's
	LeaseSeconds   int
	Attempts       int
	ExpiresAt      time.Time // the job's: no attempt after it
	// LeaseEnds is a content job's subscription expiry (zero: it is gone).
	LeaseEnds time.Time
}

// EnqueueWebSubVerify queues an intent verification (a subscribe or
// unsubscribe request answered 202).
func (db *DB) EnqueueWebSubVerify(ctx context.Context, j WebSubJob, now time.Time) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO websub_jobs (kind, topic, callback, mode, secret, lease_seconds, state,
			next_attempt_at, expires_at, created_at, updated_at) VALUES ('verify', ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
			j.Topic, j.Callback, j.Mode, j.Secret, j.LeaseSeconds, ms(now), ms(j.ExpiresAt), ms(now), ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: queue websub verification: %w", err)
	}
	return nil
}

// PushEvents takes up to limit events that may change feeds and not yet
// handled by the hub, and queues, for each, a content push to every live
// subscription of each topic that affected(event, topics) returns (topics
// are those with live subscriptions), and one ping per (hub, url) of
// publish. A subscription has at most one push queued: it carries the feed
// as it is when sent, so later changes ride along. It returns how many
// events it took and how many pushes it queued.
func (db *DB) PushEvents(ctx context.Context, now time.Time, limit int, ttl time.Duration,
	affected func(e Event, topics []string) (push []string, publish [][2]string)) (events, queued int, err error) {
	err = db.InTx(ctx, func(tx *Tx) error {
		events, queued = 0, 0
		evs, err := tx.takeEvents(ctx, "pushed_at", now, limit)
		if err != nil || len(evs) == 0 {
			return err
		}
		events = len(evs)
		topics, err := tx.liveTopics(ctx, now)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, e := range evs {
			push, publish := affected(e, topics)
			for _, t := range push {
				if seen[t] {
					continue
				}
				seen[t] = true
				res, err := tx.tx.ExecContext(ctx, `INSERT INTO websub_jobs (kind, subscription_id, topic, callback, state,
						next_attempt_at, expires_at, created_at, updated_at)
					SELECT 'content', id, topic, callback, 'queued', ?, ?, ?, ? FROM websub_subscriptions
					WHERE topic = ? AND expires_at > ?
					ON CONFLICT (subscription_id) WHERE kind = 'content' AND state = 'queued' DO NOTHING`,
					ms(now), ms(now.Add(ttl)), ms(now), ms(now), t, ms(now))
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				queued += int(n)
			}
			for _, p := range publish {
				if _, err := tx.tx.ExecContext(ctx, `INSERT INTO websub_jobs (kind, topic, callback, state, next_attempt_at,
					expires_at, created_at, updated_at) VALUES ('publish', ?, ?, 'queued', ?, ?, ?, ?)`,
					p[1], p[0], ms(now), ms(now.Add(ttl)), ms(now), ms(now)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: websub fan-out: %w", err)
	}
	return events, queued, nil
}

func (tx *Tx) liveTopics(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT DISTINCT topic FROM websub_subscriptions WHERE expires_at > ? ORDER BY topic`, ms(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ClaimWebSubJobs takes up to limit due jobs, each with a lease and one
// more attempt (see ClaimWebhookDeliveries).
func (db *DB) ClaimWebSubJobs(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]WebSubJob, error) {
	var out []WebSubJob
	err := db.InTx(ctx, func(tx *Tx) error {
		out = nil
		ids, err := tx.dueIDs(ctx, "websub_jobs", now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := []any{ms(now.Add(lease)), ms(now)}
		for _, id := range ids {
			args = append(args, id)
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE websub_jobs SET state = 'sending', lease_until = ?, attempts = attempts + 1,
			updated_at = ? WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		rows, err := tx.tx.QueryContext(ctx, `SELECT j.id, j.kind, COALESCE(j.subscription_id, 0), j.topic, j.callback, j.mode,
				CASE WHEN j.kind = 'content' THEN COALESCE(s.secret, '') ELSE j.secret END, j.lease_seconds, j.attempts,
				j.expires_at, s.expires_at
			FROM websub_jobs j LEFT JOIN websub_subscriptions s ON s.id = j.subscription_id
			WHERE j.id IN (`+placeholders(len(ids))+`) ORDER BY j.id`, args[2:]...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j WebSubJob
			var exp int64
			var subExp sql.NullInt64
			if err := rows.Scan(&j.ID, &j.Kind, &j.SubscriptionID, &j.Topic, &j.Callback, &j.Mode, &j.Secret, &j.LeaseSeconds,
				&j.Attempts, &exp, &subExp); err != nil {
				return err
			}
			j.ExpiresAt, j.LeaseEnds = fromMS(exp), fromNullMS(subExp)
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim websub jobs: %w", err)
	}
	return out, nil
}

// WebSubResult is the outcome of a job's attempt.
type WebSubResult struct {
	ID          int64
	State       string // done | queued (retry) | failed
	NextAttempt time.Time
	Error       string
	At          time.Time
	// Verified applies a verified intent with the job: subscribe makes or
	// renews the subscription until At + LeaseSeconds, unsubscribe deletes it.
	Verified *WebSubJob
	// Gone deletes the job's subscription (the subscriber answered 410).
	Gone bool
}

// FinishWebSubJob records a job's outcome (and what a verified intent
// changes) in one transaction.
func (db *DB) FinishWebSubJob(ctx context.Context, r WebSubResult) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		next := r.NextAttempt
		if next.IsZero() {
			next = r.At
		}
		res, err := tx.tx.ExecContext(ctx, `UPDATE websub_jobs SET state = ?, next_attempt_at = ?, lease_until = NULL, last_error = ?,
			updated_at = ? WHERE id = ? AND state = 'sending'`, r.State, ms(next), r.Error, ms(r.At), r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another worker took it up after our lease ran out
		}
		if v := r.Verified; v != nil {
			if v.Mode == "unsubscribe" {
				_, err = tx.tx.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE topic = ? AND callback = ?`, v.Topic, v.Callback)
				return err
			}
			until := r.At.Add(time.Duration(v.LeaseSeconds) * time.Second)
			_, err = tx.tx.ExecContext(ctx, `INSERT INTO websub_subscriptions (topic, callback, secret, lease_seconds, expires_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret, lease_seconds = excluded.lease_seconds,
					expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
				v.Topic, v.Callback, v.Secret, v.LeaseSeconds, ms(until), ms(r.At), ms(r.At))
			return err
		}
		if r.Gone {
			_, err = tx.tx.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE id = (SELECT subscription_id FROM websub_jobs WHERE id = ?)`, r.ID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish websub job %d: %w", r.ID, err)
	}
	return nil
}

// WebSubSubscription is a verified subscription.
type WebSubSubscription struct {
	ID           int64
	Topic        string
	Callback     string
	LeaseSeconds int
	ExpiresAt    time.Time
	UpdatedAt    time.Time
}

// WebSubSubscriptions lists the subscriptions, live or not, by topic.
func (db *DB) WebSubSubscriptions(ctx context.Context) ([]WebSubSubscription, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, topic, callback, lease_seconds, expires_at, updated_at FROM websub_subscriptions ORDER BY topic, id`)
	if err != nil {
		return nil, fmt.Errorf("store: websub subscriptions: %w", err)
	}
	defer rows.Close()
	var out []WebSubSubscription
	for rows.Next() {
		var s WebSubSubscription
		var exp, upd int64
		if err := rows.Scan(&s.ID, &s.Topic, &s.Callback, &s.LeaseSeconds, &exp, &upd); err != nil {
			return nil, fmt.Errorf("store: websub subscriptions: %w", err)
		}
		s.ExpiresAt, s.UpdatedAt = fromMS(exp), fromMS(upd)
		out = append(out, s)
	}
	return out, rows.Err()
}

// PruneWebSub deletes subscriptions whose lease ended before now (finished
// jobs go with the other finished records: Prune).
func (db *DB) PruneWebSub(ctx context.Context, now time.Time) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE expires_at <= ?`, ms(now)); err != nil {
		return fmt.Errorf("store: prune websub: %w", err)
	}
	return nil
}

// SeedWebSubSubscriptions inserts n live subscriptions to topic (the
// fan-out benchmark), callbacks callback?n=1..n.
func (db *DB) SeedWebSubSubscriptions(ctx context.Context, topic, callback string, n int, until time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error {
		for start := 0; start < n; start += 500 {
			end := min(start+500, n)
			q := `INSERT INTO websub_subscriptions (topic, callback, secret, lease_seconds, expires_at, created_at, updated_at) VALUES `
			var args []any
			for i := start; i < end; i++ {
				if i > start {
					q += ", "
				}
				q += "(?, ?, '', 864000, ?, ?, ?)"
				args = append(args, topic, fmt.Sprintf("%s?n=%d", callback, i+1), ms(until), ms(until), ms(until))
			}
			if _, err := tx.tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}
