package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"herald/internal/outbound"
	"herald/store"
)

// batch bounds the events fanned out and deliveries claimed per round.
const batch = 100

// Run fans events out and posts deliveries until ctx ends. It runs on the
// leader (cmd/herald/serve.go registers it), but the queue itself is safe to
// share: rows are claimed with a lease, with SKIP LOCKED on PostgreSQL.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("webhook round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce fans out the events recorded since the last round and posts
// every delivery that is due, waiting for them; it returns how many posts
// it made.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	for {
		n, err := s.db.HookEvents(ctx, s.now(), batch, s.opts.TTL, Body)
		if err != nil {
			return 0, err
		}
		if n < batch {
			break
		}
	}
	// A claimed row stays ours for two timeouts and a margin: no other
	// worker takes it up while its post may still be under way, so a
	// delivered event is never posted again.
	lease := 2*s.opts.Timeout + 30*time.Second
	total := 0
	for ctx.Err() == nil {
		ds, err := s.db.ClaimWebhookDeliveries(ctx, s.now(), batch, lease)
		if err != nil {
			return total, err
		}
		if len(ds) == 0 {
			return total, nil
		}
		sem := make(chan struct{}, s.opts.Concurrency)
		var wg sync.WaitGroup
		for _, d := range ds {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				s.deliver(ctx, d)
			})
		}
		wg.Wait()
		total += len(ds)
	}
	return total, nil
}

// Body is the JSON body of an event's messages: {"type","timestamp","data"}.
func Body(e store.Event) string {
	b, _ := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{e.Type, e.CreatedAt.UTC().Format(time.RFC3339Nano), json.RawMessage(e.Data)})
	return string(b)
}

// deliver posts one delivery and records the attempt.
func (s *Service) deliver(ctx context.Context, d store.WebhookDelivery) {
	start := s.opts.Now()
	status, err := s.post(ctx, d, start)
	res := store.WebhookResult{ID: d.ID, Status: status, At: s.now(), Duration: s.opts.Now().Sub(start)}
	switch {
	case err == nil:
		res.State = store.DeliveryDelivered
	default:
		res.Error = err.Error()
		res.State, res.NextAttempt = s.retry(d, res.At)
	}
	if res.State == store.DeliveryFailed {
		s.log.Warn("webhook delivery failed for good", "webhook_id", d.WebhookID, "delivery_id", d.ID, "attempts", d.Attempts, "err", res.Error)
	} else if res.State == store.DeliveryQueued {
		s.log.Warn("webhook delivery will be retried", "webhook_id", d.WebhookID, "delivery_id", d.ID, "attempts", d.Attempts, "err", res.Error)
	}
	// Record even when shutting down: the post happened.
	if err := s.db.FinishWebhookAttempt(context.WithoutCancel(ctx), res); err != nil {
		s.log.Error("recording a webhook attempt failed", "delivery_id", d.ID, "err", err)
	}
}

// retry decides what follows a failed attempt: queued again after the
// attempt's delay (the last try falls at the expiry, so that a receiver is
// tried for the whole TTL), or failed once the TTL has passed.
func (s *Service) retry(d store.WebhookDelivery, now time.Time) (string, time.Time) {
	if !now.Before(d.ExpiresAt) {
		return store.DeliveryFailed, time.Time{}
	}
	i := min(d.Attempts-1, len(s.opts.Retry)-1)
	next := now.Add(s.opts.Retry[max(i, 0)])
	if next.After(d.ExpiresAt) {
		next = d.ExpiresAt
	}
	return store.DeliveryQueued, next
}

func (s *Service) post(ctx context.Context, d store.WebhookDelivery, at time.Time) (int, error) {
	sig, err := Sign(d.Secret, d.MsgID, at, []byte(d.Body))
	if err != nil {
		return 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := outbound.NewRequest(rctx, http.MethodPost, d.URL, bytes.NewReader([]byte(d.Body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, d.MsgID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(at.Unix()))
	req.Header.Set(HeaderSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		if rctx.Err() == context.DeadlineExceeded {
			return 0, fmt.Errorf("no answer within %v", s.opts.Timeout)
		}
		return 0, err
	}
	outbound.DrainClose(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
