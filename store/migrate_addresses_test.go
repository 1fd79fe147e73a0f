package store_test

import (
	"context"
	"errors"
	"testing"

	"herald/store"
	"herald/store/storetest"
)

// TestMigrateAddressKeys migrates a database written before addresses were
// compared case-insensitively: colliding addresses are reported, not merged,
// and a Unicode domain is converted to ASCII.
func TestMigrateAddressKeys(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenNoMigrate(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUpToForTest(ctx, 5); err != nil {
		t.Fatal(err)
	}
	old := []string{"ana@example.org", "bob@example.org", "Ana@example.org", "user@bücher.de", "user@xn--bcher-kva.de", "ünï@bücher.de", "ANA@example.org"}
	ids := map[string]int64{}
	for _, e := range old {
		if ids[e], err = db.InsertOldSubscriberForTest(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.AddressCollisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.AddressCollision{
		{ID: ids["Ana@example.org"], DupOf: ids["ana@example.org"]},
		{ID: ids["user@xn--bcher-kva.de"], DupOf: ids["user@bücher.de"]},
		{ID: ids["ANA@example.org"], DupOf: ids["ana@example.org"]},
	}
	if len(got) != len(want) {
		t.Fatalf("collisions = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("collision %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Nothing was merged: every row is still there, with its address.
	n, err := db.CountForTest(ctx, "subscribers")
	if err != nil || n != int64(len(old)) {
		t.Fatalf("%d subscribers after the migration (%v), want %d", n, err, len(old))
	}
	for email, wantStored := range map[string]string{
		"user@bücher.de":  "user@bücher.de", // its ASCII form belongs to the other row
		"ünï@bücher.de":   "ünï@xn--bcher-kva.de",
		"Ana@example.org": "Ana@example.org",
	} {
		s, err := db.Subscriber(ctx, ids[email])
		if err != nil || s.Email != wantStored {
			t.Errorf("subscriber %q is stored as %q (%v), want %q", email, s.Email, err, wantStored)
		}
	}
	// Lookups by address find the older row in any capitals; a new row with
	// a colliding address is refused.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		s, err := tx.SubscriberByEmail(ctx, "ANA@example.org")
		if err != nil || s.ID != ids["ana@example.org"] {
			t.Errorf("by address: %d, %v; want %d", s.ID, err, ids["ana@example.org"])
		}
		s, err = tx.SubscriberByEmail(ctx, "user@xn--bcher-kva.de")
		if err != nil || s.ID != ids["user@bücher.de"] {
			t.Errorf("by IDN address: %d, %v; want %d", s.ID, err, ids["user@bücher.de"])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return tx.InsertSubscriber(ctx, &store.Subscriber{Email: "aNa@example.org", Status: store.SubscriberPending})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("inserting a case variant: %v, want a conflict", err)
	}
}
