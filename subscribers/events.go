package subscribers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"herald/store"
)

// EventSubscriber is the "data.subscriber" of subscriber events (SPEC 9.3).
type EventSubscriber struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Status   string   `json:"status"`
	Language string   `json:"language"`
	Cadence  string   `json:"cadence"`
	Topics   []string `json:"topics"`
	Regions  []string `json:"regions"`
}

// recordEvent records a subscriber event in the transaction of the change.
func recordEvent(ctx context.Context, tx *store.Tx, typ string, sub *store.Subscriber, now time.Time) error {
	ev, err := subscriberEvent(typ, sub, now)
	if err != nil {
		return err
	}
	return tx.RecordEvent(ctx, ev)
}

func subscriberEvent(typ string, sub *store.Subscriber, now time.Time) (store.EventInput, error) {
	es := EventSubscriber{ID: strconv.FormatInt(sub.ID, 10), Email: sub.Email, Status: sub.Status,
		Language: sub.Language, Cadence: sub.Cadence, Topics: sub.Topics, Regions: sub.Regions}
	if es.Topics == nil {
		es.Topics = []string{}
	}
	if es.Regions == nil {
		es.Regions = []string{}
	}
	b, err := json.Marshal(map[string]EventSubscriber{"subscriber": es})
	if err != nil {
		return store.EventInput{}, fmt.Errorf("subscribers: event: %w", err)
	}
	return store.EventInput{Type: typ, Data: b, At: now}, nil
}

// statusEvent is the event a status change made by staff or an import
// records, the same one the subscriber's own action would: becoming active
// is subscriber.confirmed (as POST /confirm), unsubscribed is
// subscriber.unsubscribed, bounced is subscriber.bounced. Becoming pending
// records nothing (nothing is delivered to them yet). "" when the status
// did not change.
func statusEvent(before, after string) string {
	if before == after {
		return ""
	}
	switch after {
	case store.SubscriberActive:
		return store.EventSubscriberConfirmed
	case store.SubscriberUnsubscribed:
		return store.EventSubscriberUnsubscribe
	case store.SubscriberBounced:
		return store.EventSubscriberBounced
	}
	return ""
}

// recordErased records the erasure of subscriber id as
// subscriber.unsubscribed: they get nothing more, which is what receivers
// act on. The event carries no personal data (the point of erasing): only
// the id, status "erased" and erased true, so that a CRM can erase its copy.
func recordErased(ctx context.Context, tx *store.Tx, id int64, now time.Time) error {
	b, err := json.Marshal(map[string]any{"subscriber": map[string]any{"id": strconv.FormatInt(id, 10), "status": "erased", "erased": true}})
	if err != nil {
		return fmt.Errorf("subscribers: event: %w", err)
	}
	return tx.RecordEvent(ctx, store.EventInput{Type: store.EventSubscriberUnsubscribe, Data: b, At: now})
}
