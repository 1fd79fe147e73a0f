package releases

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"herald/store"
)

// EventData is the "data" of release.published, release.updated and
// release.deleted events (SPEC 9.3): the release as the API shows it, and
// for an update what it was before (the WebSub hub pushes the feeds the
// release left as well as those it joined).
type EventData struct {
	Release  Document       `json:"release"`
	Previous *EventPrevious `json:"previous,omitempty"`
}

// EventPrevious is what a release was before an update: the fields that
// decide which feeds list it.
type EventPrevious struct {
	Topics   []string `json:"topics"`
	Regions  []string `json:"regions"`
	Language string   `json:"language"`
	Live     bool     `json:"live"`
}

// recordEvent records a release event in tx, the transaction of the change.
func (s *Service) recordEvent(ctx context.Context, tx *store.Tx, typ string, r store.Release, prev *store.Release, now time.Time) error {
	d := EventData{Release: NewDocument(r, s.baseURL, now)}
	if typ == store.EventReleaseDeleted {
		d.Release.Live = false
	}
	if prev != nil {
		d.Previous = &EventPrevious{Topics: nonNilStrings(prev.Topics), Regions: nonNilStrings(prev.Regions),
			Language: prev.Language, Live: IsLive(prev, now)}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("releases: event: %w", err)
	}
	return tx.RecordEvent(ctx, store.EventInput{Type: typ, Data: b, At: now, FeedChange: true})
}
