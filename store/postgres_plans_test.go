package store_test

import (
	"context"
	"testing"

	"herald/store"
	"herald/store/storetest"
)

// pgx prepares each statement once per connection; after five runs
// PostgreSQL may plan it once for any values, and a search then reads every
// match of a word through the wrong index. herald's connections plan every
// run for its values, unless the DSN says otherwise.
func TestPostgres_PlansEachRunForItsValues(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.Postgres(t)
	for _, c := range []struct{ dsn, want string }{
		{dsn, "force_custom_plan"},
		{dsn + "&plan_cache_mode=auto", "auto"},
	} {
		db, err := store.Open(ctx, c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.StringForTest(ctx, "SHOW plan_cache_mode")
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("plan_cache_mode with %s = %q, want %q", c.dsn, got, c.want)
		}
	}
}

// A ranked search tests the search_vector of thousands of rows: it is kept
// in the row, compressed with lz4 (migration 0020), not fetched from the
// TOAST table and decompressed with pglz for each.
func TestPostgres_SearchVectorKeptInRow(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.StringForTest(ctx, `SELECT a.attstorage::text || coalesce(nullif(a.attcompression::text, ''), '-')
		FROM pg_attribute a WHERE a.attrelid = 'releases'::regclass AND a.attname = 'search_vector'`)
	if err != nil {
		t.Fatal(err)
	}
	if got != "ml" {
		t.Errorf("search_vector storage and compression = %q, want %q (main, lz4)", got, "ml")
	}
}
