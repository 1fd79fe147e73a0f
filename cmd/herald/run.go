package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"herald/config"
)

// Exit statuses (SPEC 1): 1 for bad configuration or a failed command, 2 for
// a usage error.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// env is what a command gets from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one CLI subcommand.
type command struct {
	name    string // "releases add"
	args    string // usage of its arguments
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "[--demo] [settings]", "run the daemon (HTTP, feeds, mail, schedules)", runServe},
		{"releases add", "FILE|-", "add releases from a JSON file (one object or an array) or stdin", runReleasesAdd},
		{"releases list", "[--json] [--limit N]", "list releases, newest first", runReleasesList},
		{"subscribers import", "FILE.csv|-", "import subscribers from CSV (email,topics,regions,language,cadence,timezone,status)", runSubscribersImport},
		{"subscribers export", "[FILE]", "export every subscriber as CSV, to FILE or standard output", runSubscribersExport},
		{"alert", "RELEASE_ID [--dry-run] [--audience matching|immediate] [--test-to EMAIL]", "send an urgent release to its audience now", runAlert},
		{"digest", "daily|weekly [--dry-run]", "send that digest now to every subscriber with matching releases", runDigest},
		{"deliver", "[settings]", "send the queued mail that is due, then exit (1 if some failed or wait for a retry)", runDeliver},
		{"version", "", "print herald's version", runVersion},
	}
}

// run dispatches to a subcommand and returns the process exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	rest := args[1:]
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(stderr)
		if len(rest) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			return c.run(ctx, e, rest[len(words):])
		}
	}
	fmt.Fprintf(stderr, "herald: unknown command %q\n\n", strings.Join(rest, " "))
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: herald COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-40s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(w, "\nEvery command reads the HERALD_* environment variables; run 'herald serve -h' for the settings.")
}

// flags makes a command's FlagSet with every setting bound (flags win over
// the environment).
func flags(e env, name, args string) (*flag.FlagSet, *config.Loader) {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: herald %s %s\n\nflags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs, config.Bind(fs, e.getenv)
}

// parse parses flags; it returns the exit status to use when parsing failed
// (0 for -h, 2 for a usage error) and ok=false.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// usageError prints a usage problem and returns exit status 2.
func usageError(e env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "herald: "+format+"\n", args...)
	fs.Usage()
	return exitUsage
}

// fail prints one line naming what went wrong and returns exit status 1.
func fail(e env, err error) int {
	fmt.Fprintf(e.stderr, "herald: %v\n", err)
	return exitFail
}

// newLogger builds the process logger on stderr.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
