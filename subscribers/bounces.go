package subscribers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/audit"
	"herald/mailer"
	"herald/store"
)

// DefaultSoftBounceLimit is how many soft bounces within SoftBounceWindow
// make a bounce (SPEC 8.3, HERALD_SOFT_BOUNCE_LIMIT).
const DefaultSoftBounceLimit = 5

// SoftBounceWindow is the period over which soft bounces are counted.
const SoftBounceWindow = 30 * 24 * time.Hour

// ErrUnknownRecipient means a bounce or complaint names no message of
// herald's and no subscriber it can find: nothing is recorded.
var ErrUnknownRecipient = errors.New("the report names no known message or subscriber")

// BounceReport is a bounce or complaint that arrived after the message was
// sent (SPEC 8.3), from the bounce mailbox or a provider's webhook. The
// message it is about is found by OutboxID (a verified VERP token), else
// by one of MessageIDs (herald's Message-IDs are checked against the
// row they name), else, only when ByRecipient is set (a provider's
// verified webhook), by the recipient's address.
type BounceReport struct {
	At         time.Time // when it happened; zero: now
	Kind       string    // store.BounceHard | BounceSoft | BounceComplaint
	Source     string    // store.BounceMailbox, BounceSES, ...
	OutboxID   int64
	MessageIDs []string
	Recipient  string
	// ByRecipient lets the recipient's address alone name the subscriber.
	ByRecipient bool
	// EventID is the provider's id of the event: what the event is
	// recorded under when the message itself is not known.
	EventID    string
	Diagnostic string
}

// BounceOutcome is what recording a report did.
type BounceOutcome struct {
	SubscriberID int64
	Duplicate    bool   // the same event was recorded before: nothing changed
	Status       string // the subscriber's status afterwards
	Changed      bool   // the report changed the subscriber's status
}

// RecordBounce records a bounce or complaint once and applies SPEC 8.3's
// policy in the same transaction: a hard bounce marks the subscriber
// bounced and cancels their queued mail; softLimit soft bounces within 30
// days do the same; a complaint unsubscribes them at once and puts the
// address on the suppression list, from which only a new double opt-in
// takes it off (Confirm). Reports whose subscriber cannot be found give
// ErrUnknownRecipient and change nothing.
func (s *Service) RecordBounce(ctx context.Context, r BounceReport, softLimit int) (BounceOutcome, error) {
	if softLimit <= 0 {
		softLimit = DefaultSoftBounceLimit
	}
	now := s.clock()
	at := r.At.UTC().Truncate(time.Millisecond)
	if at.IsZero() || at.After(now) {
		at = now
	}
	var out BounceOutcome
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		out = BounceOutcome{}
		subID, ref, msgID, err := resolveReport(ctx, tx, r)
		if err != nil {
			return err
		}
		if err := tx.LockSubscriber(ctx, subID); errors.Is(err, store.ErrNotFound) {
			return ErrUnknownRecipient
		} else if err != nil {
			return err
		}
		sub, err := tx.Subscriber(ctx, subID)
		if err != nil {
			return err
		}
		out.SubscriberID, out.Status = sub.ID, sub.Status
		b := store.Bounce{At: at, SubscriberID: sub.ID, Email: sub.Email, Kind: r.Kind, Source: r.Source,
			MessageID: msgID, Diagnostic: clip(r.Diagnostic, 1000)}
		fresh, err := tx.InsertBounce(ctx, &b, store.BounceKey(r.Kind, ref, sub.ID))
		if err != nil || !fresh {
			out.Duplicate = !fresh
			return err
		}
		out.Changed, err = s.applyBounce(ctx, tx, &sub, r.Kind, softLimit, now)
		out.Status = sub.Status
		return err
	})
	if err != nil {
		return BounceOutcome{}, err
	}
	switch {
	case out.Duplicate:
		s.log.Info("bounce already recorded", "subscriber_id", out.SubscriberID, "kind", r.Kind, "source", r.Source)
	case out.Changed:
		s.log.Info("subscriber "+out.Status+" after a "+r.Kind, "subscriber_id", out.SubscriberID, "source", r.Source)
		s.record(audit.WithActor(ctx, audit.System), "subscriber."+map[bool]string{true: "complaint", false: "bounce"}[r.Kind == store.BounceComplaint],
			out.SubscriberID, map[string]any{"kind": r.Kind, "source": r.Source})
	default:
		s.log.Info("bounce recorded", "subscriber_id", out.SubscriberID, "kind", r.Kind, "source", r.Source)
	}
	return out, nil
}

