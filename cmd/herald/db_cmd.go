package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"herald/store"
)

// dbCommands are `herald db migrate|check|copy` (SPEC 6).
func dbCommands() []command {
	return []command{
		{"db migrate", "", "apply the database migrations, then exit", "", runDBMigrate},
		{"db check", "", "check connection, schema version, integrity",
			"One line per check; exit status 1 when one fails.", runDBCheck},
		{"db copy", "--to DSN", "copy everything into an empty database",
			"The daemon must be stopped. The source (HERALD_DB) is only read; the target is migrated,\nmust be empty, and is written in one transaction: an interrupted copy leaves it empty.", runDBCopy},
	}
}

func runDBMigrate(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "db migrate", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "db migrate takes no arguments, got %q", fs.Arg(0))
	}
	cfg, err := loader.Load()
	if err != nil {
		return fail(e, err)
	}
	if err := cfg.PrepareDataDir(); err != nil {
		return fail(e, err)
	}
	db, err := store.OpenNoMigrate(ctx, cfg.DB)
	if err != nil {
		return fail(e, fmt.Errorf("%s: %w", cfg.Name("HERALD_DB"), err))
	}
	defer db.Close()
	before, _ := db.SchemaVersionIfAny(ctx)
	if err := db.Migrate(ctx); err != nil {
		return fail(e, fmt.Errorf("%s: %w", cfg.Name("HERALD_DB"), err))
	}
	after, err := db.SchemaVersion(ctx)
	if err != nil {
		return fail(e, err)
	}
	if after == before {
		fmt.Fprintf(e.stdout, "%s database is up to date (schema version %d)\n", db.Engine(), after)
	} else {
		fmt.Fprintf(e.stdout, "%s database migrated from schema version %d to %d\n", db.Engine(), before, after)
	}
	return exitOK
}

// check is one line of `herald db check`.
type check struct {
	name, status, detail string
}

func runDBCheck(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "db check", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "db check takes no arguments, got %q", fs.Arg(0))
	}
	cfg, err := loader.Load()
	if err != nil {
		return fail(e, err)
	}
	checks := dbChecks(ctx, cfg.DB)
	code := exitOK
	for _, c := range checks {
		fmt.Fprintf(e.stdout, "%-4s %-12s %s\n", c.status, c.name, c.detail)
		if c.status == "fail" {
			code = exitFail
		}
	}
	return code
}

func dbChecks(ctx context.Context, dsn string) []check {
	db, err := store.OpenNoMigrate(ctx, dsn)
	if err != nil {
		return []check{{"database", "fail", err.Error()}}
	}
	defer db.Close()
	out := []check{}
	if err := db.Reachable(ctx); err != nil {
		return append(out, check{"database", "fail", err.Error()})
	}
	out = append(out, check{"database", "ok", db.Engine() + " answers"})
	have, err := db.SchemaVersionIfAny(ctx)
	want, lerr := db.LatestSchema()
	switch {
	case err != nil || lerr != nil:
		out = append(out, check{"schema", "fail", errors.Join(err, lerr).Error()})
	case have < want:
		out = append(out, check{"schema", "fail", fmt.Sprintf("version %d, this herald needs %d: run herald db migrate", have, want)})
	case have > want:
		out = append(out, check{"schema", "fail", fmt.Sprintf("version %d is newer than this herald's (%d): use a newer herald", have, want)})
	default:
		out = append(out, check{"schema", "ok", fmt.Sprintf("version %d", have)})
	}
	if have == want {
		out = append(out, addressCheck(ctx, db))
	}
	if msg, err := db.IntegrityCheck(ctx); err != nil {
		out = append(out, check{"integrity", "fail", err.Error()})
	} else {
		out = append(out, check{"integrity", "ok", msg})
	}
	return out
}

func runDBCopy(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "db copy", "--to DSN")
	to := fs.String("to", "", "the target database: a SQLite file or a postgres:// URL (required)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "db copy takes no arguments, got %q", fs.Arg(0))
	}
	if strings.TrimSpace(*to) == "" {
		return usageError(e, fs, "--to is required")
	}
	cfg, err := loader.Load()
	if err != nil {
		return fail(e, err)
	}
	if *to == cfg.DB {
		return usageError(e, fs, "--to names the source database itself")
	}
	src, err := store.OpenNoMigrate(ctx, cfg.DB)
	if err != nil {
		return fail(e, fmt.Errorf("%s: %w", cfg.Name("HERALD_DB"), err))
	}
	defer src.Close()
	src.SetMediaDir(filepath.Join(cfg.DataDir, "media"))
	if live, err := src.Instances(ctx, time.Now().Add(-30*time.Second)); err == nil && len(live) > 0 {
		return fail(e, fmt.Errorf("herald serve is running on the source database (%s, pid %d): stop it first, so that nothing changes during the copy", live[0].Host, live[0].PID))
	}
	dst, err := store.Open(ctx, *to)
	if err != nil {
		return fail(e, fmt.Errorf("--to: %w", err))
	}
	defer dst.Close()
	bar := newProgress(e.stderr, "copying", *quiet)
	start := time.Now()
	counts, err := src.CopyTo(ctx, dst, func(table string, done, total int64) {
		bar.update(done, total, table)
	})
	bar.finish()
	if errors.Is(err, store.ErrNotEmpty) {
		return fail(e, fmt.Errorf("%w; copy only into a new, empty database", err))
	}
	if err != nil {
		return fail(e, fmt.Errorf("%w\nnothing was written to the target and the source is unchanged: fix the cause and run the same command again", err))
	}
	var rows int64
	for _, n := range counts {
		rows += n
	}
	fmt.Fprintf(e.stdout, "copied %d rows in %d tables from %s to %s in %s (row counts verified)\n",
		rows, len(counts), src.Engine(), dst.Engine(), time.Since(start).Round(time.Millisecond))
	return exitOK
}

// addressCheck reports subscribers whose addresses collided when addresses
// became case-insensitive (SPEC 11): kept, not merged, until staff erase
// one of each pair.
func addressCheck(ctx context.Context, db *store.DB) check {
	c, err := db.AddressCollisions(ctx)
	switch {
	case err != nil:
		return check{"addresses", "fail", err.Error()}
	case len(c) == 0:
		return check{"addresses", "ok", "every subscriber address is unique, case ignored"}
	}
	return check{"addresses", "warn", fmt.Sprintf("%d subscribers have the address of an older one in other capitals (subscriber id=older id): %s; erase one of each pair",
		len(c), collisionList(c))}
}

// collisionList names address collisions by subscriber ids, never addresses.
func collisionList(c []store.AddressCollision) string {
	parts := make([]string, 0, min(len(c), 20))
	for i, x := range c {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("and %d more", len(c)-20))
			break
		}
		parts = append(parts, fmt.Sprintf("%d=%d", x.ID, x.DupOf))
	}
	return strings.Join(parts, ", ")
}
