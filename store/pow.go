package store

import (
	"context"
	"fmt"
	"time"
)

// UseChallenge records a solved proof-of-work challenge (SPEC 11) and
// reports whether it was fresh: false when any instance already took it
// (a replay). Challenges past their expiry are forgotten on the way: they
// are refused for their expiry anyway.
func (db *DB) UseChallenge(ctx context.Context, challenge string, expires, now time.Time) (bool, error) {
	var fresh bool
	err := db.InTx(ctx, func(tx *Tx) error {
		fresh = false
		if _, err := tx.tx.ExecContext(ctx, "DELETE FROM pow_used WHERE expires_at < ?", ms(now)); err != nil {
			return err
		}
		res, err := tx.tx.ExecContext(ctx,
			"INSERT INTO pow_used (challenge, expires_at) VALUES (?, ?) ON CONFLICT (challenge) DO NOTHING", challenge, ms(expires))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: use challenge: %w", err)
	}
	return fresh, nil
}
