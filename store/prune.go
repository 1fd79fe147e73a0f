package store

import (
	"context"
	"fmt"
	"time"
)

// Retention says how long finished records are kept before Prune deletes
// them. What is still waiting (an event not yet fanned out, a delivery or
// job being retried) is never pruned, however old.
type Retention struct {
	// Events handled by both fan-outs (webhooks and WebSub).
	Events time.Duration
	// WebhookDeliveries delivered or failed, with their attempts.
	WebhookDeliveries time.Duration
	// WebSubJobs done or failed.
	WebSubJobs time.Duration
	// SourceRuns older than this go, except the newest KeepSourceRuns of
	// each source (a source polled rarely keeps its recent history).
	SourceRuns     time.Duration
	KeepSourceRuns int
}

// PruneCounts says how many rows Prune deleted from each table.
type PruneCounts struct {
	Events, WebhookDeliveries, WebSubJobs, SourceRuns, RateLimits int64
}

// pruneBatch is how many rows one DELETE takes: each batch is its own short
// statement, so a huge table is never locked for long and other writers
// (SQLite has one at a time) get their turn between batches.
const pruneBatch = 1000

// Prune deletes what r says has been kept long enough, and the rate-limit
// counters that are back to a full burst, batch by batch. It runs on the
// leader (hourly); it stops early, with what it counted, when ctx ends.
func (db *DB) Prune(ctx context.Context, now time.Time, r Retention) (PruneCounts, error) {
	var c PruneCounts
	var err error
	if c.Events, err = db.deleteBatches(ctx, "events",
		`created_at < ? AND hooked_at IS NOT NULL AND pushed_at IS NOT NULL`, ms(now.Add(-r.Events))); err != nil {
		return c, err
	}
	// Attempts go with their delivery (ON DELETE CASCADE).
	if c.WebhookDeliveries, err = db.deleteBatches(ctx, "webhook_deliveries",
		`state IN ('delivered', 'failed') AND updated_at < ?`, ms(now.Add(-r.WebhookDeliveries))); err != nil {
		return c, err
	}
	if c.WebSubJobs, err = db.deleteBatches(ctx, "websub_jobs",
		`state IN ('done', 'failed') AND updated_at < ?`, ms(now.Add(-r.WebSubJobs))); err != nil {
		return c, err
	}
	if c.SourceRuns, err = db.deleteBatches(ctx, "source_runs",
		`finished_at < ? AND id < COALESCE((SELECT x.id FROM source_runs x WHERE x.source_id = source_runs.source_id
			ORDER BY x.id DESC LIMIT 1 OFFSET ?), 0)`, ms(now.Add(-r.SourceRuns)), max(r.KeepSourceRuns-1, 0)); err != nil {
		return c, err
	}
	res, err := db.write.ExecContext(ctx, "DELETE FROM rate_limits WHERE tat < ?", ms(now))
	if err != nil {
		return c, fmt.Errorf("store: prune rate limits: %w", err)
	}
	c.RateLimits, _ = res.RowsAffected()
	return c, nil
}

// deleteBatches deletes the rows of table matching where, pruneBatch rows
// (the oldest ids first) per statement, and returns how many it deleted.
func (db *DB) deleteBatches(ctx context.Context, table, where string, args ...any) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE id IN (SELECT id FROM ` + table + ` WHERE ` + where + ` ORDER BY id LIMIT ?)`
	args = append(args, pruneBatch)
	var total int64
	for ctx.Err() == nil {
		res, err := db.write.ExecContext(ctx, q, args...)
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", table, err)
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	return total, nil
}
