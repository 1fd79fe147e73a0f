// Package storetest gives tests a real, migrated database, and helpers to
// seed rows that other packages' services would normally write.
//
// The engine follows the environment: with HERALD_TEST_POSTGRES set to a
// PostgreSQL URL (for example postgres://postgres@127.0.0.1:5432/postgres
// ?sslmode=disable), every test gets a schema of its own in that database,
// dropped at cleanup; without it, a SQLite file in t.TempDir(). CI runs the
// whole suite once per engine. HERALD_TEST_POSTGRES_REQUIRED=1 turns the
// skip of PostgreSQL-only tests into a failure, so that CI cannot pass
// without having run them.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop test schemas

	"herald/store"
)

// PostgresEnv names the variable holding the PostgreSQL server for tests.
const PostgresEnv = "HERALD_TEST_POSTGRES"

// New opens a fresh migrated database, closed at cleanup.
func New(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), DSN(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DSN returns the address of a fresh, empty database of the engine under
// test (not migrated): a schema of its own on PostgreSQL, a file in a
// temporary directory on SQLite.
func DSN(t testing.TB) string {
	t.Helper()
	if base := os.Getenv(PostgresEnv); base != "" {
		return schemaDSN(t, base)
	}
	return filepath.Join(t.TempDir(), "herald.db")
}

// Postgres returns a fresh PostgreSQL database address for tests that need
// that engine whatever the suite runs on; it skips the test when no server
// is configured (and fails it when HERALD_TEST_POSTGRES_REQUIRED=1).
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv(PostgresEnv+"_REQUIRED") == "1" {
			t.Fatalf("%s is not set, and PostgreSQL tests are required here", PostgresEnv)
		}
		t.Skipf("set %s to a PostgreSQL URL to run this test", PostgresEnv)
	}
	return schemaDSN(t, base)
}

// OnPostgres reports whether the suite runs on PostgreSQL.
func OnPostgres() bool { return os.Getenv(PostgresEnv) != "" }

// schemaDSN creates a schema named after the test and returns base with
// search_path set to it; the schema is dropped at cleanup.
func schemaDSN(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("storetest: create schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("storetest: drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	// Tests need no durability: commits do not wait for the disk.
	return base + sep + "search_path=" + schema + "&synchronous_commit=off"
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
