// Package storetest gives tests a real, migrated SQLite database in a
// temporary directory.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"herald/store"
)

// New opens a fresh migrated database in t.TempDir() and closes it when the
// test ends.
func New(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
