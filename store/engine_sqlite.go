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

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite: the embedded default. One file; WAL so that readers never block
// the writer; a single write connection with IMMEDIATE transactions, so that
// writers inside one process queue in Go and writers in other processes (the
// CLI next to a running daemon) wait on the busy timeout instead of failing.
func sqliteEngine() *engine {
	return &engine{
		name:           "sqlite",
		migrations:     "migrations/sqlite",
		lockMigrations: func(context.Context, *DB) (func(), error) { return func() {}, nil }, // IMMEDIATE transactions already serialize
		isRetryable:    func(error) bool { return false },
		blobFiles:      true,
		enqueueChunk:   64, // one statement per row costs more than the row itself
		writers:        1,  // one writer at a time: a second would only wait
		// Ordinary tables only: a full-text index (virtual table) and its
		// shadow tables are rebuilt from the rows, not data of their own.
		listTables: `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
		// AUTOINCREMENT keeps its counter past the largest id inserted.
		// PostgreSQL's outbox has no foreign key to subscribers (migration
		// 0018): a message queued for a subscriber erased at that moment
		// keeps their id there. Checked at commit, once such ids are gone.
		beforeCopy: []string{"PRAGMA defer_foreign_keys = ON"},
		afterCopy: func(table string) []string {
			if table != "outbox" {
				return nil
			}
			return []string{"UPDATE outbox SET subscriber_id = NULL WHERE subscriber_id NOT IN (SELECT id FROM subscribers)"}
		},
		q: engineQueries{
			// +state: look rows up by id, not by the state index.
			markSentBulk: `UPDATE outbox SET state = 'sent', sent_at = ?1, updated_at = ?2, last_error = '', lease_until = NULL,
	message_id = json_extract(m.value, '$[0]'), subject = json_extract(m.value, '$[1]')
FROM json_each(?3) AS m WHERE outbox.id = CAST(m.key AS INTEGER) AND +outbox.state = 'sending'`,
			deliveryDays:      fmt.Sprintf(deliveryDaysTemplate, "+state"),
			translationGroups: fmt.Sprintf(translationGroupsTemplate, "GROUP_CONCAT(DISTINCT language)"),
			search:            sqliteSearch,
		},
	}
}

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
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
	write, err := sql.Open("sqlite", sqliteConnString(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", sqliteConnString(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	read.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)*2))
	e := sqliteEngine()
	return &DB{read: pool{read, e}, write: pool{write, e}, e: e, path: path, dsn: dsn}, nil
}

// sqliteConnString builds the driver DSN: WAL so that readers never block
// the writer, a busy timeout so that the CLI and the daemon can share the
// file, foreign keys on, temporary storage in memory, and IMMEDIATE write transactions so that a
// transaction that reads then writes can never fail half-way with
// SQLITE_BUSY.
func sqliteConnString(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Temporary files in memory: a subscriber insert checks two unique
	// indexes (email, and the case-insensitive email_key), which makes
	// SQLite keep a statement journal per row; on disk that is a write
	// system call per row and made imports three times slower.
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// sqliteUnique reports SQLite's UNIQUE and PRIMARY KEY constraint codes.
func sqliteUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// sqliteUnavailable reports a database that is locked for too long, full,
// read-only or failing to read or write its file.
func sqliteUnavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code, without the extended bits
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}