// resolveReport finds the subscriber a report is about and the ref its
// event is recorded under.
func resolveReport(ctx context.Context, tx *store.Tx, r BounceReport) (subID int64, ref, msgID string, err error) {
	if r.OutboxID != 0 {
		m, err := tx.OutboxMessageByID(ctx, r.OutboxID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.SubscriberID == 0) {
			return 0, "", "", ErrUnknownRecipient
		}
		if err != nil {
			return 0, "", "", err
		}
		return m.SubscriberID, store.OutboxRef(m.ID), mailerMessageID(r.MessageIDs, m), nil
	}
	for _, id := range r.MessageIDs {
		oid, ok := mailer.MessageOutboxID(id)
		if !ok {
			continue
		}
		m, err := tx.OutboxMessageByID(ctx, oid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, "", "", err
		}
		if m.SubscriberID != 0 && mailer.MessageIDMatches(id, m) {
			return m.SubscriberID, store.OutboxRef(m.ID), trimID(id), nil
		}
	}
	if !r.ByRecipient || r.Recipient == "" || r.EventID == "" {
		return 0, "", "", ErrUnknownRecipient
	}
	email, err := NormalizeAddress(r.Recipient)
	if err != nil {
		return 0, "", "", ErrUnknownRecipient
	}
	sub, err := tx.SubscriberByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return 0, "", "", ErrUnknownRecipient
	}
	if err != nil {
		return 0, "", "", err
	}
	msgID = ""
	if len(r.MessageIDs) > 0 {
		msgID = trimID(r.MessageIDs[0])
	}
	return sub.ID, r.Source + ":" + r.EventID, msgID, nil
}

// mailerMessageID is the Message-ID to keep with a report about row m: one
// of the report's that is m's, else none.
func mailerMessageID(ids []string, m store.OutboxMessage) string {
	for _, id := range ids {
		if mailer.MessageIDMatches(id, m) {
			return trimID(id)
		}
	}
	return ""
}

func trimID(id string) string {
	return clip(trimBrackets(id), 500)
}

func trimBrackets(s string) string {
	for len(s) > 0 && (s[0] == '<' || s[0] == ' ') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == '>' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}

// applyBounce changes the subscriber as SPEC 8.3 says for a newly recorded
// event of kind; it reports whether their status changed.
func (s *Service) applyBounce(ctx context.Context, tx *store.Tx, sub *store.Subscriber, kind string, softLimit int, now time.Time) (bool, error) {
	switch kind {
	case store.BounceSoft:
		n, err := tx.CountBounces(ctx, sub.ID, store.BounceSoft, now.Add(-SoftBounceWindow))
		if err != nil || n < softLimit {
			return false, err
		}
		fallthrough
	case store.BounceHard:
		if sub.Status == store.SubscriberBounced {
			return false, nil
		}
		sub.Status, sub.BouncedAt, sub.UpdatedAt = store.SubscriberBounced, now, now
		if _, err := tx.CancelQueued(ctx, now, sub.ID, "recipient bounced"); err != nil {
			return false, err
		}
		if err := recordEvent(ctx, tx, store.EventSubscriberBounced, sub, now); err != nil {
			return false, err
		}
		return true, tx.UpdateSubscriber(ctx, sub)
	case store.BounceComplaint:
		if err := tx.AddSuppression(ctx, HashAddress(sub.Email), "complaint", now); err != nil {
			return false, err
		}
		changed := sub.Status == store.SubscriberActive || sub.Status == store.SubscriberPending
		if changed {
			unsubscribe(sub, now)
			if _, err := tx.CancelQueued(ctx, now, sub.ID, "recipient complained"); err != nil {
				return false, err
			}
		}
		if err := recordEvent(ctx, tx, store.EventSubscriberComplained, sub, now); err != nil {
			return false, err
		}
		if !changed {
			return false, nil
		}
		return true, tx.UpdateSubscriber(ctx, sub)
	}
	return false, fmt.Errorf("subscribers: unknown bounce kind %q", kind)
}
