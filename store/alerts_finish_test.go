package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

func TestFinishAlerts_OnceWhenEveryMessageIsFinal(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	t0 := now.Add(-time.Hour).UnixMilli()
	// Alert 1: two sent, one failed, one cancelled, one still sending.
	// Alert 2: fan-out not finished. Alert 3: a test copy, sent.
	// Alert 4: fan-out finished, matched no one.
	execAll(t, db, fmt.Sprintf(`INSERT INTO alerts (id, release_id, audience, origin, test_to, recipients, created_at, queued_at) VALUES
		(1, 7, 'immediate', 'auto', '', 5, %[1]d, %[1]d), (2, 7, 'matching', 'staff', '', 0, %[1]d, NULL),
		(3, 7, 'matching', 'test', 'me@example.org', 1, %[1]d, %[1]d), (4, 8, 'matching', 'staff', '', 0, %[1]d, %[1]d)`, t0),
		fmt.Sprintf(`INSERT INTO outbox (idem_key, kind, alert_id, release_id, state, next_attempt_at, created_at, updated_at) VALUES
		('a', 'alert', 1, 7, 'sent', %[1]d, %[1]d, %[1]d), ('b', 'alert', 1, 7, 'sent', %[1]d, %[1]d, %[2]d),
		('c', 'alert', 1, 7, 'failed', %[1]d, %[1]d, %[1]d), ('d', 'alert', 1, 7, 'cancelled', %[1]d, %[1]d, %[1]d),
		('e', 'alert', 1, 7, 'sending', %[1]d, %[1]d, %[1]d), ('t', 'alert', 3, 7, 'sent', %[1]d, %[1]d, %[1]d)`, t0, t0+5000))
	n, err := db.FinishAlerts(ctx, now)
	if err != nil || n != 2 { // the test copy and the empty alert
		t.Fatalf("first pass finished %d, %v; want 2", n, err)
	}
	execAll(t, db, fmt.Sprintf(`UPDATE outbox SET state = 'sent', updated_at = %d WHERE idem_key = 'e'`, t0+9000))

	// Several instances' passes at once (a leader change): one event each.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := db.FinishAlerts(ctx, now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, err := db.FinishAlerts(ctx, now); err != nil || n != 0 {
		t.Fatalf("a pass after all finished finished %d, %v", n, err)
	}
	evs, err := db.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	byAlert := map[string]map[string]any{}
	for _, e := range evs {
		if e.Type != store.EventAlertFinished {
			t.Fatalf("event %s", e.Type)
		}
		var d struct{ Alert map[string]any }
		if err := json.Unmarshal([]byte(e.Data), &d); err != nil {
			t.Fatal(err)
		}
		id := d.Alert["id"].(string)
		if byAlert[id] != nil {
			t.Fatalf("alert %s finished twice", id)
		}
		byAlert[id] = d.Alert
	}
	a1 := byAlert["1"]
	if len(byAlert) != 2 || a1 == nil || byAlert["4"] == nil || a1["release_id"] != "7" || a1["sent"] != 3.0 || a1["failed"] != 1.0 ||
		a1["cancelled"] != 1.0 || a1["started_at"] != time.UnixMilli(t0).UTC().Format(time.RFC3339) ||
		a1["finished_at"] != time.UnixMilli(t0+9000).UTC().Format(time.RFC3339) {
		t.Fatalf("events %+v", byAlert)
	}
	al, err := db.Alert(ctx, 1)
	if err != nil || !al.FinishedAt.Equal(time.UnixMilli(t0+9000)) {
		t.Fatalf("alert 1 %+v %v", al, err)
	}
	if al, _ := db.Alert(ctx, 2); !al.FinishedAt.IsZero() {
		t.Fatalf("alert 2 finished before its fan-out: %+v", al)
	}
}
