package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ExecForTest runs a statement in a transaction, for tests that need to
// reach a state no public method produces.
func (tx *Tx) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := tx.tx.ExecContext(ctx, q, args...)
	return err
}

// MigrateUpToForTest applies the migrations up to version only, to build a
// database as an older herald left it.
func (db *DB) MigrateUpToForTest(ctx context.Context, version int) error {
	migs, err := loadMigrations(migrationFiles, db.e.migrations)
	if err != nil {
		return err
	}
	if _, err := db.write.db.ExecContext(ctx, createMigrationsTable); err != nil {
		return err
	}
	for _, m := range migs {
		if m.version <= version {
			if err := db.applyMigration(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// InsertOldSubscriberForTest writes a subscriber row as herald wrote it
// before addresses had keys (schema 5 and older).
func (db *DB) InsertOldSubscriberForTest(ctx context.Context, email string) (int64, error) {
	var id int64
	err := db.InTx(ctx, func(tx *Tx) error {
		return tx.tx.QueryRowContext(ctx, "INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'active', 1, 1) RETURNING id", email).Scan(&id)
	})
	return id, err
}

// CountForTest counts a table's rows.
func (db *DB) CountForTest(ctx context.Context, table string) (int64, error) {
	return countRows(ctx, db.read, table)
}

// ExplainSearchForTest returns the query plan of a search, one line per
// step (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL).
func (db *DB) ExplainSearchForTest(ctx context.Context, q SearchQuery) (string, error) {
	sqlText, args, err := db.searchStatement(q)
	if err != nil {
		return "", err
	}
	return db.explain(ctx, sqlText, args...)
}

// ExplainClaimForTest returns the query plan of the claim of due outbox
// rows.
func (db *DB) ExplainClaimForTest(ctx context.Context, now time.Time, limit int) (string, error) {
	return db.explain(ctx, selectDue+db.e.skipLocked, ms(now), limit)
}

func (db *DB) explain(ctx context.Context, sqlText string, args ...any) (string, error) {
	prefix := "EXPLAIN "
	if db.e.name == "sqlite" {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.read.QueryContext(ctx, prefix+sqlText, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(out, "\n"), rows.Err()
}

// IntForTest runs a query that returns one integer.
func (db *DB) IntForTest(ctx context.Context, q string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

// StringForTest runs a query that returns one string.
func (db *DB) StringForTest(ctx context.Context, q string) (string, error) {
	var s string
	err := db.read.QueryRowContext(ctx, q).Scan(&s)
	return s, err
}

// StringForTest runs a query that returns one string, in the transaction.
func (tx *Tx) StringForTest(ctx context.Context, q string) (string, error) {
	var s string
	err := tx.tx.QueryRowContext(ctx, q).Scan(&s)
	return s, err
}
