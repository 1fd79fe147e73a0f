package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

// fill writes a little of everything a copy carries.
func fill(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "migration", Name: "Migration", Names: map[string]string{"fr": "Migration"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddTerm(ctx, store.Regions, store.Term{Slug: "americas", Name: "Americas"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ids := storetest.Subscribers(t, db, n, "example.org", "active", "fr")
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for i := range 3 {
			r := &store.Release{GUID: fmt.Sprintf("urn:uuid:%d", i), Slug: fmt.Sprintf("r-%d", i), Title: "Título «" + fmt.Sprint(i) + "»",
				Summary: "s", SummaryDerived: i == 1, Body: "b", BodyFormat: "markdown", BodyHTML: "<p>b</p>", Language: "es",
				Topics: []string{"migration"}, Regions: []string{"americas"}, Status: "published",
				PublishedAt: now, CreatedAt: now, UpdatedAt: now, Contacts: []store.Contact{{Name: "Ana"}}}
			if err := tx.InsertRelease(ctx, r); err != nil {
				return err
			}
		}
		alert, err := tx.CreateAlert(ctx, store.Alert{ReleaseID: 1, Audience: "matching", Origin: "staff", CreatedAt: now})
		if err != nil {
			return err
		}
		items := make([]store.OutboxItem, len(ids))
		for i, id := range ids {
			items[i] = store.OutboxItem{IdemKey: fmt.Sprintf("alert:r:1:%d", id), Kind: "alert", SubscriberID: id, ReleaseID: 1, AlertID: alert}
		}
		_, err = tx.Enqueue(ctx, now, items)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCopy_SQLiteToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	pgDSN := storetest.Postgres(t)
	src, err := store.Open(ctx, filepath.Join(t.TempDir(), "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fill(t, src, 1200) // more than one INSERT batch of subscribers
	pg, err := store.Open(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var calls int
	counts, err := src.CopyTo(ctx, pg, func(string, int64, int64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if counts["subscribers"] != 1200 || counts["outbox"] != 1200 || counts["releases"] != 3 || counts["release_topics"] != 3 || calls == 0 {
		t.Fatalf("counts = %v, progress calls %d", counts, calls)
	}
	r, err := pg.ReleaseBySlug(ctx, "r-1")
	if err != nil || r.Title != "Título «1»" || !r.SummaryDerived || len(r.Contacts) != 1 || r.Regions[0] != "americas" {
		t.Fatalf("copied release = %+v, %v", r, err)
	}
	// The id sequences moved past the copied rows.
	more := storetest.Subscribers(t, pg, 1, "later.example.org", "active", "en")
	if more[0] <= 1200 {
		t.Fatalf("new subscriber id %d reuses a copied id", more[0])
	}
	// A second copy into the now non-empty database is refused.
	if _, err := src.CopyTo(ctx, pg, nil); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("copy into a non-empty database: %v", err)
	}
	// A message queued for a subscriber erased at that moment keeps their id
	// on PostgreSQL (no foreign key there); SQLite gets the row without it.
	err = pg.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Enqueue(ctx, time.Now(), []store.OutboxItem{{IdemKey: "alert:r:1:gone", Kind: "alert", SubscriberID: 999999, ReleaseID: 1}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// And back to a fresh SQLite file.
	back, err := store.Open(ctx, filepath.Join(t.TempDir(), "back.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	counts2, err := pg.CopyTo(ctx, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts2["subscribers"] != 1201 || counts2["outbox"] != 1201 {
		t.Fatalf("counts back = %v", counts2)
	}
	if q, _ := back.OutboxQueue(ctx, time.Now()); q.Due != 1201 {
		t.Fatalf("queue after the round trip = %+v", q)
	}
}

func TestCopy_EveryTableIsCopiedOrSkipped(t *testing.T) {
	db := storetest.New(t)
	tables, err := db.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	copied, skipped := store.CopyTables()
	known := append(copied, skipped...)
	for _, tb := range tables {
		if !slices.Contains(known, tb) {
			t.Errorf("table %s is neither copied nor skipped by herald db copy", tb)
		}
	}
	for _, tb := range known {
		if !slices.Contains(tables, tb) {
			t.Errorf("db copy names table %s, which the schema lacks", tb)
		}
	}
}
