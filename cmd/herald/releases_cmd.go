package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"herald/releases"
	"herald/store"
)

func runReleasesAdd(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "releases add", "FILE|-")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "releases add needs one FILE, or - for standard input")
	}
	data, err := readInput(e, fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	inputs, err := splitReleases(data)
	if err != nil {
		return fail(e, fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	failed := 0
	for i, raw := range inputs {
		in, err := releases.DecodeInput(raw)
		var rel store.Release
		if err == nil {
			rel, err = a.releases.Create(ctx, in)
		}
		if err != nil {
			failed++
			where := fs.Arg(0)
			if len(inputs) > 1 {
				where = fmt.Sprintf("%s: release %d", where, i+1)
			}
			fmt.Fprintf(e.stderr, "herald: %s: %v\n", where, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\n", rel.ID, statusWord(rel, a.releases.Now()), rel.Slug)
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// maxInput caps a release file like the API caps a request (1 MiB per
// release, and 64 MiB for a file of many).
const maxInput = 64 << 20

func readInput(e env, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, maxInput>>20)
	}
	return data, nil
}

// splitReleases accepts one JSON object or an array of them.
func splitReleases(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("is empty; expected a JSON release object or an array of them")
	}
	if data[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		return list, nil
	}
	return []json.RawMessage{data}, nil
}

func runReleasesList(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "releases list", "[--json] [--limit N]")
	asJSON := fs.Bool("json", false, "print JSON (the API's release objects) instead of a table")
	limit := fs.Int("limit", 50, "how many releases, 1-200")
	status := fs.String("status", "", "only draft, published, live or embargoed releases")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 || *limit < 1 || *limit > 200 {
		return usageError(e, fs, "releases list takes no arguments and a --limit from 1 to 200")
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	page, err := a.releases.List(ctx, releases.ListQuery{Limit: *limit, Status: *status})
	if err != nil {
		return fail(e, err)
	}
	now := a.releases.Now()
	if *asJSON {
		docs := make([]releases.Document, 0, len(page.Items))
		for _, r := range page.Items {
			docs = append(docs, releases.NewDocument(r, a.cfg.BaseURL, now))
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(docs); err != nil {
			return fail(e, err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tPUBLISHED (UTC)\tLANG\tSLUG\tTITLE")
	for _, r := range page.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, statusWord(r, now),
			r.PublishedAt.UTC().Format("2006-01-02 15:04"), r.Language, r.Slug, releases.Truncate(r.Title, 60))
	}
	if err := tw.Flush(); err != nil {
		return fail(e, err)
	}
	return exitOK
}

// statusWord says where a release stands now: live, embargoed or draft.
func statusWord(r store.Release, now time.Time) string {
	switch {
	case r.Status == releases.StatusDraft:
		return "draft"
	case releases.IsLive(&r, now):
		return "live"
	}
	return "embargoed"
}
