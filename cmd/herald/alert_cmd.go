package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"

	"herald/dispatch"
	"herald/store"
)

func runAlert(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "alert", "RELEASE_ID [--dry-run] [--audience matching|immediate] [--test-to EMAIL]")
	dry := fs.Bool("dry-run", false, "count the recipients, send nothing")
	audience := fs.String("audience", dispatch.AudienceMatching, "matching (every matching subscriber) or immediate (only cadence immediate)")
	testTo := fs.String("test-to", "", "send one copy to this address only")
	follow := fs.Bool("follow", true, "on a terminal, show delivery progress until every message is sent (Ctrl-C stops watching, not sending)")
	if code, ok := parse(fs, reorder(args)); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "alert takes exactly one argument, RELEASE_ID (got %d)", fs.NArg())
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return usageError(e, fs, "RELEASE_ID must be a release's numeric id, got %q", fs.Arg(0))
	}
	// Flag values are checked before any work (SPEC 1: usage errors exit 2).
	switch strings.ToLower(strings.TrimSpace(*audience)) {
	case dispatch.AudienceMatching, dispatch.AudienceImmediate:
	default:
		return usageError(e, fs, "--audience must be matching or immediate, got %q", *audience)
	}
	if *testTo != "" && !oneAddress(*testTo) {
		return usageError(e, fs, "--test-to must be one email address, got %q", *testTo)
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	res, err := a.dispatch.Alert(ctx, dispatch.AlertRequest{ReleaseID: id, Audience: *audience, DryRun: *dry, TestTo: *testTo})
	switch {
	case errors.Is(err, dispatch.ErrNotLive):
		return fail(e, fmt.Errorf("release %d is not live (a draft, or under embargo); only live releases can be alerted", id))
	case errors.Is(err, store.ErrNotFound):
		return fail(e, fmt.Errorf("release %d not found", id))
	case err != nil:
		return fail(e, err)
	}
	switch {
	case *dry:
		fmt.Fprintf(e.stdout, "dry run: %s%s\n", plural(res.Recipients, "recipient", "recipients"), breakdown(res))
		return exitOK
	case *testTo != "":
		fmt.Fprintf(e.stdout, "alert %d: a test copy is queued for %s\n", res.AlertID, *testTo)
	default:
		fmt.Fprintf(e.stdout, "alert %d: %s queued%s\n", res.AlertID, plural(res.Recipients, "message", "messages"), breakdown(res))
	}
	if *follow {
		a.followAlert(ctx, e, res.AlertID)
	}
	return exitOK
}

// followAlert shows the alert's delivery on a terminal until it is done or
// the user stops watching; sending goes on either way (the daemon, or
// `herald deliver`, sends the queue).
func (a *app) followAlert(ctx context.Context, e env, id int64) {
	p := newProgress(e.stderr, "sending", false)
	if !p.on {
		return
	}
	defer p.finish()
	start := time.Now()
	hinted := false
	for {
		st, err := a.dispatch.AlertStatus(ctx, id)
		if err != nil {
			return
		}
		done := st.Sent + st.Failed + st.Expired + st.Cancelled
		p.update(int64(done), int64(st.Recipients), fmt.Sprintf("%d/%d sent %d, failed %d", done, st.Recipients, st.Sent, st.Failed))
		if !st.FinishedAt.IsZero() {
			return
		}
		if !hinted && done == 0 && time.Since(start) > 10*time.Second {
			p.finish()
			fmt.Fprintln(e.stderr, "nothing sent yet: is `herald serve` running? `herald deliver` sends the queue and exits")
			hinted = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// oneAddress reports whether s is a single email address, as an alert's
// test copy needs (no list, no line break).
func oneAddress(s string) bool {
	s = strings.TrimSpace(s)
	_, err := mail.ParseAddress(s)
	return err == nil && !strings.ContainsAny(s, "\r\n,;") && len(s) <= 254
}

func breakdown(res dispatch.AlertResult) string {
	if res.Recipients == 0 {
		return ""
	}
	return " (" + counts(res.ByCadence) + "; " + counts(res.ByLanguage) + ")"
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// reorder moves flags after positional arguments to the front, so that
// `herald alert 12 --dry-run` works like `herald alert --dry-run 12`.
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if !strings.Contains(a, "=") && takesValue(a) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}

// takesValue reports whether a flag (not in --x=v form) consumes the next
// argument: every flag but the booleans does.
func takesValue(flag string) bool {
	switch strings.TrimLeft(flag, "-") {
	case "dry-run", "json", "demo", "follow", "all", "quiet", "h", "help":
		return false
	}
	return true
}

func runDigest(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "digest", "daily|weekly [--dry-run]")
	dry := fs.Bool("dry-run", false, "count the digests, send nothing")
	if code, ok := parse(fs, reorder(args)); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "digest takes exactly one argument, daily or weekly (got %d)", fs.NArg())
	}
	if fs.Arg(0) != dispatch.CadenceDaily && fs.Arg(0) != dispatch.CadenceWeekly {
		return usageError(e, fs, "digest takes daily or weekly, got %q", fs.Arg(0))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	res, err := a.dispatch.RunDigest(ctx, dispatch.DigestRequest{Cadence: fs.Arg(0), DryRun: *dry})
	if err != nil {
		return fail(e, err)
	}
	if *dry {
		fmt.Fprintf(e.stdout, "dry run: %s would be queued (%s looked at)\n",
			plural(res.Recipients, fs.Arg(0)+" digest", fs.Arg(0)+" digests"), plural(res.Examined, "subscriber", "subscribers"))
		return exitOK
	}
	fmt.Fprintf(e.stdout, "digest run %d: %s queued (%s looked at)\n", res.RunID,
		plural(res.Recipients, fs.Arg(0)+" digest", fs.Arg(0)+" digests"), plural(res.Examined, "subscriber", "subscribers"))
	return exitOK
}
