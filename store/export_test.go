package store

import "context"

// ExecForTest runs a statement in a transaction, for tests that need to
// reach a state no public method produces.
func (tx *Tx) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := tx.tx.ExecContext(ctx, q, args...)
	return err
}
