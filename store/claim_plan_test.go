package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

// An alert queues its whole fan-out in one instant: thousands of rows with
// the same next_attempt_at. Claiming 16 of them must read 16 index entries
// in (next_attempt_at, id) order, not sort every row of that instant (each
// claim of a million-row alert would otherwise sort a million rows).
func TestClaimOutbox_NoSortOfTheQueue(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	items := make([]store.OutboxItem, 3000)
	for i := range items {
		items[i] = store.OutboxItem{IdemKey: fmt.Sprint("k", i), Kind: "alert", ToAddr: fmt.Sprintf("r%d@example.org", i)}
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Enqueue(ctx, now, items); err != nil {
			return err
		}
		return tx.ExecForTest(ctx, "ANALYZE outbox")
	})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := db.ExplainClaimForTest(ctx, now, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan:\n%s", plan)
	if strings.Contains(plan, "Sort") || strings.Contains(plan, "TEMP B-TREE") {
		t.Fatalf("the claim sorts the queue:\n%s", plan)
	}
	claimed, err := db.ClaimOutbox(ctx, now, store.ClaimOptions{Limit: 16, Lease: time.Minute})
	if err != nil || len(claimed) != 16 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	for i, m := range claimed {
		if m.IdemKey != fmt.Sprint("k", i) {
			t.Fatalf("claimed %d is %s, want k%d: oldest first, then by id", i, m.IdemKey, i)
		}
	}
}
