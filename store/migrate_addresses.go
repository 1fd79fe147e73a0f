package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// AddressKey is the form in which two subscriber addresses are compared
// (SPEC 11: unique case-insensitively): the normalized address (domain
// already in lower-case ASCII) lower-cased as a whole. The subscribers
// package normalizes; the store keeps the key in subscribers.email_key
// under a unique index.
func AddressKey(normalized string) string { return strings.ToLower(normalized) }

// migrateAddressKeys is migration 0006's step in Go. The SQL set email_key
// to lower(email), right for ASCII addresses; the few with other
// characters (a Unicode domain stored before domains were kept in ASCII, a
// non-ASCII local part) get their domain converted to ASCII with IDNA, in
// the key and, when no other row already has that exact address, in the
// stored address too. A domain that IDNA refuses keeps its lower-cased form.
// This conversion is frozen here with the migration, on purpose: it must
// not change when the subscribers package's rules do.
func migrateAddressKeys(ctx context.Context, tx *sql.Tx, e *engine) error {
	type row struct {
		id    int64
		email string
	}
	var todo []row
	rows, err := tx.QueryContext(ctx, "SELECT id, email FROM subscribers ORDER BY id")
	if err != nil {
		return fmt.Errorf("read addresses: %w", err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.email); err != nil {
			rows.Close()
			return fmt.Errorf("read addresses: %w", err)
		}
		if !isASCII(r.email) {
			todo = append(todo, r)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read addresses: %w", err)
	}
	for _, r := range todo {
		email := r.email
		if at := strings.LastIndexByte(email, '@'); at > 0 {
			if d, err := idna.Lookup.ToASCII(email[at+1:]); err == nil && d != "" {
				email = email[:at+1] + strings.ToLower(d)
			}
		}
		var taken int
		if err := tx.QueryRowContext(ctx, e.bind("SELECT COUNT(*) FROM subscribers WHERE email = ? AND id <> ?"), email, r.id).Scan(&taken); err != nil {
			return fmt.Errorf("address of subscriber %d: %w", r.id, err)
		}
		if taken > 0 {
			email = r.email // the other row keeps it; this one is reported by 0007
		}
		if _, err := tx.ExecContext(ctx, e.bind("UPDATE subscribers SET email = ?, email_key = ? WHERE id = ?"),
			email, AddressKey(asciiKeyDomain(email)), r.id); err != nil {
			return fmt.Errorf("address of subscriber %d: %w", r.id, err)
		}
	}
	return nil
}

// asciiKeyDomain converts the domain of an address whose stored form kept
// a Unicode domain (it collided), so that its key still equals the other's.
func asciiKeyDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || isASCII(email[at+1:]) {
		return email
	}
	if d, err := idna.Lookup.ToASCII(email[at+1:]); err == nil && d != "" {
		return email[:at+1] + d
	}
	return email
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// AddressCollision is a subscriber whose address equals an older
// subscriber's once case is ignored (or the domain converted to ASCII):
// rows that existed before addresses were compared that way (migrations
// 0006-0007). Both stay, unmerged, until staff erase one; lookups by
// address find the older (DupOf) only.
type AddressCollision struct {
	ID    int64
	DupOf int64
}

// AddressCollisions lists the subscribers whose addresses collide with an
// older one's (see AddressCollision), oldest first; `herald db check`
// reports them and serve logs them at start.
func (db *DB) AddressCollisions(ctx context.Context) ([]AddressCollision, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT id, email_dup_of FROM subscribers WHERE email_dup_of IS NOT NULL ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: address collisions: %w", err)
	}
	defer rows.Close()
	out := []AddressCollision{}
	for rows.Next() {
		var c AddressCollision
		if err := rows.Scan(&c.ID, &c.DupOf); err != nil {
			return nil, fmt.Errorf("store: address collisions: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
