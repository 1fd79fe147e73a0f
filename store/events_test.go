package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

func TestEvents_BounceAndDigestRecorded(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := storetest.Subscriber(t, db, "ana@example.org", "active", "en")
	for range 2 { // the second bounce changes nothing and records nothing
		if err := db.MarkSubscriberBounced(ctx, now, id); err != nil {
			t.Fatal(err)
		}
	}
	var run int64
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		run, err = tx.CreateDigestRun(ctx, "daily", "schedule", now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishDigestRun(ctx, run, 12, now); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Type != store.EventSubscriberBounced || evs[0].Type != store.EventDigestFinished ||
		!strings.Contains(evs[0].Data, `"recipients":12`) || !strings.Contains(evs[1].Data, `"status":"bounced"`) || evs[0].UID == evs[1].UID {
		t.Fatalf("events %+v", evs)
	}
}
