package main

import (
	"context"
	"log/slog"
	"time"

	"herald/store"
)

// pruneEvery is how often the leader prunes finished records.
const pruneEvery = time.Hour

// keepSourceRuns is how many polls of each source stay listed however old.
const keepSourceRuns = 20

// retention is what runPrune keeps: HERALD_RETENTION for every kind of
// finished record.
func retention(keep time.Duration) store.Retention {
	return store.Retention{Events: keep, WebhookDeliveries: keep, WebSubJobs: keep, SourceRuns: keep, KeepSourceRuns: keepSourceRuns}
}

// runPrune deletes, once at start and then hourly until ctx ends, the
// records whose job is done and that are older than keep: handled events,
// delivered or failed webhook deliveries with their attempts, finished
// WebSub jobs, ingest runs (the newest 20 of each source stay), and
// rate-limit counters back to a full burst. It runs on the leader only.
func runPrune(ctx context.Context, db *store.DB, keep time.Duration, log *slog.Logger) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		start := time.Now()
		c, err := db.Prune(ctx, start, retention(keep))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("pruning failed", "err", err)
		case err == nil:
			log.Info("pruned finished records", "events", c.Events, "webhook_deliveries", c.WebhookDeliveries,
				"websub_jobs", c.WebSubJobs, "source_runs", c.SourceRuns, "rate_limits", c.RateLimits,
				"duration_ms", time.Since(start).Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
