// Package store owns herald's database: opening it, migrating it, and every
// SQL statement herald runs. Other packages call its methods and never write
// SQL themselves, so that a PostgreSQL implementation can later sit beside
// this SQLite one. It imports only the standard library and the driver.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// Sentinel errors returned by store methods; callers test them with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value (a slug, an address) is already taken.
	ErrConflict = errors.New("conflict")
)

// DB is herald's database. Reads go through a pool of connections; writes go
// through a single connection that begins IMMEDIATE transactions, so writers
// inside one process queue in Go and writers in other processes (the CLI next
// to a running daemon) wait on SQLite's busy timeout instead of failing.
type DB struct {
	read  *sql.DB
	write *sql.DB
	path  string
	stmts sync.Map // query -> *sql.Stmt prepared on the write pool (hot paths, see writeStmt)
}

// busyTimeout is how long a write waits for another process's write to end.
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the SQLite database at dsn, which is a file
// path or a "file:" URI, and applies pending migrations. A postgres:// DSN is
// refused for now with a clear error.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil, errors.New("store: PostgreSQL is not supported by this version of herald; use a SQLite file path")
	}
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	// The database holds personal data: create it readable by herald only
	// (SQLite gives its -wal and -shm files the same mode).
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	write, err := sql.Open("sqlite", connString(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", connString(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	read.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)*2))
	db := &DB{read: read, write: write, path: path}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// connString builds the driver DSN: WAL so that readers never block the
// writer, a busy timeout so that the CLI and the daemon can share the file,
// foreign keys on, and IMMEDIATE write transactions so that a transaction that
// reads then writes can never fail half-way with SQLITE_BUSY.
func connString(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Ping checks that the database answers a query (GET /healthz).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Tx is a write transaction. Methods that must commit together with others
// (a state change and the mail it causes) take a *Tx.
type Tx struct {
	tx *sql.Tx
}

// InTx runs fn in one IMMEDIATE write transaction, committing when fn returns
// nil and rolling back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Tx{tx: tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Version returns a change counter ("releases" or "taxonomy") that grows on
// every write to those tables, from any process. Caches compare it.
func (db *DB) Version(ctx context.Context, name string) (int64, error) {
	var v int64
	err := db.read.QueryRowContext(ctx, "SELECT version FROM versions WHERE name = ?", name).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: version %s: %w", name, err)
	}
	return v, nil
}

// ms converts a time to the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS stores a zero time as NULL.
func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromNullMS reads a nullable time; NULL becomes the zero time.
func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
