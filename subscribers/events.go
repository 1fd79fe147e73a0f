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
		return fmt.Errorf("subscribers: event: %w", err)
	}
	return tx.RecordEvent(ctx, store.EventInput{Type: typ, Data: b, At: now})
}
