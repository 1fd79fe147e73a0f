package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webhook is a receiver of outgoing webhooks (SPEC 9.3).
type Webhook struct {
	ID          int64
	URL         string
	Events      []string
	Secret      string // whsec_<base64>
	Description string
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Webhook delivery states.
const (
	DeliveryQueued    = "queued"
	DeliverySending   = "sending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

func joinEvents(evs []string) string { return "," + strings.Join(evs, ",") + "," }

func splitEvents(s string) []string {
	out := []string{}
	for _, e := range strings.Split(strings.Trim(s, ","), ",") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

const webhookColumns = `id, url, events, secret, description, active, created_at, updated_at`

func scanWebhook(sc interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var evs string
	var active int64
	var created, updated int64
	err := sc.Scan(&w.ID, &w.URL, &evs, &w.Secret, &w.Description, &active, &created, &updated)
	w.Events, w.Active, w.CreatedAt, w.UpdatedAt = splitEvents(evs), active == 1, fromMS(created), fromMS(updated)
	return w, err
}

// InsertWebhook stores w and sets its id.
func (tx *Tx) InsertWebhook(ctx context.Context, w *Webhook) error {
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO webhooks (url, events, secret, description, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		w.URL, joinEvents(w.Events), w.Secret, w.Description, w.Active, ms(w.CreatedAt), ms(w.UpdatedAt)).Scan(&w.ID)
	if err != nil {
		return fmt.Errorf("store: insert webhook: %w", err)
	}
	return nil
}

// Webhook reads a webhook inside a transaction, locked for an update.
func (tx *Tx) Webhook(ctx context.Context, id int64) (Webhook, error) {
	w, err := scanWebhook(tx.tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`+tx.e.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	return w, err
}

// UpdateWebhook writes w's url, events, description and active flag.
func (tx *Tx) UpdateWebhook(ctx context.Context, w *Webhook) error {
	_, err := tx.tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, events = ?, description = ?, active = ?, updated_at = ? WHERE id = ?`,
		w.URL, joinEvents(w.Events), w.Description, w.Active, ms(w.UpdatedAt), w.ID)
	if err != nil {
		return fmt.Errorf("store: update webhook %d: %w", w.ID, err)
	}
	return nil
}

// DeleteWebhook deletes a webhook with its deliveries.
func (tx *Tx) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete webhook %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Webhook reads one webhook.
func (db *DB) Webhook(ctx context.Context, id int64) (Webhook, error) {
	w, err := scanWebhook(db.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	if err != nil {
		return w, fmt.Errorf("store: webhook %d: %w", id, err)
	}
	return w, nil
}

// Webhooks lists every webhook, oldest first.
func (db *DB) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("store: webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// HookEvents fans out up to limit events not yet handed to webhooks: each
// becomes one delivery per active webhook that takes its type and existed
// when it happened, with the body body(event) and expiring after ttl. It
// returns how many events it took.
func (db *DB) HookEvents(ctx context.Context, now time.Time, limit int, ttl time.Duration, body func(Event) string) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *Tx) error {
		evs, err := tx.takeEvents(ctx, "hooked_at", now, limit)
		n = len(evs)
		if err != nil {
			return err
		}
		for _, e := range evs {
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, msg_id, type, body, state,
					next_attempt_at, expires_at, created_at, updated_at)
				SELECT id, ?, ?, ?, ?, 'queued', ?, ?, ?, ? FROM webhooks
				WHERE active = 1 AND created_at <= ? AND events LIKE ?
				ON CONFLICT (webhook_id, event_id) DO NOTHING`,
				e.ID, "msg_"+e.UID, e.Type, body(e), ms(now), ms(now.Add(ttl)), ms(now), ms(now),
				ms(e.CreatedAt), "%,"+e.Type+",%")
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: hook events: %w", err)
	}
	return n, nil
}

// WebhookDelivery is one event for one webhook.
type WebhookDelivery struct {
	ID          int64
	WebhookID   int64
	EventID     int64
	MsgID       string
	Type        string
	Body        string
	State       string
	Attempts    int
	NextAttempt time.Time
	ExpiresAt   time.Time
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
	// URL and Secret are the webhook's, for a claimed delivery.
	URL    string
	Secret string
	// AttemptLog lists the attempts, for GET .../deliveries.
	AttemptLog []WebhookAttempt
}

// WebhookAttempt is one post of a delivery.
type WebhookAttempt struct {
	At       time.Time
	Status   int
	Error    string
	Duration time.Duration
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, d.msg_id, d.type, d.body, d.state, d.attempts, d.next_attempt_at,
	d.expires_at, d.last_status, d.last_error, d.created_at, d.delivered_at`

func scanDelivery(sc interface{ Scan(...any) error }, extra ...any) (WebhookDelivery, error) {
	var d WebhookDelivery
	var next, exp, created int64
	var delivered sql.NullInt64
	dst := []any{&d.ID, &d.WebhookID, &d.EventID, &d.MsgID, &d.Type, &d.Body, &d.State, &d.Attempts, &next,
		&exp, &d.LastStatus, &d.LastError, &created, &delivered}
	err := sc.Scan(append(dst, extra...)...)
	d.NextAttempt, d.ExpiresAt, d.CreatedAt, d.DeliveredAt = fromMS(next), fromMS(exp), fromMS(created), fromNullMS(delivered)
	return d, err
}

// ClaimWebhookDeliveries takes up to limit deliveries that are due (queued
// and their time has come, or left sending by a process whose lease ran
// out): each becomes sending with a lease and one more attempt.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := db.InTx(ctx, func(tx *Tx) error {
		out = nil
		ids, err := tx.dueIDs(ctx, "webhook_deliveries", now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := []any{ms(now.Add(lease)), ms(now)}
		for _, id := range ids {
			args = append(args, id)
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'sending', lease_until = ?, attempts = attempts + 1,
			updated_at = ? WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		rows, err := tx.tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, w.url, w.secret FROM webhook_deliveries d
			JOIN webhooks w ON w.id = d.webhook_id WHERE d.id IN (`+placeholders(len(ids))+`) ORDER BY d.id`, args[2:]...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var url, secret string
			d, err := scanDelivery(rows, &url, &secret)
			if err != nil {
				return err
			}
			d.URL, d.Secret = url, secret
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim webhook deliveries: %w", err)
	}
	return out, nil
}

// dueIDs picks up to limit rows of a queue table (webhook_deliveries,
// websub_jobs) that are due: queued whose time has come, or sending whose
// lease lapsed. On PostgreSQL rows another instance is claiming are passed
// over.
func (tx *Tx) dueIDs(ctx context.Context, table string, now time.Time, limit int) ([]int64, error) {
	return scanIDs(tx.tx.QueryContext(ctx, `SELECT id FROM `+table+`
		WHERE (state = 'queued' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until < ?)
		ORDER BY next_attempt_at, id LIMIT ?`+tx.e.skipLocked, ms(now), ms(now), limit))
}

// WebhookResult is the outcome of one attempt.
type WebhookResult struct {
	ID          int64
	State       string    // delivered | queued (retry) | failed
	NextAttempt time.Time // for queued
	Status      int       // HTTP status; 0 when none came
	Error       string
	At          time.Time
	Duration    time.Duration
}

// FinishWebhookAttempt records an attempt and the delivery's new state. A
// delivery is marked only while it is still sending: one that was
// delivered stays delivered.
func (db *DB) FinishWebhookAttempt(ctx context.Context, r WebhookResult) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?)`,
			r.ID, ms(r.At), r.Status, r.Error, r.Duration.Milliseconds()); err != nil {
			return err
		}
		var delivered any
		if r.State == DeliveryDelivered {
			delivered = ms(r.At)
		}
		next := r.NextAttempt
		if next.IsZero() {
			next = r.At
		}
		_, err := tx.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, lease_until = NULL,
			last_status = ?, last_error = ?, updated_at = ?, delivered_at = ? WHERE id = ? AND state = 'sending'`,
			r.State, ms(next), r.Status, r.Error, ms(r.At), delivered, r.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish webhook attempt %d: %w", r.ID, err)
	}
	return nil
}

// WebhookDeliveries lists a webhook's deliveries, newest first, with their
// attempts: at most limit, with ids below before (0: from the newest).
func (db *DB) WebhookDeliveries(ctx context.Context, webhookID int64, before int64, limit int) ([]WebhookDelivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries d WHERE d.webhook_id = ?`
	args := []any{webhookID}
	if before > 0 {
		q += ` AND d.id < ?`
		args = append(args, before)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY d.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	out := []WebhookDelivery{}
	at := map[int64]int{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: webhook deliveries: %w", err)
		}
		d.AttemptLog = []WebhookAttempt{}
		at[d.ID] = len(out)
		out = append(out, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	for _, d := range out {
		ids = append(ids, d.ID)
	}
	arows, err := db.read.QueryContext(ctx, `SELECT delivery_id, at, status, error, duration_ms FROM webhook_attempts
		WHERE delivery_id IN (`+placeholders(len(ids))+`) ORDER BY id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var id, when, dur int64
		var a WebhookAttempt
		if err := arows.Scan(&id, &when, &a.Status, &a.Error, &dur); err != nil {
			return nil, fmt.Errorf("store: webhook attempts: %w", err)
		}
		a.At, a.Duration = fromMS(when), time.Duration(dur)*time.Millisecond
		i := at[id]
		out[i].AttemptLog = append(out[i].AttemptLog, a)
	}
	return out, arows.Err()
}
