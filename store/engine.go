package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// engine is what differs between SQLite and PostgreSQL, gathered in one
// place per engine (engine_sqlite.go, engine_postgres.go): how to open and
// lock the database, its migrations, how it reports errors, and the few
// statements that cannot be written once for both. Every other statement in
// this package is plain SQL that both engines run as written.
type engine struct {
	binder
	name string // "sqlite" or "postgres"

	// migrations is the folder of this engine's migration files.
	migrations string
	// lockMigrations serializes migrations across processes and returns
	// the function that releases the lock.
	lockMigrations func(ctx context.Context, db *DB) (unlock func(), err error)

	// isRetryable reports an error after which the whole transaction may
	// simply run again (a serialization failure, a deadlock).
	isRetryable func(error) bool
	// retryConflicts makes InTx run a transaction again after a unique
	// violation: with concurrent writers, "check, then insert" can lose a
	// race that the closure, run again, resolves (it then sees the row).
	retryConflicts bool

	// forUpdate ends a SELECT that reads a row in order to rewrite it:
	// a row lock where the engine has them, nothing where every write
	// transaction is already exclusive (SQLite).
	forUpdate string
	// deferFlush, run first in a transaction, lets its commit return
	// before the write-ahead log reaches the disk (see Tx.DeferFlush).
	deferFlush string
	// flushLog, committed as a transaction of its own, returns once the
	// log is on disk up to it (see DB.FlushLog); "" where every commit is.
	flushLog string
	// digestLock, run in a digest batch's transaction before it reads its
	// subscribers (one ?: the batch's first id), makes digest batches of
	// one id range, of every run and instance, take turns (a lock held
	// until the transaction ends); "" where write transactions are
	// exclusive anyway (SQLite).
	digestLock string
	// skipLocked ends the outbox claim's SELECT: rows that another
	// instance is claiming are passed over, not waited for.
	skipLocked string

	// blobFiles keeps the bytes of media in files rather than in the
	// media_blobs table (see media_blobs.go).
	blobFiles bool

	// writers is how many write transactions of one bulk job (an alert's
	// fan-out) usefully run at once: one where writes are serialized
	// (SQLite), more where the server runs them side by side.
	writers int

	// enqueueChunk is how many outbox rows one INSERT statement carries.
	enqueueChunk int

	// listTables lists the schema's tables by name.
	listTables string
	// beforeCopy are statements run first in the transaction that copies
	// a database into this one.
	beforeCopy []string
	// afterCopy returns the statements that follow rows copied into table
	// with their ids (moving an id sequence past them).
	afterCopy func(table string) []string

	q engineQueries
}

// engineQueries are the statements whose text differs by engine.
type engineQueries struct {
	// markSentBulk marks many rows sent: ?1 sent_at, ?2 updated_at,
	// ?3 a JSON object id -> [Message-ID, subject], walked once and joined by id.
	markSentBulk string
	// deliveryDays: see stats.go.
	deliveryDays string
	// translationGroups: see stats.go.
	translationGroups string
	// enqueueArrays, when set, queues outbox rows from arrays, one per
	// column: $1 keys, $2 kinds, $3 subscriber ids, $4 addresses, $5
	// release ids, $6 alert ids, $7 digest run ids, $8 payloads, $9 next
	// attempts, $10 expiries, $11 now; it returns the new rows' keys.
	// Engines without arrays (SQLite) use multi-row VALUES instead.
	enqueueArrays string
	// insertSubscribersArrays, when set, inserts subscribers from arrays
	// in the column order of insertSubscriber and returns (id, email).
	// A test holds its columns to insertSubscriber's.
	insertSubscribersArrays string
	// search: full-text search of releases (search.go).
	search searchSQL
}

// engineFor picks the engine of a DSN: postgres:// and postgresql:// URLs
// are PostgreSQL, anything else is a SQLite file.
func engineFor(dsn string) *engine {
	if IsPostgres(dsn) {
		return postgresEngine()
	}
	return sqliteEngine()
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Writers is how many write transactions of one bulk job usefully run at
// once on this database: 1 on SQLite, whose writes take turns.
func (db *DB) Writers() int { return db.e.writers }

// Engine names the database engine: "sqlite" or "postgres".
func (db *DB) Engine() string { return db.e.name }

// ErrUnavailable marks errors after which the database may answer again by
// itself: the server cannot be reached, the disk is full or read-only, a
// lock is held too long. Requests get 503, workers pause and retry.
var ErrUnavailable = errors.New("the database is unavailable")

// IsUnavailable reports whether err is such an error, by the error codes of
// either engine.
func IsUnavailable(err error) bool {
	return err != nil && (errors.Is(err, ErrUnavailable) || sqliteUnavailable(err) || postgresUnavailable(err))
}

// isUnique reports a UNIQUE or PRIMARY KEY violation, by the error code of
// whichever engine produced err (never by its text).
func isUnique(err error) bool {
	return err != nil && (sqliteUnique(err) || postgresUnique(err))
}

// rawExec runs q without rebinding (migration files may contain "?" in
// comments, and PostgreSQL's function bodies "$$").
func rawExec(ctx context.Context, tx *sql.Tx, q string) error {
	_, err := tx.ExecContext(ctx, q)
	return err
}
