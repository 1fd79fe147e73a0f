package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL: several herald instances share one database (SPEC 6). Writes
// run at READ COMMITTED; flows that read a row to rewrite it lock it first
// (forUpdate), the outbox is claimed with SKIP LOCKED, and a transaction
// that loses a race (serialization failure, deadlock, a unique violation of
// "check, then insert") runs again.
func postgresEngine() *engine {
	return &engine{
		binder:         binder{dollar: true},
		name:           "postgres",
		migrations:     "migrations/postgres",
		lockMigrations: postgresMigrationLock,
		isRetryable:    postgresRetryable,
		retryConflicts: true,
		forUpdate:      " FOR UPDATE",
		deferFlush:     "SET LOCAL synchronous_commit = off",
		flushLog:       "SELECT txid_current()", // a transaction id makes the commit write, and wait for, the log
		skipLocked:     " FOR UPDATE SKIP LOCKED",
		// One lock for a digest batch's id range, rather than a row lock on
		// each of its subscribers: locking a row writes to it, and a run
		// reaches hundreds of thousands of them.
		digestLock: "SELECT pg_advisory_xact_lock(hashtext('herald-digest:' || current_schema()), CAST(? AS INTEGER))",
		// 13 parameters a row; PostgreSQL takes up to 65,535 a statement,
		// and fewer, larger statements mean fewer round trips.
		enqueueChunk: 1000,
		// Two: herald prepares a batch while the server stores another.
		writers: 2,
		listTables: `SELECT table_name FROM information_schema.tables
	WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
		afterCopy: postgresAfterCopy,
		q: engineQueries{
			markSentBulk: `UPDATE outbox SET state = 'sent', sent_at = ?1, updated_at = ?2, last_error = '', lease_until = NULL,
	message_id = m.value ->> 0, subject = m.value ->> 1
FROM jsonb_each(?3::jsonb) AS m WHERE outbox.id = m.key::bigint AND outbox.state = 'sending'`,
			deliveryDays:      fmt.Sprintf(deliveryDaysTemplate, "state"),
			translationGroups: fmt.Sprintf(translationGroupsTemplate, "string_agg(DISTINCT language, ',')"),
			search:            postgresSearch,
			enqueueArrays: `INSERT INTO outbox (idem_key, kind, subscriber_id, to_addr, release_id, alert_id,
	digest_run_id, payload, state, next_attempt_at, expires_at, created_at, updated_at)
SELECT k, kind, sub, addr, rel, alert, run, payload, 'queued', nxt, exp, $11, $11
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[],
	$8::text[], $9::bigint[], $10::bigint[]) AS t(k, kind, sub, addr, rel, alert, run, payload, nxt, exp)
ON CONFLICT (idem_key) DO NOTHING RETURNING idem_key`,
			insertSubscribersArrays: `INSERT INTO subscribers (email, email_key, status, topics, regions, language, cadence,
	timezone, updated_at, confirmed_at, unsubscribed_at, bounced_at, consent_at, consent_ip,
	consent_page, consent_prefs, notice_at, notice_seq, digest_since, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
	$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[],
	$16::text[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[])
RETURNING id, email`,
		},
	}
}

// connectTimeout bounds the first contact with the server at startup.
const connectTimeout = 10 * time.Second

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open PostgreSQL: %w", err)
	}
	// Every statement is planned for its own values. pgx prepares each
	// statement once per connection, and after five runs PostgreSQL may
	// switch to one generic plan that ignores the values: a search for an
	// Arabic word then read every match through a date index, 65 ms
	// instead of 6. The price is planning each run (well under a
	// millisecond). A DSN that sets plan_cache_mode itself keeps it.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	conn := stdlib.OpenDB(*cfg)
	conn.SetMaxOpenConns(16)
	conn.SetMaxIdleConns(8)
	conn.SetConnMaxIdleTime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := conn.PingContext(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: cannot reach PostgreSQL at %s: %w", redactDSN(dsn), unwrapConnect(err))
	}
	e := postgresEngine()
	return &DB{read: pool{conn, e}, write: pool{conn, e}, e: e, dsn: dsn}, nil
}

// identityTables are the tables whose id column draws from a sequence.
var identityTables = map[string]bool{"releases": true, "subscribers": true, "alerts": true, "digest_runs": true, "outbox": true,
	"events": true, "webhooks": true, "webhook_deliveries": true, "webhook_attempts": true, "websub_subscriptions": true, "websub_jobs": true,
	"sources": true, "source_runs": true, "staff": true, "api_tokens": true, "audit_log": true, "bounces": true,
	"media": true}

// postgresAfterCopy moves a table's id sequence past the ids copied in,
// so that the next row gets a new id.
func postgresAfterCopy(table string) []string {
	if !identityTables[table] {
		return nil
	}
	return []string{fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM %[1]s), false)`, table)}
}

// postgresMigrationLock takes a session advisory lock named after the
// schema, so that the first instance migrates and the others wait, then
// find nothing to do.
func postgresMigrationLock(ctx context.Context, db *DB) (func(), error) {
	c, err := db.write.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	const key = "SELECT hashtext('herald-migrate:' || current_schema())"
	if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(("+key+"))"); err != nil {
		c.Close()
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	return func() {
		_, _ = c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(("+key+"))")
		c.Close()
	}, nil
}

// postgresUnique reports SQLSTATE 23505 (unique_violation).
func postgresUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// postgresRetryable reports serialization_failure and deadlock_detected.
func postgresRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// postgresUnavailable reports a server that cannot be reached or is going
// away (connection errors, admin shutdown, too many connections).
func postgresUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "57", "53":
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ne) || errors.As(err, &ce) || errors.Is(err, sql.ErrConnDone)
}

// unwrapConnect shortens pgx's connect error to one line: its cause, once
// (pgx lists every address and TLS mode it tried, one per line).
func unwrapConnect(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		err = ce.Unwrap()
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if _, rest, ok := strings.Cut(msg, "): "); ok && strings.Contains(msg[:len(msg)-len(rest)], " (") {
		msg = rest // "host:port (ip): dial error: ..." -> "dial error: ..."
	}
	return errors.New(msg)
}
