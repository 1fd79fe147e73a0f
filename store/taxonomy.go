package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Term is a topic or a region. Parent is only used by regions ("" for a
// top-level region).
type Term struct {
	Slug   string
	Name   string
	Names  map[string]string // language -> localized name
	Parent string
}

// TermKind selects the topics or the regions table.
type TermKind string

// The two kinds of taxonomy terms.
const (
	Topics  TermKind = "topics"
	Regions TermKind = "regions"
)

func (k TermKind) table() (string, error) {
	switch k {
	case Topics, Regions:
		return string(k), nil
	}
	return "", fmt.Errorf("store: unknown term kind %q", k)
}

// Terms lists every term of a kind in display order.
func (db *DB) Terms(ctx context.Context, kind TermKind) ([]Term, error) {
	table, err := kind.table()
	if err != nil {
		return nil, err
	}
	parent := "''"
	if kind == Regions {
		parent = "parent"
	}
	q := "SELECT slug, name, names, " + parent + " FROM " + table + " ORDER BY position, name"
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", table, err)
	}
	defer rows.Close()
	var out []Term
	for rows.Next() {
		var t Term
		var names string
		if err := rows.Scan(&t.Slug, &t.Name, &names, &t.Parent); err != nil {
			return nil, fmt.Errorf("store: scan %s: %w", table, err)
		}
		if err := json.Unmarshal([]byte(names), &t.Names); err != nil {
			return nil, fmt.Errorf("store: %s %s names: %w", table, t.Slug, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", table, err)
	}
	return out, nil
}

// AddTerm inserts a term; ErrConflict when the slug exists. position orders
// terms for display (the built-in taxonomy's own order; API additions go last).
func (db *DB) AddTerm(ctx context.Context, kind TermKind, t Term) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.AddTerm(ctx, kind, t) })
}

// AddTerm inserts a term inside a transaction; see DB.AddTerm.
func (tx *Tx) AddTerm(ctx context.Context, kind TermKind, t Term) error {
	table, err := kind.table()
	if err != nil {
		return err
	}
	names, err := json.Marshal(nonNilNames(t.Names))
	if err != nil {
		return fmt.Errorf("store: encode names: %w", err)
	}
	now := time.Now().UnixMilli()
	pos := "(SELECT COALESCE(MAX(position), 0) + 1 FROM " + table + ")"
	var res error
	if kind == Regions {
		_, res = tx.tx.ExecContext(ctx,
			"INSERT INTO regions (slug, name, names, parent, position, created_at) VALUES (?, ?, ?, ?, "+pos+", ?)",
			t.Slug, t.Name, string(names), t.Parent, now)
	} else {
		_, res = tx.tx.ExecContext(ctx,
			"INSERT INTO topics (slug, name, names, position, created_at) VALUES (?, ?, ?, "+pos+", ?)",
			t.Slug, t.Name, string(names), now)
	}
	if isUnique(res) {
		return fmt.Errorf("store: add %s %q: %w", table, t.Slug, ErrConflict)
	}
	if res != nil {
		return fmt.Errorf("store: add %s %q: %w", table, t.Slug, res)
	}
	return nil
}

// CountTerms returns how many topics and regions exist (0, 0 on a fresh DB).
func (db *DB) CountTerms(ctx context.Context) (topics, regions int, err error) {
	err = db.read.QueryRowContext(ctx,
		"SELECT (SELECT COUNT(*) FROM topics), (SELECT COUNT(*) FROM regions)").Scan(&topics, &regions)
	if err != nil {
		return 0, 0, fmt.Errorf("store: count terms: %w", err)
	}
	return topics, regions, nil
}

func nonNilNames(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
