package store

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadMigrations_RefusesTwoFilesWithOneNumber(t *testing.T) {
	files := fstest.MapFS{
		"m/0001_init.sql":    {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"m/0002_more.sql":    {Data: []byte("CREATE TABLE b (x INTEGER);")},
		"m/0002_other.sql":   {Data: []byte("CREATE TABLE c (x INTEGER);")},
		"m/README.txt":       {Data: []byte("not a migration")},
		"ok/0001_init.sql":   {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"ok/0010_later.sql":  {Data: []byte("CREATE TABLE d (x INTEGER);")},
		"ok/0002_second.sql": {Data: []byte("CREATE TABLE b (x INTEGER);")},
		"bad/1_x.sql":        {Data: []byte("")},
		"bad/init.sql":       {Data: []byte("")},
	}
	_, err := loadMigrations(files, "m")
	if err == nil || !strings.Contains(err.Error(), "0002_more.sql and 0002_other.sql have the same number") {
		t.Fatalf("err = %v, want a same-number error naming both files", err)
	}
	migs, err := loadMigrations(files, "ok")
	if err != nil || len(migs) != 3 || migs[0].version != 1 || migs[1].version != 2 || migs[2].version != 10 {
		t.Fatalf("migrations = %+v, %v; want 1, 2, 10 in order", migs, err)
	}
	if _, err := loadMigrations(files, "bad"); err == nil {
		t.Fatal("a file not named NNNN_name.sql was accepted")
	}
}

// Both engines have the same migrations, by number and name: a table added
// to one engine only would break db copy and half the deployments.
func TestMigrations_SameOnBothEngines(t *testing.T) {
	lite, err := loadMigrations(migrationFiles, sqliteEngine().migrations)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(migrationFiles, postgresEngine().migrations)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].version != pg[i].version || lite[i].name != pg[i].name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].version, lite[i].name, pg[i].version, pg[i].name)
		}
	}
}

func TestDollarPlaceholders(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"UPDATE t SET a = ?2 WHERE id = ?1 OR b = ?1", "UPDATE t SET a = $2 WHERE id = $1 OR b = $1"},
		{"SELECT '?', \"q?\" FROM t WHERE a = ? -- why?\nAND b = ?", "SELECT '?', \"q?\" FROM t WHERE a = $1 -- why?\nAND b = $2"},
		{"SELECT 1", "SELECT 1"},
	} {
		if got := dollarPlaceholders(tt.in); got != tt.want {
			t.Errorf("dollarPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A newer herald does not migrate while an instance of the current schema
// still beats; once it is gone, it does.
func TestMigrate_WaitsForOtherInstancesToStop(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := db.SchemaVersion(ctx)
	next := fstest.MapFS{}
	dir := db.e.migrations
	entries, _ := fs.ReadDir(migrationFiles, dir)
	for _, e := range entries {
		b, _ := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		next[dir+"/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	next[dir+"/0999_next.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE next_thing (x BIGINT);")}
	db.files = next
	old := Instance{ID: "old-1", Host: "web-2", PID: 42, Version: "0.1.0", SchemaVersion: v, StartedAt: time.Now()}
	if err := db.Heartbeat(ctx, old, time.Now()); err != nil {
		t.Fatal(err)
	}
	err = db.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "stop them") || !strings.Contains(err.Error(), "web-2") {
		t.Fatalf("migrate beside a running instance: %v", err)
	}
	if got, _ := db.SchemaVersion(ctx); got != v {
		t.Fatalf("schema moved to %d while another instance ran", got)
	}
	if err := db.RemoveInstance(ctx, "old-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.SchemaVersion(ctx); got != 999 {
		t.Fatalf("schema = %d after the others stopped, want 999", got)
	}
}

// A migration numbered below the highest applied one still runs (branches
// developed side by side land in any order).
func TestMigrate_AppliesAGapBelowTheHighest(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, "DROP TABLE previews"); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = 5")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.PutPreview(ctx, Preview{ID: "p", Session: "s", CreatedAt: time.Now()}, time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("migration 0005 was not applied again: %v", err)
	}
}

// PostgreSQL's array insert of subscribers names the same columns as the
// one-row insert, in the same order (a column added to one and not the
// other would be left empty on imports only).
func TestInsertSubscribersArrays_SameColumns(t *testing.T) {
	cols := func(q string) string {
		a := strings.Index(q, "(")
		b := strings.Index(q, ")")
		return strings.Join(strings.Fields(q[a+1:b]), " ")
	}
	if one, many := cols(insertSubscriber), cols(postgresEngine().q.insertSubscribersArrays); one != many {
		t.Fatalf("columns differ:\n one-row: %s\n arrays:  %s", one, many)
	}
	n := strings.Count(insertSubscriber, "?")
	if got := strings.Count(postgresEngine().q.insertSubscribersArrays, "[]"); got != n {
		t.Fatalf("%d arrays for %d columns", got, n)
	}
}
