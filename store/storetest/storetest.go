// Package storetest gives tests a real, migrated SQLite database in a
// temporary directory, and helpers to seed rows that other packages'
// services would normally write.
package storetest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"herald/store"
)

// New opens a fresh migrated database in t.TempDir(), closed at cleanup.
func New(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Subscribers seeds n subscribers named sub<i>@<domain> with the given
// status and language and returns their ids.
func Subscribers(t testing.TB, db *store.DB, n int, domain, status, lang string) []int64 {
	t.Helper()
	subs := make([]store.SeedSubscriber, n)
	for i := range subs {
		subs[i] = store.SeedSubscriber{Email: fmt.Sprintf("sub%d@%s", i, domain), Status: status, Language: lang}
	}
	ids, err := db.SeedSubscribers(context.Background(), subs)
	if err != nil {
		t.Fatalf("seed subscribers: %v", err)
	}
	return ids
}

// Subscriber seeds one subscriber and returns its id.
func Subscriber(t testing.TB, db *store.DB, email, status, lang string) int64 {
	t.Helper()
	ids, err := db.SeedSubscribers(context.Background(), []store.SeedSubscriber{{Email: email, Status: status, Language: lang}})
	if err != nil {
		t.Fatalf("seed subscriber: %v", err)
	}
	return ids[0]
}
