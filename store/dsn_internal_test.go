package store

import (
	"path/filepath"
	"testing"
)

// testDSN is a fresh SQLite file for this package's internal tests, whose
// logic does not depend on the engine (storetest imports store, so it
// cannot be used here; the store_test suite runs on both engines).
func testDSN(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "herald.db")
}
