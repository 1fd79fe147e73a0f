package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// copyTables are the tables `herald db copy` carries, parents before
// children. Every other table of the schema must be in copySkipped: a test
// holds the two lists to the migrations, so a new table cannot be forgotten.
var copyTables = []string{
	"topics", "regions", "releases", "release_topics", "release_regions",
	"subscribers", "suppressions", "alerts", "digest_runs", "outbox",
	"settings", "session_revocations",
	"events", "webhooks", "webhook_deliveries", "webhook_attempts", "websub_subscriptions", "websub_jobs",
	"sources", "source_items", "source_runs",
	"staff", "staff_links", "api_tokens", "audit_log", "bounces",
	"media", "media_blobs",
}

// copySkipped are tables that belong to the database they are in: its
// schema version, its cache counters, and what running instances hold.
// previews and pow_used hold what expires within minutes.
// (SQLite's search index, releases_fts, is no table of its own: triggers
// rebuild it from the rows copied in.)
var copySkipped = []string{"schema_migrations", "versions", "leases", "instances", "rate_limits", "previews", "pow_used"}

// copyDerived are columns that the target computes itself (PostgreSQL's
// generated search_vector): never read from the source, never written.
var copyDerived = map[string]bool{"search_vector": true}

// ErrNotEmpty means a copy's target already holds data.
var ErrNotEmpty = errors.New("the target database is not empty")

// CopyProgress reports a copy's progress: rows copied of the total.
type CopyProgress func(table string, done, total int64)

// CopyTo copies every table of db into dst, which must be migrated to the
// same schema version and empty. Everything is written in one transaction
// on dst, so an interrupted copy leaves dst as it was (and db is only read).
// It returns the rows copied per table, verified by counting them in dst
// before the commit.
func (db *DB) CopyTo(ctx context.Context, dst *DB, progress CopyProgress) (map[string]int64, error) {
	sv, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	dv, err := dst.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if sv != dv {
		return nil, fmt.Errorf("store: copy: source schema version %d, target %d: migrate both first (herald db migrate)", sv, dv)
	}
	totals := map[string]int64{}
	var all int64
	for _, t := range copyTables {
		n, err := countRows(ctx, db.read, t)
		if err != nil {
			return nil, err
		}
		totals[t] = n
		all += n
		m, err := countRows(ctx, dst.read, t)
		if err != nil {
			return nil, err
		}
		if m > 0 {
			return nil, fmt.Errorf("store: copy: table %s of the target has %d rows: %w", t, m, ErrNotEmpty)
		}
	}
	copied := map[string]int64{}
	var done int64
	err = dst.inTxOnce(ctx, func(tx *Tx) error {
		for _, q := range dst.e.beforeCopy {
			if _, err := tx.tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		for _, t := range copyTables {
			n, err := copyTable(ctx, db, tx, t, func(rows int64) {
				if progress != nil {
					progress(t, done+rows, all)
				}
			})
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			done += n
			got, err := countRows(ctx, tx.tx, t)
			if err != nil {
				return err
			}
			if got != totals[t] {
				return fmt.Errorf("table %s: %d rows in the source, %d in the target", t, totals[t], got)
			}
			copied[t] = got
		}
		// Media files (SQLite) become rows of media_blobs (PostgreSQL).
		files, err := db.copyBlobFiles(ctx, dst, tx)
		if err != nil {
			return fmt.Errorf("media files: %w", err)
		}
		if !dst.e.blobFiles {
			copied["media_blobs"] += files
		}
		for _, t := range copyTables {
			for _, q := range dst.e.afterCopy(t) {
				if _, err := tx.tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("table %s: %w", t, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	return copied, nil
}

func countRows(ctx context.Context, q querier, table string) (int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT COUNT(*) FROM "+table)
	if err != nil {
		return 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("store: count %s: %w", table, err)
		}
	}
	return n, rows.Err()
}

// copyBatchValues bounds the values of one INSERT (SQLite takes 32,766
// parameters, PostgreSQL 65,535).
const copyBatchValues = 20000

// copyTable streams table from db into tx in multi-row INSERTs, in primary
// key order, and returns how many rows it wrote.
func copyTable(ctx context.Context, db *DB, tx *Tx, table string, progress func(int64)) (int64, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY 1")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	all, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var cols []string
	var keep []int
	for i, c := range all {
		if !copyDerived[c] {
			cols, keep = append(cols, c), append(keep, i)
		}
	}
	per := max(1, copyBatchValues/len(cols))
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	row := "(" + placeholders(len(cols)) + ")"
	var n int64
	batch := make([]any, 0, per*len(cols))
	flush := func() error {
		k := len(batch) / len(cols)
		if k == 0 {
			return nil
		}
		q := head + strings.Repeat(row+", ", k-1) + row
		if _, err := tx.tx.ExecContext(ctx, q, batch...); err != nil {
			return err
		}
		n += int64(k)
		batch = batch[:0]
		progress(n)
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(all))
		ptrs := make([]any, len(all))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for _, i := range keep {
			batch = append(batch, vals[i])
		}
		if len(batch) >= per*len(cols) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// Tables lists the tables of the database's schema (tests hold copyTables
// and copySkipped to it).
func (db *DB) Tables(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, db.e.listTables)
	if err != nil {
		return nil, fmt.Errorf("store: tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CopyTables returns the tables that a copy carries and those it skips.
func CopyTables() (copied, skipped []string) {
	return append([]string(nil), copyTables...), append([]string(nil), copySkipped...)
}
