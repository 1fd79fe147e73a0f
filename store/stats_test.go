package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

func TestSubscriberBreakdown(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	ids, err := db.SeedSubscribers(ctx, []store.SeedSubscriber{
		{Email: "a@x.org", Cadence: "daily"},
		{Email: "b@x.org", Cadence: "immediate", Language: "fr"},
		{Email: "c@x.org", Cadence: "weekly", Language: "fr"},
		{Email: "d@x.org", Status: "unsubscribed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ExecForTest(ctx, `UPDATE subscribers SET topics = 'migration,refugees', regions = 'argentina' WHERE id = ?`, ids[0]); err != nil {
			return err
		}
		if err := tx.ExecForTest(ctx, `UPDATE subscribers SET topics = 'refugees' WHERE id = ?`, ids[1]); err != nil {
			return err
		}
		return tx.ExecForTest(ctx, `UPDATE subscribers SET topics = 'children', regions = 'africa,argentina' WHERE id = ?`, ids[3])
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.SubscriberBreakdown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Active != 3 || b.AllTopics != 1 || b.AllRegions != 2 {
		t.Errorf("active %d, all topics %d, all regions %d; want 3, 1, 2", b.Active, b.AllTopics, b.AllRegions)
	}
	if fmt.Sprint(b.ByTopic) != "map[migration:1 refugees:2]" || fmt.Sprint(b.ByRegion) != "map[argentina:1]" {
		t.Errorf("by topic %v, by region %v (the unsubscribed one must not count)", b.ByTopic, b.ByRegion)
	}
	if fmt.Sprint(b.ByLanguage) != "map[en:1 fr:2]" || fmt.Sprint(b.ByCadence) != "map[daily:1 immediate:1 weekly:1]" {
		t.Errorf("by language %v, by cadence %v", b.ByLanguage, b.ByCadence)
	}
}

func TestSubscriberGrowth(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	ids, err := db.SeedSubscribers(ctx, []store.SeedSubscriber{{Email: "old@x.org"}, {Email: "new@x.org"}, {Email: "left@x.org"},
		{Email: "pending@x.org", Status: "pending"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	day := func(d int) int64 { return now.AddDate(0, 0, d).UnixMilli() }
	err = db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE subscribers SET created_at = ?, confirmed_at = ? WHERE id = ?`, []any{day(-30), day(-30), ids[0]}},
			{`UPDATE subscribers SET created_at = ?, confirmed_at = ? WHERE id = ?`, []any{day(-1), day(0), ids[1]}},
			{`UPDATE subscribers SET created_at = ?, confirmed_at = ?, status = 'unsubscribed', unsubscribed_at = ? WHERE id = ?`,
				[]any{day(-2), day(-2), day(-1), ids[2]}},
			{`UPDATE subscribers SET created_at = ? WHERE id = ?`, []any{day(0), ids[3]}},
		} {
			if err := tx.ExecForTest(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := db.SubscriberGrowth(ctx, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(g[0].Active, g[0].SignUp, g[1].Active, g[1].SignUp, g[2].Active, g[2].SignUp)
	// day -2: old + left = 2 active, 1 sign-up; day -1: left left, new signed up: 1, 1; today: new confirmed, pending signed up: 2, 1.
	if got != "2 1 1 1 2 1" || !g[2].Day.Equal(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("growth %s (days %v), want 2 1 1 1 2 1", got, g[2].Day)
	}
}

func TestDeliveryHealthAndProblems(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	ids, err := db.SeedSubscribers(ctx, []store.SeedSubscriber{{Email: "a@x.org"}, {Email: "b@x.org"}, {Email: "c@x.org"}, {Email: "d@x.org"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	var alertID int64
	err = db.InTx(ctx, func(tx *store.Tx) error {
		// An old message outside the window, then an alert of four.
		if _, err := tx.Enqueue(ctx, now.AddDate(0, 0, -40), []store.OutboxItem{{IdemKey: "old", Kind: "alert", SubscriberID: ids[0]}}); err != nil {
			return err
		}
		if alertID, err = tx.CreateAlert(ctx, store.Alert{ReleaseID: 1, Audience: "matching", Origin: "staff", CreatedAt: now}); err != nil {
			return err
		}
		items := make([]store.OutboxItem, len(ids))
		for i, id := range ids {
			items[i] = store.OutboxItem{IdemKey: fmt.Sprint("k", i), Kind: "alert", SubscriberID: id, AlertID: alertID}
		}
		_, err := tx.Enqueue(ctx, now.Add(-time.Hour), items)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimOutbox(ctx, now.AddDate(0, 0, -40), store.ClaimOptions{Limit: 1, Lease: time.Minute})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim old: %v %d", err, len(claimed))
	}
	if err := db.RecordOutbox(ctx, now.AddDate(0, 0, -40), []store.OutboxResult{{ID: claimed[0].ID, State: store.OutboxSent}}); err != nil {
		t.Fatal(err)
	}
	claimed, err = db.ClaimOutbox(ctx, now, store.ClaimOptions{Limit: 10, Lease: time.Minute})
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	res := []store.OutboxResult{
		{ID: claimed[0].ID, State: store.OutboxSent},
		{ID: claimed[1].ID, State: store.OutboxSent},
		{ID: claimed[2].ID, State: store.OutboxFailed, Error: "550 5.1.1 no such user"},
		{ID: claimed[3].ID, State: store.OutboxQueued, NextAttempt: now.Add(time.Hour), Error: "451 4.3.0 try later"},
	}
	if err := db.RecordOutbox(ctx, now, res); err != nil {
		t.Fatal(err)
	}
	days, err := db.DeliveryHealth(ctx, now, 14)
	if err != nil {
		t.Fatal(err)
	}
	last := days[len(days)-1]
	if len(days) != 14 || last.Sent != 2 || last.Failed != 1 || last.Deferred != 1 {
		t.Errorf("today %+v (of %d days)", last, len(days))
	}
	for _, d := range days[:13] {
		if d.Sent+d.Failed+d.Deferred != 0 {
			t.Errorf("%v has %+v; the old message is outside the window", d.Day, d)
		}
	}
	e, err := db.LastSendError(ctx)
	if err != nil || e.Error == "" || !e.At.Equal(now) {
		t.Errorf("last error %+v %v", e, err)
	}
	probs, err := db.AlertProblems(ctx, alertID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 2 || probs[0].State != "failed" || probs[0].To != "c@x.org" || probs[1].State != "queued" || probs[1].Error != "451 4.3.0 try later" {
		t.Errorf("problems %+v", probs)
	}
}

func TestTranslationGroups(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	if g, err := db.TranslationGroups(ctx, 10); err != nil || len(g) != 0 {
		t.Fatalf("empty: %v %v", g, err)
	}
}
