package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

// The dashboard's queries on a large database: 100,000 subscribers and
// 300,000 outbox rows spread over 60 days.
//
//	go test ./store -run '^$' -bench Dashboard -benchtime 20x

const (
	benchSubscribers = 100_000
	benchOutbox      = 300_000
)

func benchDB(b *testing.B) (*store.DB, time.Time) {
	b.Helper()
	ctx := context.Background()
	db := storetest.New(b)
	subs := make([]store.SeedSubscriber, benchSubscribers)
	langs := []string{"en", "fr", "es"}
	cadences := []string{"immediate", "daily", "weekly"}
	for i := range subs {
		subs[i] = store.SeedSubscriber{Email: fmt.Sprintf("s%d@example.org", i), Language: langs[i%3], Cadence: cadences[i%3]}
	}
	if _, err := db.SeedSubscribers(ctx, subs); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	start := now.AddDate(0, 0, -60).UnixMilli()
	span := now.UnixMilli() - start
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ExecForTest(ctx, `UPDATE subscribers SET
			topics = CASE id % 4 WHEN 0 THEN '' WHEN 1 THEN 'migration' WHEN 2 THEN 'migration,refugees' ELSE 'children,gender,refugees' END,
			regions = CASE id % 5 WHEN 0 THEN 'argentina' WHEN 1 THEN 'africa,europe' ELSE '' END,
			created_at = ?1 + (id * 7919 % ?2), confirmed_at = ?1 + (id * 7919 % ?2)`, start, span); err != nil {
			return err
		}
		items := make([]store.OutboxItem, benchOutbox)
		for i := range items {
			items[i] = store.OutboxItem{IdemKey: fmt.Sprint("b", i), Kind: "alert", SubscriberID: int64(i%benchSubscribers + 1), AlertID: int64(i/1000 + 1)}
		}
		if _, err := tx.Enqueue(ctx, now.AddDate(0, 0, -60), items); err != nil {
			return err
		}
		// Rows in id order over 60 days; nearly all sent, some failed, a few deferred.
		return tx.ExecForTest(ctx, `UPDATE outbox SET created_at = ?1 + id * ?2 / ?3, updated_at = ?1 + id * ?2 / ?3,
			state = CASE WHEN id % 97 = 0 THEN 'failed' WHEN id % 101 = 0 THEN 'queued' ELSE 'sent' END,
			sent_at = CASE WHEN id % 97 = 0 OR id % 101 = 0 THEN NULL ELSE ?1 + id * ?2 / ?3 + 1000 END,
			attempts = 1, last_error = CASE WHEN id % 97 = 0 THEN '550 no such user' WHEN id % 101 = 0 THEN '451 later' ELSE '' END`,
			start, span, benchOutbox)
	})
	if err != nil {
		b.Fatal(err)
	}
	return db, now
}

func BenchmarkDashboardQueries(b *testing.B) {
	db, now := benchDB(b)
	ctx := context.Background()
	for _, q := range []struct {
		name string
		fn   func() error
	}{
		{"SubscriberBreakdown", func() error { _, err := db.SubscriberBreakdown(ctx); return err }},
		{"SubscriberGrowth90d", func() error { _, err := db.SubscriberGrowth(ctx, now, 90); return err }},
		{"DeliveryHealth14d", func() error { _, err := db.DeliveryHealth(ctx, now, 14); return err }},
		{"LastSendError", func() error { _, err := db.LastSendError(ctx); return err }},
		{"OutboxQueue", func() error { _, err := db.OutboxQueue(ctx, now); return err }},
		{"AlertProblems", func() error { _, err := db.AlertProblems(ctx, 150, 50); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
