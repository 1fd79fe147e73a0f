package subscribers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"herald/audit"
	"herald/mailer"
	"herald/store"
)

// Statuses lists the subscriber statuses.
var Statuses = []string{store.SubscriberPending, store.SubscriberActive, store.SubscriberUnsubscribed, store.SubscriberBounced}

func validStatus(s string) bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

// ListQuery filters List. Topics and Regions select the subscribers who
// would receive a release with any of them (so subscribers to all topics or
// all regions are included, and a region filter includes subscribers to its
// parent region).
type ListQuery struct {
	Status  string
	Topics  []string
	Regions []string
	Cursor  string
	Limit   int // 1-200, default 50
}

// Page is one page of a subscriber list, newest first.
type Page struct {
	Items      []store.Subscriber
	NextCursor string // "" on the last page
}

// List lists subscribers for staff.
func (s *Service) List(ctx context.Context, q ListQuery) (Page, error) {
	f := store.SubscriberFilter{Status: strings.TrimSpace(q.Status), Limit: q.Limit}
	if f.Status != "" && !validStatus(f.Status) {
		return Page{}, invalid("status", "must be pending, active, unsubscribed or bounced")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 200 {
		return Page{}, invalid("limit", "must be from 1 to 200")
	}
	v, err := s.validator(ctx)
	if err != nil {
		return Page{}, err
	}
	if f.Topics, err = checkTerms("topic", q.Topics, v.tax.Topic); err != nil {
		return Page{}, err
	}
	regions, err := checkTerms("region", q.Regions, v.tax.Region)
	if err != nil {
		return Page{}, err
	}
	for _, r := range regions {
		for ; r != ""; r = parentOf(v, r) {
			f.Regions = append(f.Regions, r)
		}
	}
	if q.Cursor != "" {
		if f.Before, err = decodeCursor(q.Cursor); err != nil {
			return Page{}, err
		}
	}
	limit := f.Limit
	f.Limit++
	items, err := s.db.SubscriberList(ctx, f)
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.Items[limit-1].ID, 10)))
	}
	return p, nil
}

func parentOf(v *validator, region string) string {
	t, _ := v.tax.Region(region)
	return t.Parent
}

func decodeCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	id, err2 := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || err2 != nil || id <= 0 {
		return 0, invalid("cursor", "is malformed; pass next_cursor from a previous page")
	}
	return id, nil
}

// AddRequest is a subscriber added by staff. Confirmed skips double opt-in
// for consent obtained elsewhere (SPEC 3); otherwise the subscriber is
// pending and gets a confirmation mail.
type AddRequest struct {
	Email     string
	Prefs     PrefsInput
	Confirmed bool
	Consent   Consent // who added them: the staff client's IP, page "api"
}

// Add adds a subscriber: ErrConflict (naming the field email) when the
// address exists, or was erased and is on the suppression list.
func (s *Service) Add(ctx context.Context, req AddRequest) (store.Subscriber, error) {
	email, err := NormalizeAddress(req.Email)
	if err != nil {
		return store.Subscriber{}, err
	}
	v, err := s.validator(ctx)
	if err != nil {
		return store.Subscriber{}, err
	}
	patch, err := v.patch(req.Prefs)
	if err != nil {
		return store.Subscriber{}, err
	}
	now := s.clock()
	sub := store.Subscriber{Email: email, Status: store.SubscriberPending, CreatedAt: now, UpdatedAt: now}
	patch.apply(v.defaults()).applyTo(&sub)
	setConsent(&sub, req.Consent, now)
	if req.Confirmed {
		activate(&sub, now)
	}
	base := sub // the closure may run twice (a retried transaction): it starts from base each time
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		sub = base
		suppressed, err := tx.SuppressionExists(ctx, suppressionHashes(req.Email, email)...)
		if err != nil {
			return err
		}
		if suppressed {
			return &conflictError{field: "email", msg: "this address was erased and is on the suppression list"}
		}
		if err := tx.InsertSubscriber(ctx, &sub); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &conflictError{field: "email", msg: "a subscriber with this address exists"}
			}
			return err
		}
		if req.Confirmed {
			// Consent vouched for by staff: the same event as a confirmation.
			return recordEvent(ctx, tx, store.EventSubscriberConfirmed, &sub, now)
		}
		if _, err := s.notify(ctx, tx, &sub, mailer.KindConfirm, v.tax, now); err != nil {
			return err
		}
		return tx.UpdateSubscriber(ctx, &sub)
	})
	if err != nil {
		return store.Subscriber{}, err
	}
	s.log.Info("subscriber added", "subscriber_id", sub.ID, "status", sub.Status)
	s.record(ctx, "subscriber.create", sub.ID, map[string]any{"status": sub.Status})
	return sub, nil
}

