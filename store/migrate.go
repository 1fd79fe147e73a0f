package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Each engine has its own migration files with the same numbers and names:
// migrations/sqlite/NNNN_name.sql and migrations/postgres/NNNN_name.sql.
//
//go:embed migrations
var migrationFiles embed.FS

// migrationSteps are the parts of migrations that SQL cannot express,
// run in the migration's transaction right after its SQL file, by version.
// Like the files, a shipped step is never edited.
var migrationSteps = map[int]func(ctx context.Context, tx *sql.Tx, e *engine) error{
	6:  migrateAddressKeys,
	13: migrateSearchText,
	19: migrateSearchFacets,
}

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads dir's NNNN_name.sql files in version order. Two files
// with the same number are an error (one would otherwise be skipped).
func loadMigrations(files fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %q: name must be NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s and %s have the same number %04d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(files, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: no migrations in %s", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`

// ErrNewerSchema means the database was migrated by a newer herald.
var ErrNewerSchema = fmt.Errorf("use a newer herald")

// Migrate applies every migration newer than the database, each in its own
// transaction with its version recorded, under the engine's migration lock
// (the first instance to start migrates, the others then find nothing to
// do), and refuses a database written by a newer herald. Running it again is
// a no-op.
func (db *DB) Migrate(ctx context.Context) error {
	migs, err := loadMigrations(db.migrationFS(), db.e.migrations)
	if err != nil {
		return err
	}
	unlock, err := db.e.lockMigrations(ctx, db)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := db.write.db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	latest := migs[len(migs)-1].version
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("store: the database's schema version %d is newer than this herald's (%d): %w", current, latest, ErrNewerSchema)
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	// Every migration not yet applied runs, in order, even one numbered
	// below the highest applied (branches developed side by side).
	var pending []migration
	for _, m := range migs {
		if !applied[m.version] {
			pending = append(pending, m)
		}
	}
	if len(pending) > 0 {
		if err := db.refuseWhileOthersRun(ctx, current, latest); err != nil {
			return err
		}
	}
	for _, m := range pending {
		if err := db.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) appliedMigrations(ctx context.Context) (map[int]bool, error) {
	rows, err := db.write.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("store: read schema versions: %w", err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: read schema versions: %w", err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

// instancesSchema is the first schema version with the instances table.
const instancesSchema = 4

// liveWindow is how recent a heartbeat must be for its instance to count
// as running.
const liveWindow = 30 * time.Second

// refuseWhileOthersRun stops a migration while instances of the current
// schema still run on the database (SPEC 6: never while another version's
// instance is writing): they would write rows the new schema does not
// expect, or fail on its changes.
func (db *DB) refuseWhileOthersRun(ctx context.Context, current, latest int) error {
	if current < instancesSchema {
		return nil
	}
	live, err := db.Instances(ctx, time.Now().Add(-liveWindow))
	if err != nil || len(live) == 0 {
		return err
	}
	in := live[0]
	return fmt.Errorf("store: %d herald instance(s) of schema version %d still run on this database (%s, pid %d, herald %s): stop them before this herald migrates it to version %d",
		len(live), current, in.Host, in.PID, in.Version, latest)
}

func (db *DB) migrationFS() fs.FS {
	if db.files != nil {
		return db.files
	}
	return migrationFiles
}

func (db *DB) applyMigration(ctx context.Context, m migration) error {
	tx, err := db.write.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin migration %04d: %w", m.version, err)
	}
	defer tx.Rollback()
	var done int
	if err := tx.QueryRowContext(ctx, db.e.bind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&done); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if done > 0 {
		return nil // another process applied it meanwhile
	}
	if err := rawExec(ctx, tx, m.sql); err != nil {
		return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
	}
	if step := migrationSteps[m.version]; step != nil {
		if err := step(ctx, tx, db.e); err != nil {
			return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	_, err = tx.ExecContext(ctx, db.e.bind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store: record migration %04d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit migration %04d: %w", m.version, err)
	}
	return nil
}

// SchemaVersion returns the highest applied migration (0 for an empty
// database).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// LatestSchema is the schema version this herald migrates to.
func (db *DB) LatestSchema() (int, error) {
	migs, err := loadMigrations(db.migrationFS(), db.e.migrations)
	if err != nil {
		return 0, err
	}
	return migs[len(migs)-1].version, nil
}

// SchemaVersionIfAny is SchemaVersion, 0 for a database herald never
// migrated (no schema_migrations table yet).
func (db *DB) SchemaVersionIfAny(ctx context.Context) (int, error) {
	tables, err := db.Tables(ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range tables {
		if t == "schema_migrations" {
			return db.SchemaVersion(ctx)
		}
	}
	return 0, nil
}

// IntegrityCheck checks the database's pages (SQLite's quick_check) and
// says what it found; PostgreSQL guards its own pages, so there it only
// confirms that every table of the schema can be read.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	if db.e.name == "sqlite" {
		rows, err := db.read.QueryContext(ctx, "PRAGMA quick_check")
		if err != nil {
			return "", fmt.Errorf("store: quick_check: %w", err)
		}
		defer rows.Close()
		var problems []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return "", fmt.Errorf("store: quick_check: %w", err)
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("store: quick_check: %w", err)
		}
		if len(problems) > 0 {
			return "", fmt.Errorf("quick_check: %s", strings.Join(problems[:min(3, len(problems))], "; "))
		}
		return "quick_check ok", nil
	}
	tables, err := db.Tables(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range tables {
		if _, err := countRows(ctx, db.read, t); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d tables readable", len(tables)), nil
}
