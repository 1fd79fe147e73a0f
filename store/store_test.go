package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

func TestOpen_MigratesOnceAndReopens(t *testing.T) {
	ctx := context.Background()
	path := storetest.DSN(t)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version = %d, %v; want >= 1", v, err)
	}
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "x", Name: "X"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = store.Open(ctx, path) // migrating again must be a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v2, _ := db.SchemaVersion(ctx)
	if v2 != v {
		t.Fatalf("schema version changed on reopen: %d -> %d", v, v2)
	}
	terms, err := db.Terms(ctx, store.Topics)
	if err != nil || len(terms) != 1 || terms[0].Slug != "x" {
		t.Fatalf("terms after reopen = %+v, %v", terms, err)
	}
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := storetest.DSN(t)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return tx.ExecForTest(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)")
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer database: err = %v, want a 'newer' error", err)
	}
}

func TestOpen_UnreachablePostgres(t *testing.T) {
	// Nothing listens on port 1: the error says so at once, with no password.
	_, err := store.Open(context.Background(), "postgres://herald:s3cret@127.0.0.1:1/herald?connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "cannot reach PostgreSQL") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want 'cannot reach PostgreSQL' without the password", err)
	}
}

func TestAddTerm_Conflict(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.AddTerm(ctx, store.Regions, store.Term{Slug: "americas", Name: "Americas"}); err != nil {
		t.Fatal(err)
	}
	err := db.AddTerm(ctx, store.Regions, store.Term{Slug: "americas", Name: "Again"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
}

func TestMarkLive_RecordsOnce(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "t", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC)
	r := store.Release{GUID: "urn:uuid:1", Slug: "a", Title: "A", Summary: "s", Body: "b", BodyFormat: "markdown",
		BodyHTML: "<p>b</p>", Language: "en", Topics: []string{"t"}, Status: "published",
		PublishedAt: now.Add(time.Minute), CreatedAt: now, UpdatedAt: now}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertRelease(ctx, &r) }); err != nil {
		t.Fatal(err)
	}
	ids, err := db.MarkLive(ctx, now)
	if err != nil || len(ids) != 0 {
		t.Fatalf("before embargo: %v, %v", ids, err)
	}
	next, _ := db.NextGoLive(ctx)
	if !next.Equal(r.PublishedAt) {
		t.Fatalf("next go-live = %v, want %v", next, r.PublishedAt)
	}
	ids, err = db.MarkLive(ctx, now.Add(2*time.Minute))
	if err != nil || len(ids) != 1 || ids[0] != r.ID {
		t.Fatalf("after embargo: %v, %v", ids, err)
	}
	ids, _ = db.MarkLive(ctx, now.Add(3*time.Minute))
	if len(ids) != 0 {
		t.Fatalf("marked live twice: %v", ids)
	}
	got, _ := db.Release(ctx, r.ID)
	if !got.LiveAt.Equal(now.Add(2 * time.Minute)) {
		t.Fatalf("live_at = %v", got.LiveAt)
	}
}

func TestVersion_BumpsOnReleaseWrites(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	v1, _ := db.Version(ctx, "releases")
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "t", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	v2, _ := db.Version(ctx, "releases")
	tv, _ := db.Version(ctx, "taxonomy")
	if v2 <= v1 || tv < 2 {
		t.Fatalf("versions did not move: releases %d -> %d, taxonomy %d", v1, v2, tv)
	}
}

func TestOpen_DatabaseIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			continue // no WAL file yet
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; it holds personal data", p, st.Mode().Perm())
		}
	}
}

// Ping fails when the database can be read but not written (SPEC 12: a
// full or read-only disk is not healthy), with an error the API maps to 503.
func TestPing_FailsWhenTheDatabaseCannotBeWritten(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("makes SQLite's one write connection read-only")
	}
	db := storetest.New(t)
	ctx := context.Background()
	// The write pool is one connection: from now on it refuses writes, as a
	// read-only file would.
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.ExecForTest(ctx, "PRAGMA query_only = 1") }); err != nil {
		t.Fatal(err)
	}
	err := db.Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot write") || !store.IsUnavailable(err) {
		t.Fatalf("Ping of a read-only database = %v; want a 'cannot write' error that counts as unavailable", err)
	}
}
