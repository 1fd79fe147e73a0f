package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"herald/config"
	"herald/store"
)

// backupCommands are `herald backup` and `herald restore` (SPEC 12).
func backupCommands() []command {
	return []command{
		{"check", "", "check settings, database, secret, SMTP, DNS",
			"One line per check: ok, warn or fail. No mail is sent. Exit status 1 when a check fails.", runCheck},
		{"backup", "[FILE]", "copy the SQLite database (serve may run)",
			"FILE defaults to $HERALD_DATA_DIR/backups/herald-<UTC time>.db; it must not exist.\nOn PostgreSQL, use pg_dump (exit status 2).", runBackup},
		{"restore", "FILE", "replace the database by a backup",
			"FILE is checked first (SQLite integrity_check, herald's schema, not newer than this herald);\nthe current database is kept aside as herald.db.before-restore-<UTC time>.", runRestore},
	}
}

// stampLayout names backups and databases kept aside: UTC, sortable.
const stampLayout = "20060102T150405Z"

func stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

func runBackup(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "backup", "[FILE]")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return usageError(e, fs, "backup takes at most one FILE, got %d arguments", fs.NArg())
	}
	cfg, err := loader.Load()
	if err != nil {
		return fail(e, err)
	}
	if store.IsPostgres(cfg.DB) {
		fmt.Fprintln(e.stderr, "herald: the database is PostgreSQL: back it up with pg_dump (for example pg_dump -Fc -f herald.dump \"$HERALD_DB\")")
		return exitUsage
	}
	if _, err := os.Stat(cfg.DB); err != nil {
		return fail(e, fmt.Errorf("%s: no database at %s", cfg.Name("HERALD_DB"), cfg.DB))
	}
	target := fs.Arg(0)
	if target == "" {
		dir := filepath.Join(cfg.DataDir, "backups")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fail(e, fmt.Errorf("cannot create %s: %v", dir, errors.Unwrap(err)))
		}
		target = filepath.Join(dir, "herald-"+stamp(time.Now())+".db")
	}
	start := time.Now()
	size, err := backup(ctx, cfg, target)
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "backed up %s into %s (%d bytes) in %s\n", cfg.DB, target, size, time.Since(start).Round(time.Millisecond))
	return exitOK
}

// backup copies the SQLite database of cfg into target, which must not
// exist, and returns its size.
func backup(ctx context.Context, cfg config.Config, target string) (int64, error) {
	if _, err := os.Lstat(target); err == nil {
		return 0, fmt.Errorf("%s already exists: a backup never overwrites a file; name another", target)
	}
	db, err := store.OpenNoMigrate(ctx, cfg.DB)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cfg.Name("HERALD_DB"), err)
	}
	defer db.Close()
	if err := db.BackupTo(ctx, target); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return 0, fmt.Errorf("cannot write the backup %s: %v", target, pe.Err)
		}
		return 0, err
	}
	st, err := os.Stat(target)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func runRestore(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "restore", "FILE")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "restore takes one FILE")
	}
	cfg, err := loader.Load()
	if err != nil {
		return fail(e, err)
	}
	if store.IsPostgres(cfg.DB) {
		fmt.Fprintln(e.stderr, "herald: the database is PostgreSQL: restore it with pg_restore")
		return exitUsage
	}
	src := fs.Arg(0)
	info, err := store.CheckBackup(ctx, src)
	if errors.Is(err, store.ErrNotHeraldDB) || errors.Is(err, store.ErrNewerSchema) {
		return fail(e, fmt.Errorf("%w; nothing was changed", err))
	}
	if err != nil {
		return fail(e, fmt.Errorf("cannot restore %w; nothing was changed", err))
	}
	if abs(src) == abs(cfg.DB) {
		return usageError(e, fs, "%s is the database itself", src)
	}
	if _, err := os.Stat(cfg.DB); err == nil {
		db, err := store.OpenNoMigrate(ctx, cfg.DB)
		if err != nil {
			return fail(e, fmt.Errorf("%s: %w", cfg.Name("HERALD_DB"), err))
		}
		live, err := db.Instances(ctx, time.Now().Add(-30*time.Second))
		db.Close()
		if err == nil && len(live) > 0 {
			return fail(e, fmt.Errorf("herald serve is running on %s (%s, pid %d): stop it first; nothing was changed", cfg.DB, live[0].Host, live[0].PID))
		}
	}
	aside, err := store.Restore(ctx, src, cfg.DB, stamp(time.Now()))
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "restored %s (schema version %d) into %s\n", src, info.SchemaVersion, cfg.DB)
	if aside != "" {
		fmt.Fprintf(e.stdout, "the previous database is kept as %s\n", aside)
	}
	if info.SchemaVersion < info.Latest {
		fmt.Fprintf(e.stdout, "its schema will be migrated from version %d to %d when herald next starts\n", info.SchemaVersion, info.Latest)
	}
	return exitOK
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// runScheduledBackups takes a backup into $HERALD_DATA_DIR/backups at each
// time of cfg.BackupCron (read in HERALD_TZ) until ctx ends, keeping the
// newest cfg.BackupKeep of them. It runs on the leader.
func runScheduledBackups(ctx context.Context, cfg config.Config, log *slog.Logger) {
	sched, err := cron.ParseStandard(cfg.BackupCron)
	if err != nil { // config.Load checked it
		log.Error("bad backup schedule", "err", err)
		return
	}
	dir := filepath.Join(cfg.DataDir, "backups")
	for {
		next := sched.Next(time.Now().In(cfg.Location))
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			log.Error("scheduled backup failed", "err", err)
			continue
		}
		target := filepath.Join(dir, "herald-"+stamp(time.Now())+".db")
		start := time.Now()
		size, err := backup(ctx, cfg, target)
		if err != nil {
			log.Error("scheduled backup failed", "err", err)
			continue
		}
		removed, err := pruneBackups(dir, cfg.BackupKeep)
		if err != nil {
			log.Warn("removing old backups failed", "err", err)
		}
		log.Info("scheduled backup", "path", target, "bytes", size, "took", time.Since(start).Round(time.Millisecond), "removed", removed)
	}
}

// pruneBackups removes all but the newest keep herald-*.db files of dir.
func pruneBackups(dir string, keep int) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, en := range entries {
		if n := en.Name(); en.Type().IsRegular() && strings.HasPrefix(n, "herald-") && strings.HasSuffix(n, ".db") {
			names = append(names, n)
		}
	}
	sort.Strings(names) // UTC stamps sort by time
	removed := 0
	var errs []error
	for len(names)-removed > keep {
		if err := os.Remove(filepath.Join(dir, names[removed])); err != nil {
			errs = append(errs, err)
		}
		removed++
	}
	return removed, errors.Join(errs...)
}
