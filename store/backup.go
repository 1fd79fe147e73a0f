package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// ErrNotSQLite is returned by the SQLite-only operations (backup) on
// PostgreSQL, which has pg_dump.
var ErrNotSQLite = errors.New("only a SQLite database can be backed up by herald: use pg_dump")

// BackupTo writes a consistent copy of the SQLite database into path, which
// must not exist (it is created 0600): VACUUM INTO reads one snapshot, so
// writers may go on meanwhile. The copy is synced to disk; a failed backup
// leaves no file behind.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.e.name != "sqlite" {
		return ErrNotSQLite
	}
	// Reserve the name (0600, failing when it exists): VACUUM INTO accepts
	// an empty file and keeps its mode.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	f.Close()
	conn, err := sql.Open("sqlite", sqliteConnString(db.path, false))
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup into %s: %w", path, err)
	}
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		err = errors.Join(f.Sync(), f.Close())
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup into %s: %w", path, err)
	}
	return nil
}

// BackupFile is what CheckBackup found in a file.
type BackupFile struct {
	SchemaVersion int // the file's schema version
	Latest        int // this herald's schema version
}

// ErrNotHeraldDB describes a file that cannot be restored: not a SQLite
// database, or not one of herald's.
var ErrNotHeraldDB = errors.New("not a herald database")

// CheckBackup checks, without changing it, that the file at path is a
// herald SQLite database this herald can run: SQLite's integrity_check
// passes, it has herald's schema_migrations table, and its schema is not
// newer than this herald's.
func CheckBackup(ctx context.Context, path string) (BackupFile, error) {
	var out BackupFile
	st, err := os.Stat(path)
	if err != nil {
		return out, fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return out, fmt.Errorf("%s: %w (not a regular file)", path, ErrNotHeraldDB)
	}
	migs, err := loadMigrations(migrationFiles, sqliteEngine().migrations)
	if err != nil {
		return out, err
	}
	out.Latest = migs[len(migs)-1].version
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return out, fmt.Errorf("%s: %w", path, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return out, fmt.Errorf("%s: %w (%v)", path, ErrNotHeraldDB, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return out, fmt.Errorf("%s: integrity_check: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return out, fmt.Errorf("%s: %w (%v)", path, ErrNotHeraldDB, err)
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("%s is damaged: integrity_check: %s", path, strings.Join(problems[:min(3, len(problems))], "; "))
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n); err != nil {
		return out, fmt.Errorf("%s: %w (%v)", path, ErrNotHeraldDB, err)
	}
	if n == 0 {
		return out, fmt.Errorf("%s: %w (it has no schema_migrations table)", path, ErrNotHeraldDB)
	}
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&out.SchemaVersion); err != nil {
		return out, fmt.Errorf("%s: %w (%v)", path, ErrNotHeraldDB, err)
	}
	if out.SchemaVersion == 0 {
		return out, fmt.Errorf("%s: %w (its schema is empty)", path, ErrNotHeraldDB)
	}
	if out.SchemaVersion > out.Latest {
		return out, fmt.Errorf("%s is from a newer herald (schema version %d, this herald knows up to %d): %w", path, out.SchemaVersion, out.Latest, ErrNewerSchema)
	}
	return out, nil
}

// Restore puts the SQLite database file src in the place of the database
// at dbPath (herald must be stopped), after CheckBackup passed: the current
// database, with its -wal and -shm files, is renamed to
// dbPath.before-restore-<stamp>, and a synced copy of src is renamed into
// place. It returns the name the old database was kept under ("" when there
// was none). When it fails before the old database is moved, nothing has
// changed.
func Restore(ctx context.Context, src, dbPath, stamp string) (aside string, err error) {
	if _, err := CheckBackup(ctx, src); err != nil {
		return "", err
	}
	tmp := dbPath + ".restoring"
	os.Remove(tmp)
	if err := copyFile(src, tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("store: restore: %w", err)
	}
	if exists(dbPath) {
		aside = dbPath + ".before-restore-" + stamp
		if exists(aside) {
			os.Remove(tmp)
			return "", fmt.Errorf("store: restore: %s already exists", aside)
		}
		if err := os.Rename(dbPath, aside); err != nil {
			os.Remove(tmp)
			return "", fmt.Errorf("store: restore: %w", err)
		}
		// A WAL left beside the new file would be replayed into it.
		for _, suffix := range []string{"-wal", "-shm"} {
			if exists(dbPath + suffix) {
				if err := os.Rename(dbPath+suffix, aside+suffix); err != nil {
					return aside, fmt.Errorf("store: restore: %w (the old database is %s)", err, aside)
				}
			}
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return aside, fmt.Errorf("store: restore: %w (the old database is %s)", err, aside)
	}
	return aside, nil
}

// copyFile copies src into a new file dst (0600) and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, cerr := io.Copy(out, in)
	return errors.Join(cerr, out.Sync(), out.Close())
}

// exists reports whether path exists (any error other than not-exist
// counts as existing, so that nothing is overwritten by mistake).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
