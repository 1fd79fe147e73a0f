// Package store owns herald's database: opening it, migrating it, and every
// SQL statement herald runs, on SQLite (embedded, the default) and on
// PostgreSQL (several instances sharing one database, SPEC 6). Other
// packages call its methods and never write SQL themselves. Statements are
// written once in plain SQL that both engines run; what differs lives in
// engine_sqlite.go and engine_postgres.go and in each engine's migrations.
// It imports only the standard library and the drivers.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors returned by store methods; callers test them with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value (a slug, an address) is already taken.
	ErrConflict = errors.New("conflict")
)

// DB is herald's database, on SQLite (the embedded default) or PostgreSQL
// (several instances, SPEC 6). Reads go through a pool of connections;
// writes go through InTx. On SQLite the write pool is a single connection
// that begins IMMEDIATE transactions; on PostgreSQL both pools are one.
type DB struct {
	read  pool
	write pool
	e     *engine
	path  string // the SQLite file; "" on PostgreSQL
	dsn   string
	// mediaDir holds media files on SQLite (media_blobs.go).
	mediaDir string
	stmts    sync.Map // query -> *sql.Stmt prepared on the write pool (hot paths, see writeStmt)
	files    fs.FS    // migrations; nil: the embedded ones (tests replace them)
	// lastWrite is when Ping last wrote successfully (Unix nanoseconds).
	lastWrite atomic.Int64
}

// busyTimeout is how long a SQLite write waits for another process's write.
const busyTimeout = 10 * time.Second

// Open opens the database named by dsn, a SQLite file path (created if
// needed), a "file:" URI, or a postgres:// URL, and applies pending
// migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, err := OpenNoMigrate(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenNoMigrate opens the database without touching its schema (db check,
// db copy's source).
func OpenNoMigrate(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// redactDSN hides the password of a database URL.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Path is the SQLite database file's path ("" on PostgreSQL).
func (db *DB) Path() string { return db.path }

// Close closes the connection pools.
func (db *DB) Close() error {
	if db.read.db == db.write.db {
		return db.write.db.Close()
	}
	return errors.Join(db.read.db.Close(), db.write.db.Close())
}

// Ping checks that the database answers a query (GET /healthz).
//
// It also writes (SPEC 12: a database that cannot be written, disk full or
// read-only, is not healthy), at most once every writeCheckEvery: a load
// balancer asking every second costs one small write every few seconds.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Reachable(ctx); err != nil {
		return err
	}
	now := time.Now()
	if last := db.lastWrite.Load(); last != 0 && now.Sub(time.Unix(0, last)) < writeCheckEvery {
		return nil
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO settings (name, value, created_at) VALUES ('health', ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, now.UTC().Format(time.RFC3339Nano), ms(now))
	if err != nil {
		return fmt.Errorf("store: cannot write: %w", err)
	}
	db.lastWrite.Store(now.UnixNano())
	return nil
}

// Reachable checks that the database answers a read (herald db check,
// which must work on a database not yet migrated).
func (db *DB) Reachable(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// writeCheckEvery spaces Ping's write checks.
const writeCheckEvery = 5 * time.Second

// Tx is a write transaction. Methods that must commit together with others
// (a state change and the mail it causes) take a *Tx.
type Tx struct {
	tx txConn
	e  *engine
	db *DB
}

// DeferFlush lets this transaction's commit return before its log
// reaches the disk (PostgreSQL; SQLite's WAL mode at synchronous=NORMAL
// does that for every transaction). For the batches of a long run (an
// import, an alert's or a digest run's fan-out) whose end the caller
// records in a later ordinary transaction: that commit flushes the log up
// to itself, every batch before it included, so a crash of the database
// loses at most batches of a run not yet reported finished, which running
// it again queues (their idempotency keys make it safe). A flush per batch
// cost PostgreSQL a third of a million-subscriber alert.
func (tx *Tx) DeferFlush(ctx context.Context) error {
	if tx.e.deferFlush == "" {
		return nil
	}
	if _, err := tx.tx.ExecContext(ctx, tx.e.deferFlush); err != nil {
		return fmt.Errorf("store: defer flush: %w", err)
	}
	return nil
}

// FlushLog returns once every transaction committed before it, DeferFlush
// ones included, is on disk: an ordinary commit that writes a log record
// (taking a transaction id is enough) waits for the log up to itself.
func (db *DB) FlushLog(ctx context.Context) error {
	if db.e.flushLog == "" {
		return nil
	}
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, db.e.flushLog)
		return err
	})
}

// maxTxAttempts bounds how often InTx runs a transaction that lost a race.
const maxTxAttempts = 10

// InTx runs fn in one write transaction, committing when fn returns nil and
// rolling back otherwise. On PostgreSQL a transaction that loses a race with
// another writer (serialization failure, deadlock, or a unique violation
// that a re-read would avoid) runs again from the start, so fn must be safe
// to run more than once: it changes nothing outside the transaction but the
// values it returns, which it sets afresh on each run.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !db.retryable(err) || ctx.Err() != nil {
			return err
		}
		// Growing, jittered pauses: writers that collided do not all come
		// back at the same instant and collide again.
		time.Sleep(time.Duration(attempt*attempt)*time.Millisecond + rand.N(time.Duration(2*attempt)*time.Millisecond))
	}
}

func (db *DB) retryable(err error) bool {
	return db.e.isRetryable(err) || (db.e.retryConflicts && (errors.Is(err, ErrConflict) || isUnique(err)))
}

func (db *DB) inTxOnce(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.write.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Tx{tx: txConn{tx, db.e}, e: db.e, db: db}); err != nil {
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

// scanIDs reads a one-column result of ids (a query's rows and error as
// they come) and closes it.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
