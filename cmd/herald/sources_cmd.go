package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
)

// runSourcesList prints every ingest source: id, mode, interval, last poll,
// failures and last error, URL.
func runSourcesList(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "sources list", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "sources list takes no arguments, got %q", fs.Arg(0))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	ss, err := a.sources.List(ctx)
	if err != nil {
		return fail(e, err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODE\tINTERVAL\tLAST POLL\tFAILURES\tURL\tLAST ERROR")
	for _, s := range ss {
		last := "never"
		if !s.LastRunAt.IsZero() {
			last = s.LastRunAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Mode, s.Interval, last, s.Failures, s.URL,
			strings.ReplaceAll(s.LastError, "\n", " "))
	}
	tw.Flush()
	return exitOK
}

// runSourcesRun polls one source now and prints the outcome; exit 1 when
// the poll failed.
func runSourcesRun(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "sources run", "ID")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "sources run needs one source ID")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return usageError(e, fs, "source ID must be a positive whole number, got %q", fs.Arg(0))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	run, err := a.sources.RunNow(ctx, id)
	if err != nil {
		return fail(e, fmt.Errorf("source %d: %w", id, err))
	}
	fmt.Fprintf(e.stdout, "%s: %d new, %d updated, %d unchanged, %d skipped\n", run.Status, run.New, run.Updated, run.Unchanged, run.Skipped)
	if run.Error != "" {
		fmt.Fprintf(e.stderr, "herald: source %d: %s\n", id, run.Error)
	}
	if run.Status == "error" {
		return 1
	}
	return exitOK
}
