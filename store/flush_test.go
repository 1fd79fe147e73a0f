package store_test

import (
	"context"
	"strings"
	"testing"

	"herald/store"
	"herald/store/storetest"
)

// DeferFlush turns off the wait for the log in its own transaction only
// (PostgreSQL); the next transaction waits again, and FlushLog commits.
func TestDeferFlush_OnlyItsTransaction(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	if !strings.HasPrefix(dsn, "postgres") {
		db := storetest.New(t)
		if err := db.FlushLog(ctx); err != nil { // SQLite: a no-op that must not fail
			t.Fatalf("flush log: %v", err)
		}
		return
	}
	// Test schemas run with synchronous_commit off for speed: this one
	// runs with the server's default (on), as herald does.
	db, err := store.Open(ctx, strings.Replace(dsn, "&synchronous_commit=off", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.FlushLog(ctx); err != nil {
		t.Fatalf("flush log: %v", err)
	}
	show := func(deferred bool) string {
		var got string
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if deferred {
				if err := tx.DeferFlush(ctx); err != nil {
					return err
				}
			}
			var err error
			got, err = tx.StringForTest(ctx, "SHOW synchronous_commit")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := show(true); got != "off" {
		t.Errorf("inside DeferFlush: synchronous_commit = %q, want off", got)
	}
	if got := show(false); got != "on" {
		t.Errorf("the next transaction: synchronous_commit = %q, want on", got)
	}
}
