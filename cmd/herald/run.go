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
	"herald/store"
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
	help    string // more about it, for its -h (optional)
	run     func(ctx context.Context, e env, args []string) int
}

// releaseFormat is the JSON that `releases add` reads (README, Command line).
const releaseFormat = `FILE, or - for standard input, holds one JSON release or an array: {"title": "...", "body": "Markdown", "topics": ["migration"]}
(other fields: see the README). Every release is checked first; if any is invalid, none is added.`

func commands() []command {
	return append([]command{
		{"serve", "[--demo] [settings]", "run the daemon: HTTP, feeds, mail, schedules", "", runServe},
		{"releases add", "FILE|-", "add releases from JSON (a file or stdin)", releaseFormat, runReleasesAdd},
		{"releases list", "[--json] [--status S] [--limit N | --all]", "list releases, newest first",
			"Without --all, at most --limit releases (default 50, up to 200) are listed; when there are more,\na line on standard error says so.", runReleasesList},
		{"subscribers import", "FILE.csv|-", "import subscribers from CSV",
			"The CSV header is email,topics,regions,language,cadence,timezone,status (lists separated by ;).", runSubscribersImport},
		{"subscribers export", "[FILE]", "export subscribers as CSV (default: stdout)", "", runSubscribersExport},
		{"sources list", "", "list ingest sources: last poll and error", "", runSourcesList},
		{"sources run", "ID", "poll an ingest source now", "Exit status 1 when the poll failed.", runSourcesRun},
		{"alert", "RELEASE_ID [--dry-run] [--audience matching|immediate] [--test-to EMAIL]", "send a release to its audience now", "", runAlert},
		{"digest", "daily|weekly [--dry-run]", "send that digest now", "", runDigest},
		{"deliver", "", "send the queued mail that is due, then exit",
			"Exit status 1 when some message failed or waits for a retry.", runDeliver},
		{"dkim keygen", "--selector S --domain D [--type rsa|ed25519]", "make a DKIM key; print its DNS record", "", runDKIMKeygen},
		{"version", "", "print herald's version", "", runVersion},
	}, append(append(backupCommands(), staffCommands()...), dbCommands()...)...)
}

// run dispatches to a subcommand and returns the process exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "help" && len(rest) > 1 {
		rest = append(rest[1:], "-h") // herald help alert = herald alert -h
	}
	if len(rest) == 0 || isHelp(rest[0]) || rest[0] == "help" {
		usage(stderr)
		if len(rest) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch rest[0] {
	case "-v", "-version", "--version":
		return runVersion(ctx, e, rest[1:])
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			if c.name != "serve" {
				ctx = cliActor(ctx)
			}
			return c.run(ctx, e, rest[len(words):])
		}
	}
	if group := groupCommands(rest[0]); len(group) > 0 {
		switch {
		case len(rest) > 1 && isHelp(rest[1]):
			groupUsage(stderr, group)
			return exitOK
		case len(rest) == 1 || strings.HasPrefix(rest[1], "-"):
			fmt.Fprintf(stderr, "herald: %s needs a subcommand\n\n", rest[0])
		default:
			fmt.Fprintf(stderr, "herald: unknown command %q\n\n", rest[0]+" "+rest[1])
		}
		groupUsage(stderr, group)
		return exitUsage
	}
	fmt.Fprintf(stderr, "herald: unknown command %q\n\n", strings.Join(rest, " "))
	usage(stderr)
	return exitUsage
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// groupCommands returns the subcommands of a group such as "releases".
func groupCommands(group string) []command {
	var out []command
	for _, c := range commands() {
		if words := strings.Fields(c.name); len(words) > 1 && words[0] == group {
			out = append(out, c)
		}
	}
	return out
}

func groupUsage(w io.Writer, group []command) {
	fmt.Fprintf(w, "usage: herald %s SUBCOMMAND [flags]\n\nsubcommands:\n", strings.Fields(group[0].name)[0])
	listCommands(w, group)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: herald COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	listCommands(w, commands())
	fmt.Fprintln(w, "\nEvery command reads the HERALD_* environment variables and takes them as flags;")
	fmt.Fprintln(w, "run 'herald serve -h' for the settings, 'herald COMMAND -h' for a command.")
}

// usageColumn is where command summaries start; a longer synopsis gets a
// line of its own with the summary below it, so that no line is wider than
// 80 columns.
const usageColumn = 36

func listCommands(w io.Writer, cmds []command) {
	for _, c := range cmds {
		synopsis := "  " + strings.TrimSpace(c.name+" "+c.args)
		if len(synopsis) >= usageColumn {
			fmt.Fprintf(w, "%s\n%*s%s\n", synopsis, usageColumn, "", c.summary)
			continue
		}
		fmt.Fprintf(w, "%-*s%s\n", usageColumn, synopsis, c.summary)
	}
}

// flags makes a command's FlagSet with every setting bound (flags win over
// the environment). Its usage lists the command's own flags; only serve
// also lists the settings.
func flags(e env, name, args string) (*flag.FlagSet, *config.Loader) {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	loader := config.Bind(fs, e.getenv)
	fs.Usage = func() { commandUsage(e.stderr, fs, loader, name, args) }
	return fs, loader
}

func commandUsage(w io.Writer, fs *flag.FlagSet, loader *config.Loader, name, args string) {
	fmt.Fprintln(w, "usage: herald "+strings.TrimSpace(name+" "+args))
	for _, c := range commands() {
		if c.name == name {
			fmt.Fprintf(w, "\n%s.\n", c.summary)
			if c.help != "" {
				fmt.Fprintln(w, c.help)
			}
		}
	}
	// The command's own flags; the settings are the same for every
	// command, and only serve lists them.
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if loader.IsSetting(f.Name) {
			return
		}
		if first {
			fmt.Fprintln(w, "\nflags:")
			first = false
		}
		typ, text := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s\n    \t%s", strings.TrimSpace(f.Name+" "+typ), text)
		switch f.DefValue {
		case "", "false", "0":
		default:
			if typ == "string" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintln(w)
	if name == "serve" {
		loader.PrintSettings(w)
		return
	}
	fmt.Fprintln(w, "Every HERALD_* setting is also accepted as a flag; see herald serve -h.")
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
// A not-found error loses the store's prefix: the line speaks of what was
// not found, not of herald's packages.
func fail(e env, err error) int {
	msg := err.Error()
	if errors.Is(err, store.ErrNotFound) {
		msg = strings.ReplaceAll(msg, "store: ", "")
	}
	fmt.Fprintf(e.stderr, "herald: %s\n", msg)
	return exitFail
}

// plural is "1 message" or "2 messages".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// newLogger builds the process logger on stderr.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
