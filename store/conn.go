package store

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
)

// pool and txConn wrap database/sql so that every statement in this package
// is written once, with SQLite's "?" and "?N" placeholders, and runs on
// either engine: the engine's rebind turns them into PostgreSQL's "$N"
// (cached per statement text). Arguments pass through args, which stores a
// Go bool as 0 or 1: both schemas keep flags in integer columns.
type pool struct {
	db *sql.DB
	e  *engine
}

func (p pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.e.bind(q), fixArgs(args)...)
}

func (p pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.e.bind(q), fixArgs(args)...)
}

func (p pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.e.bind(q), fixArgs(args)...)
}

func (p pool) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, p.e.bind(q))
}

// txConn is a transaction with the same rebinding as pool.
type txConn struct {
	tx *sql.Tx
	e  *engine
}

func (t txConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.e.bind(q), fixArgs(args)...)
}

func (t txConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.e.bind(q), fixArgs(args)...)
}

func (t txConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.e.bind(q), fixArgs(args)...)
}

func (t txConn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.e.bind(q))
}

func (t txConn) StmtContext(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	return t.tx.StmtContext(ctx, s)
}

// fixArgs stores bools as integers (in place: callers build args per call).
func fixArgs(args []any) []any {
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if b {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		}
	}
	return args
}

// binder rewrites placeholders for engines that number them ("$1"), and
// remembers each statement's rewrite: the same few hundred texts recur.
type binder struct {
	dollar bool
	cache  sync.Map // string -> string
}

func (b *binder) bind(q string) string {
	if !b.dollar {
		return q
	}
	if v, ok := b.cache.Load(q); ok {
		return v.(string)
	}
	out := dollarPlaceholders(q)
	b.cache.Store(q, out)
	return out
}

// dollarPlaceholders turns "?" into "$1", "$2"... in order, and "?N" into
// "$N", leaving quoted strings, quoted identifiers and comments alone.
func dollarPlaceholders(q string) string {
	out := make([]byte, 0, len(q)+16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			out = append(out, q[i:min(j+1, len(q))]...)
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := i
			for j < len(q) && q[j] != '\n' {
				j++
			}
			out = append(out, q[i:j]...)
			i = j - 1
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			out = append(out, '$')
			if j > i+1 {
				out = append(out, q[i+1:j]...)
			} else {
				n++
				out = strconv.AppendInt(out, int64(n), 10)
			}
			i = j - 1
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
