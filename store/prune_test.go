package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

func execAll(t *testing.T, db *store.DB, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range stmts {
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.ExecForTest(ctx, q) }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func count(t *testing.T, db *store.DB, q string) int {
	t.Helper()
	n, err := db.IntForTest(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestPrune_OldFinishedGoRecentAndUnfinishedStay(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-31 * 24 * time.Hour).UnixMilli()
	recent := now.Add(-time.Hour).UnixMilli()
	execAll(t, db,
		// 2,500 old handled events (three delete batches), one old event not
		// yet fanned out to webhooks, one recent handled one.
		fmt.Sprintf(`INSERT INTO events (uid, type, data, created_at, hooked_at, pushed_at)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
			SELECT 'old-' || i, 'release.published', '{}', %d, %d, %d FROM n`, old, old, old),
		fmt.Sprintf(`INSERT INTO events (uid, type, data, created_at, hooked_at, pushed_at) VALUES ('unhooked', 'x', '{}', %d, NULL, %d)`, old, old),
		fmt.Sprintf(`INSERT INTO events (uid, type, data, created_at, hooked_at, pushed_at) VALUES ('recent', 'x', '{}', %d, %d, %d)`, recent, recent, recent),
		fmt.Sprintf(`INSERT INTO webhooks (id, url, events, secret, created_at, updated_at) VALUES (1, 'https://h.example.org/', ',x,', 's', %d, %d)`, old, old),
		fmt.Sprintf(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, msg_id, type, body, state, next_attempt_at, expires_at, created_at, updated_at) VALUES
			(1, 1, 1, 'm1', 'x', '{}', 'delivered', %[1]d, %[1]d, %[1]d, %[1]d),
			(2, 1, 2, 'm2', 'x', '{}', 'failed', %[1]d, %[1]d, %[1]d, %[1]d),
			(3, 1, 3, 'm3', 'x', '{}', 'queued', %[1]d, %[1]d, %[1]d, %[1]d),
			(4, 1, 4, 'm4', 'x', '{}', 'delivered', %[2]d, %[2]d, %[2]d, %[2]d)`, old, recent),
		fmt.Sprintf(`INSERT INTO webhook_attempts (delivery_id, at, status, duration_ms) VALUES (1, %[1]d, 200, 5), (2, %[1]d, 500, 5), (3, %[1]d, 500, 5), (4, %[2]d, 200, 5)`, old, recent),
		fmt.Sprintf(`INSERT INTO websub_jobs (kind, topic, state, next_attempt_at, expires_at, created_at, updated_at) VALUES
			('publish', 't', 'done', %[1]d, %[1]d, %[1]d, %[1]d), ('publish', 't', 'failed', %[1]d, %[1]d, %[1]d, %[1]d),
			('publish', 't', 'queued', %[1]d, %[1]d, %[1]d, %[1]d), ('publish', 't', 'done', %[2]d, %[2]d, %[2]d, %[2]d)`, old, recent),
		fmt.Sprintf(`INSERT INTO sources (id, url, mode, interval_ms, next_run_at, created_at, updated_at) VALUES
			(1, 'https://a.example.org/', 'draft', 60000, %[1]d, %[1]d, %[1]d), (2, 'https://b.example.org/', 'draft', 60000, %[1]d, %[1]d, %[1]d)`, old),
		// Source 1: 30 old runs then 2 recent ones; source 2: 3 old runs.
		fmt.Sprintf(`INSERT INTO source_runs (source_id, started_at, finished_at, status)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30) SELECT 1, %[1]d, %[1]d, 'ok' FROM n`, old),
		fmt.Sprintf(`INSERT INTO source_runs (source_id, started_at, finished_at, status) VALUES
			(2, %[1]d, %[1]d, 'ok'), (2, %[1]d, %[1]d, 'ok'), (2, %[1]d, %[1]d, 'error'), (1, %[2]d, %[2]d, 'ok'), (1, %[2]d, %[2]d, 'ok')`, old, recent),
		fmt.Sprintf(`INSERT INTO rate_limits (key, tat) VALUES ('gone', %d), ('busy', %d)`, recent, now.Add(time.Minute).UnixMilli()),
	)
	keep := 30 * 24 * time.Hour
	r := store.Retention{Events: keep, WebhookDeliveries: keep, WebSubJobs: keep, SourceRuns: keep, KeepSourceRuns: 20}
	c, err := db.Prune(ctx, now, r)
	if err != nil {
		t.Fatal(err)
	}
	want := store.PruneCounts{Events: 2500, WebhookDeliveries: 2, WebSubJobs: 2, SourceRuns: 12, RateLimits: 1}
	if c != want {
		t.Fatalf("pruned %+v, want %+v", c, want)
	}
	checks := []struct {
		q    string
		want int
	}{
		{`SELECT COUNT(*) FROM events WHERE uid IN ('unhooked', 'recent')`, 2},
		{`SELECT COUNT(*) FROM events`, 2},
		{`SELECT COUNT(*) FROM webhook_deliveries WHERE id IN (3, 4)`, 2},
		{`SELECT COUNT(*) FROM webhook_attempts`, 2}, // the attempts of deliveries 1 and 2 went with them
		{`SELECT COUNT(*) FROM websub_jobs`, 2},
		{`SELECT COUNT(*) FROM websub_jobs WHERE state = 'queued'`, 1},
		{`SELECT COUNT(*) FROM source_runs WHERE source_id = 1`, 20}, // the newest 20: 2 recent, 18 old
		{`SELECT COUNT(*) FROM source_runs WHERE source_id = 2`, 3},
		{`SELECT COUNT(*) FROM rate_limits WHERE key = 'busy'`, 1},
	}
	for _, ch := range checks {
		if got := count(t, db, ch.q); got != ch.want {
			t.Errorf("%s = %d, want %d", ch.q, got, ch.want)
		}
	}
	// A second run finds nothing more.
	if c, err := db.Prune(ctx, now, r); err != nil || c != (store.PruneCounts{}) {
		t.Fatalf("second prune %+v %v", c, err)
	}
}