// PatchRequest is a partial update by staff. Status may become unsubscribed
// or bounced from any status, and active from pending (staff vouch for the
// consent) or bounced (a bounce that was a mistake); an unsubscribed
// subscriber can only come back by subscribing again themselves.
type PatchRequest struct {
	Prefs   PrefsInput
	Status  *string
	Email   *string // refused: an address is changed by adding a new subscriber
	Consent Consent
}

// Patch applies a partial update to subscriber id.
func (s *Service) Patch(ctx context.Context, id int64, req PatchRequest) (store.Subscriber, error) {
	if req.Email != nil {
		return store.Subscriber{}, invalid("email", "cannot be changed; add the new address as a new subscriber")
	}
	v, err := s.validator(ctx)
	if err != nil {
		return store.Subscriber{}, err
	}
	patch, err := v.patch(req.Prefs)
	if err != nil {
		return store.Subscriber{}, err
	}
	now := s.clock()
	var sub store.Subscriber
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if sub, err = tx.Subscriber(ctx, id); err != nil {
			return err
		}
		before := sub
		patch.apply(PrefsOf(&sub)).applyTo(&sub)
		if req.Status != nil {
			if err := changeStatus(&sub, strings.TrimSpace(*req.Status), req.Consent, now); err != nil {
				return err
			}
		}
		if sub.Status != before.Status && sub.Status != store.SubscriberActive {
			if _, err := tx.CancelQueued(ctx, now, id, "subscriber "+sub.Status); err != nil {
				return err
			}
		}
		if sub.Status == before.Status && PrefsOf(&sub).equal(PrefsOf(&before)) {
			return nil
		}
		sub.UpdatedAt = now
		if err := tx.UpdateSubscriber(ctx, &sub); err != nil {
			return err
		}
		if ev := statusEvent(before.Status, sub.Status); ev != "" {
			return recordEvent(ctx, tx, ev, &sub, now)
		}
		return nil
	})
	if err != nil {
		return store.Subscriber{}, err
	}
	s.log.Info("subscriber patched", "subscriber_id", id, "status", sub.Status)
	s.record(ctx, "subscriber.update", id, map[string]any{"status": sub.Status})
	return sub, nil
}

// changeStatus applies a staff status change (see PatchRequest).
func changeStatus(sub *store.Subscriber, to string, c Consent, now time.Time) error {
	if !validStatus(to) {
		return invalid("status", "must be pending, active, unsubscribed or bounced")
	}
	if to == sub.Status {
		return nil
	}
	switch to {
	case store.SubscriberUnsubscribed:
		unsubscribe(sub, now)
	case store.SubscriberBounced:
		sub.Status, sub.BouncedAt = store.SubscriberBounced, now
	case store.SubscriberActive:
		if sub.Status == store.SubscriberUnsubscribed {
			return invalid("status", "an unsubscribed subscriber can only come back by subscribing again")
		}
		if sub.Status == store.SubscriberPending {
			setConsent(sub, c, now)
		}
		activate(sub, now)
	default:
		return invalid("status", "cannot go back to pending; the subscriber can subscribe again themselves")
	}
	return nil
}

// Erase erases subscriber id (SPEC 3, DELETE): their row and personal data
// are deleted, their queued mail is cancelled, and only a SHA-256 of the
// address stays, on the suppression list that Subscribe, Add and Import
// respect.
func (s *Service) Erase(ctx context.Context, id int64) error {
	now := s.clock()
	var cancelled int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.Subscriber(ctx, id)
		if err != nil {
			return err
		}
		if cancelled, err = tx.CancelQueued(ctx, now, id, "subscriber erased"); err != nil {
			return err
		}
		if err := tx.DeleteSubscriber(ctx, id); err != nil {
			return err
		}
		if err := recordErased(ctx, tx, id, now); err != nil {
			return err
		}
		return tx.AddSuppression(ctx, HashAddress(sub.Email), "erased", now)
	})
	if err != nil {
		return fmt.Errorf("subscribers: erase %d: %w", id, err)
	}
	s.log.Info("subscriber erased", "subscriber_id", id, "cancelled_mail", cancelled)
	s.record(ctx, "subscriber.erase", id, map[string]any{"cancelled_mail": cancelled})
	return nil
}

// record writes an audit entry about subscriber id (never their address).
func (s *Service) record(ctx context.Context, action string, id int64, details map[string]any) {
	target := "subscribers"
	if id != 0 {
		target = "subscriber:" + strconv.FormatInt(id, 10)
	}
	s.audit.Record(ctx, audit.Entry{Action: action, Target: target, Details: details})
}

// Counts returns how many subscribers have each status (every status is
// present, 0 when none).
func (s *Service) Counts(ctx context.Context) (map[string]int, error) {
	c, err := s.db.CountSubscribers(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range Statuses {
		c[st] += 0
	}
	return c, nil
}
