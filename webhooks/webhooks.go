// Package webhooks owns herald's outgoing webhooks (SPEC 9.3, Standard
// Webhooks): the receivers staff register, the fan-out of recorded events
// into one delivery per receiver, and the delivery worker that signs and
// posts them, retrying with backoff for 24 h through a durable queue in the
// database. It imports store, releases (for its validation error type) and
// internal/outbound; it never imports net/http's server side.
package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"herald/audit"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
)

// Options configure a Service.
type Options struct {
	BaseURL string // herald's own URL: a webhook may not point at it
	Logger  *slog.Logger
	// Audit records every change made to webhooks (SPEC 7.3, webhook.*);
	// nil records nothing.
	Audit *audit.Recorder
	// Timeout bounds one post (default 15 s): a receiver that hangs is cut
	// off and tried again later.
	Timeout time.Duration
	// Retry lists the delays after each failed attempt (the last one
	// repeats); default 5s, 5m, 30m, 2h, 5h, 10h. No attempt is made more
	// than TTL after the event.
	Retry []time.Duration
	TTL   time.Duration // default 24 h
	// Poll is how often the worker looks for events and due deliveries
	// (default 1 s).
	Poll time.Duration
	// Concurrency is how many posts run at once (default 8).
	Concurrency int
	Now         func() time.Time
}

// Defaults.
var defaultRetry = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

const (
	defaultTTL     = 24 * time.Hour
	defaultTimeout = 15 * time.Second
	maxURL         = 2000
)

// Service manages webhooks and delivers their events.
type Service struct {
	db     *store.DB
	client *outbound.Client
	opts   Options
	log    *slog.Logger
}

// New returns the webhook service.
func New(db *store.DB, client *outbound.Client, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if len(opts.Retry) == 0 {
		opts.Retry = defaultRetry
	}
	if opts.TTL <= 0 {
		opts.TTL = defaultTTL
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, client: client, opts: opts, log: opts.Logger}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// Input is a webhook to create or the fields of one to change (nil: keep).
type Input struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
	Active      *bool     `json:"active"`
}

