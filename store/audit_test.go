package store_test

import (
	"context"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

// TestAudit_AppendOnly: the database itself refuses to change or delete
// an entry, whatever SQL is sent (SPEC 7.3).
func TestAudit_AppendOnly(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id, err := db.AppendAudit(ctx, store.AuditEntry{At: at, Actor: "cli:alice", ActorKind: "cli", Action: "release.delete", Target: "release:7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE audit_log SET actor = 'someone else'",
		"DELETE FROM audit_log",
		"DELETE FROM audit_log WHERE id = 1",
	} {
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.ExecForTest(ctx, q) })
		if err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	got, err := db.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].Actor != "cli:alice" || !got[0].At.Equal(at) || got[0].Details != "{}" {
		t.Fatalf("entries after the attempts: %+v %v", got, err)
	}
	if db.Engine() == "postgres" {
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.ExecForTest(ctx, "TRUNCATE audit_log") }); err == nil {
			t.Error("TRUNCATE allowed")
		}
	}
}

func TestAudit_Filters(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range []string{"release.create", "release.publish", "alert.send", "release_x.create"} {
		if _, err := db.AppendAudit(ctx, store.AuditEntry{At: base.Add(time.Duration(i) * time.Hour), Actor: "a", ActorKind: "staff", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		q    store.AuditQuery
		want int
	}{
		{store.AuditQuery{Action: "release.*"}, 2},
		{store.AuditQuery{Action: "alert.send"}, 1},
		{store.AuditQuery{Since: base.Add(time.Hour), Until: base.Add(2 * time.Hour)}, 2},
		{store.AuditQuery{BeforeID: 3}, 2},
		{store.AuditQuery{Limit: 1}, 1},
		{store.AuditQuery{Actor: "b"}, 0},
	} {
		got, err := db.ListAudit(ctx, tc.q)
		if err != nil || len(got) != tc.want {
			t.Errorf("%+v: %d entries, want %d (%v)", tc.q, len(got), tc.want, err)
		}
	}
}
