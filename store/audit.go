package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one row of the audit log (SPEC 7.3). Details is a JSON
// object.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Actor     string
	ActorKind string
	Action    string
	Target    string
	IP        string
	Details   string
}

// AppendAudit adds an entry and returns its id. There is no method that
// changes or deletes one, and the table's triggers refuse both.
func (db *DB) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	if e.Details == "" {
		e.Details = "{}"
	}
	var id int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, actor_kind, action, target, ip, details) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ms(e.At), e.Actor, e.ActorKind, e.Action, e.Target, e.IP, e.Details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: append audit: %w", err)
	}
	return id, nil
}

// AuditQuery filters the audit log. Action ending in ".*" matches a
// prefix ("release.*"). BeforeID pages: entries with a smaller id.
type AuditQuery struct {
	Actor    string
	Action   string
	Since    time.Time
	Until    time.Time
	BeforeID int64
	Limit    int
}

// ListAudit lists entries newest first.
func (db *DB) ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	var where []string
	var args []any
	if q.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, q.Actor)
	}
	if prefix, ok := strings.CutSuffix(q.Action, "*"); ok {
		where, args = append(where, "substr(action, 1, ?) = ?"), append(args, len(prefix), prefix)
	} else if q.Action != "" {
		where, args = append(where, "action = ?"), append(args, q.Action)
	}
	if !q.Until.IsZero() {
		where, args = append(where, "at <= ?"), append(args, ms(q.Until))
	}
	rows, err := db.logPage(ctx, "SELECT id, at, actor, actor_kind, action, target, ip, details FROM audit_log",
		where, args, logPageQuery{Since: q.Since, BeforeID: q.BeforeID, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorKind, &e.Action, &e.Target, &e.IP, &e.Details); err != nil {
			return nil, fmt.Errorf("store: scan audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// logPageQuery is what every newest-first log (audit, bounces) is paged by.
type logPageQuery struct {
	Since    time.Time // entries at or after it; zero: all
	BeforeID int64     // the next page: ids below it
	Limit    int
}

// logPage runs selectFrom (a SELECT of a table with id and at columns)
// with the conditions where (their args), q's, newest first.
func (db *DB) logPage(ctx context.Context, selectFrom string, where []string, args []any, q logPageQuery) (*sql.Rows, error) {
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, ms(q.Since))
	}
	if q.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, q.BeforeID)
	}
	if len(where) > 0 {
		selectFrom += " WHERE " + strings.Join(where, " AND ")
	}
	selectFrom += " ORDER BY id DESC"
	if q.Limit > 0 {
		selectFrom += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return db.read.QueryContext(ctx, selectFrom, args...)
}