// Document is a webhook as the API shows it; Secret only when created.
type Document struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Active      bool     `json:"active"`
	Secret      string   `json:"secret,omitempty"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

// NewDocument is the JSON view of w, without its secret.
func NewDocument(w store.Webhook) Document {
	return Document{ID: strconv.FormatInt(w.ID, 10), URL: w.URL, Events: w.Events, Description: w.Description,
		Active: w.Active, CreatedAt: releases.FormatTime(w.CreatedAt), UpdatedAt: releases.FormatTime(w.UpdatedAt)}
}

func invalid(field, format string, args ...any) error {
	return &releases.ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// apply validates in onto w.
func (s *Service) apply(w *store.Webhook, in Input) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		switch {
		case u == "":
			return invalid("url", "is required")
		case len(u) > maxURL || !utf8.ValidString(u) || strings.ContainsFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return invalid("url", "must be an http or https URL of at most %d characters", maxURL)
		case outbound.CheckURL(u) != nil:
			return invalid("url", "must be an absolute http or https URL without user name or password")
		case s.opts.BaseURL != "" && outbound.IsSelf(u, s.opts.BaseURL):
			return invalid("url", "must not point at herald itself")
		}
		w.URL = u
	}
	if in.Events != nil {
		var evs []string
		for _, e := range *in.Events {
			e = strings.TrimSpace(e)
			if !slices.Contains(store.EventTypes, e) {
				return invalid("events", "unknown event %q (known: %s)", releases.Clip(e, 40), strings.Join(store.EventTypes, ", "))
			}
			if !slices.Contains(evs, e) {
				evs = append(evs, e)
			}
		}
		if len(evs) == 0 {
			return invalid("events", "must name at least one event")
		}
		w.Events = evs
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > 300 || !utf8.ValidString(d) {
			return invalid("description", "must be valid text of at most 300 characters")
		}
		w.Description = d
	}
	if in.Active != nil {
		w.Active = *in.Active
	}
	return nil
}

// Create registers a webhook and returns it with its secret, shown once.
func (s *Service) Create(ctx context.Context, in Input) (Document, error) {
	if in.URL == nil {
		return Document{}, invalid("url", "is required")
	}
	if in.Events == nil {
		return Document{}, invalid("events", "is required")
	}
	now := s.now()
	w := store.Webhook{Secret: NewSecret(), Active: true, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(&w, in); err != nil {
		return Document{}, err
	}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertWebhook(ctx, &w) }); err != nil {
		return Document{}, err
	}
	s.log.Info("webhook created", "webhook_id", w.ID)
	s.record(ctx, "webhook.create", w)
	d := NewDocument(w)
	d.Secret = w.Secret
	return d, nil
}

// Get reads a webhook.
func (s *Service) Get(ctx context.Context, id int64) (store.Webhook, error) {
	return s.db.Webhook(ctx, id)
}

// List lists every webhook.
func (s *Service) List(ctx context.Context) ([]store.Webhook, error) { return s.db.Webhooks(ctx) }

// Update changes a webhook.
func (s *Service) Update(ctx context.Context, id int64, in Input) (store.Webhook, error) {
	var w store.Webhook
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if w, err = tx.Webhook(ctx, id); err != nil {
			return err
		}
		if err := s.apply(&w, in); err != nil {
			return err
		}
		w.UpdatedAt = s.now()
		return tx.UpdateWebhook(ctx, &w)
	})
	if err == nil {
		s.log.Info("webhook updated", "webhook_id", id)
		s.record(ctx, "webhook.update", w)
	}
	return w, err
}

// Delete removes a webhook and its deliveries.
func (s *Service) Delete(ctx context.Context, id int64) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteWebhook(ctx, id) })
	if err == nil {
		s.log.Info("webhook deleted", "webhook_id", id)
		s.record(ctx, "webhook.delete", store.Webhook{ID: id})
	}
	return err
}

// record writes an audit entry about webhook w (never its secret).
func (s *Service) record(ctx context.Context, action string, w store.Webhook) {
	d := map[string]any{}
	if w.URL != "" {
		d = map[string]any{"url": w.URL, "events": w.Events, "active": w.Active}
	}
	s.opts.Audit.Record(ctx, audit.Entry{Action: action, Target: "webhook:" + strconv.FormatInt(w.ID, 10), Details: d})
}

// DeliveryDocument is a delivery as the API shows it, with every attempt.
type DeliveryDocument struct {
	ID          string            `json:"id"`
	MsgID       string            `json:"msg_id"`
	Type        string            `json:"type"`
	State       string            `json:"state"`
	Attempts    []AttemptDocument `json:"attempts"`
	NextAttempt *string           `json:"next_attempt_at"`
	LastStatus  int               `json:"last_status"`
	LastError   string            `json:"last_error"`
	CreatedAt   string            `json:"created_at"`
	DeliveredAt *string           `json:"delivered_at"`
	Payload     json.RawMessage   `json:"payload"`
}

// AttemptDocument is one post.
type AttemptDocument struct {
	At         string `json:"at"`
	Status     int    `json:"status"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
}

// DeliveryPage is one page of deliveries.
type DeliveryPage struct {
	Items      []DeliveryDocument `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

// Deliveries lists a webhook's deliveries, newest first; cursor is the
// next_cursor of the previous page.
func (s *Service) Deliveries(ctx context.Context, id int64, cursor string, limit int) (DeliveryPage, error) {
	if _, err := s.db.Webhook(ctx, id); err != nil {
		return DeliveryPage{}, err
	}
	var before int64
	if cursor != "" {
		var err error
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before <= 0 {
			return DeliveryPage{}, invalid("cursor", "is not a cursor of this list")
		}
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	ds, err := s.db.WebhookDeliveries(ctx, id, before, limit+1)
	if err != nil {
		return DeliveryPage{}, err
	}
	page := DeliveryPage{Items: []DeliveryDocument{}}
	if len(ds) > limit {
		ds = ds[:limit]
		page.NextCursor = strconv.FormatInt(ds[limit-1].ID, 10)
	}
	for _, d := range ds {
		doc := DeliveryDocument{ID: strconv.FormatInt(d.ID, 10), MsgID: d.MsgID, Type: d.Type, State: d.State,
			Attempts: []AttemptDocument{}, LastStatus: d.LastStatus, LastError: d.LastError,
			CreatedAt: releases.FormatTime(d.CreatedAt), Payload: json.RawMessage(d.Body)}
		for _, a := range d.AttemptLog {
			doc.Attempts = append(doc.Attempts, AttemptDocument{At: releases.FormatTime(a.At), Status: a.Status,
				Error: a.Error, DurationMS: a.Duration.Milliseconds()})
		}
		if d.State == store.DeliveryQueued {
			t := releases.FormatTime(d.NextAttempt)
			doc.NextAttempt = &t
		}
		if !d.DeliveredAt.IsZero() {
			t := releases.FormatTime(d.DeliveredAt)
			doc.DeliveredAt = &t
		}
		page.Items = append(page.Items, doc)
	}
	return page, nil
}
