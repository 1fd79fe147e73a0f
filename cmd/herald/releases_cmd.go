package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
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
		return usageError(e, fs, "releases add takes exactly one FILE, or - for standard input (got %d arguments)", fs.NArg())
	}
	name := fs.Arg(0)
	data, err := readInput(e, name)
	if err != nil {
		return fail(e, err)
	}
	inputs, err := splitReleases(data)
	if err != nil {
		return fail(e, fmt.Errorf("%s: %w", name, err))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	ins, problems, err := a.checkReleases(ctx, inputs)
	if err != nil {
		return fail(e, err)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(e.stderr, "herald: %s\n", where(name, len(inputs), p))
		}
		if len(inputs) > 1 {
			n, verb := countInvalid(problems), "are"
			if n == 1 {
				verb = "is"
			}
			fmt.Fprintf(e.stderr, "herald: nothing added: %d of %d releases %s invalid\n", n, len(inputs), verb)
		}
		return exitFail
	}
	added, problem := a.addReleases(ctx, ins)
	if problem != nil {
		fmt.Fprintf(e.stderr, "herald: %s\n", where(name, len(inputs), *problem))
		return exitFail
	}
	for _, rel := range added {
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\n", rel.ID, statusWord(rel, a.releases.Now()), rel.Slug)
	}
	return exitOK
}

// releaseProblem is what is wrong with one release of a file (index from 0).
type releaseProblem struct {
	index int
	err   error
}

// where names a problem for a message: "FILE: release 2: title: is
// required"; no release number for a file of one release, no name for
// standard input.
func where(name string, n int, p releaseProblem) string {
	msg := p.err.Error()
	if n > 1 {
		msg = fmt.Sprintf("release %d: %s", p.index+1, msg)
	}
	if name != "-" {
		msg = name + ": " + msg
	}
	return msg
}

func countInvalid(problems []releaseProblem) int {
	seen := map[int]bool{}
	for _, p := range problems {
		seen[p.index] = true
	}
	return len(seen)
}

// checkReleases decodes and validates every release of a file without
// storing any (releases.Service.Preview), and checks what Preview leaves to
// the save: explicit slugs and translations of one language, both within
// the file and against the database. It returns every problem found.
func (a *app) checkReleases(ctx context.Context, raws []json.RawMessage) ([]releases.Input, []releaseProblem, error) {
	var problems []releaseProblem
	ins := make([]releases.Input, len(raws))
	slugs := map[string]int{}        // explicit slug -> index
	translations := map[string]int{} // key + "\x00" + language -> index
	type claim struct {
		index           int
		slug, key, lang string
	}
	var claims []claim
	for i, raw := range raws {
		in, err := releases.DecodeInput(raw)
		var rel store.Release
		if err == nil {
			rel, err = a.releases.Preview(ctx, 0, in)
		}
		if err != nil {
			problems = append(problems, releaseProblem{i, err})
			continue
		}
		ins[i] = in
		c := claim{index: i}
		if in.Slug != nil && rel.Slug != "" {
			if j, dup := slugs[rel.Slug]; dup {
				problems = append(problems, releaseProblem{i, fmt.Errorf("slug: %q is also the slug of release %d of this file", rel.Slug, j+1)})
			}
			slugs[rel.Slug], c.slug = i, rel.Slug
		}
		if rel.TranslationKey != "" {
			k := rel.TranslationKey + "\x00" + rel.Language
			if j, dup := translations[k]; dup {
				problems = append(problems, releaseProblem{i, fmt.Errorf("translation_key: release %d of this file is already the %q version of this translation group", j+1, rel.Language)})
			}
			translations[k], c.key, c.lang = i, rel.TranslationKey, rel.Language
		}
		if c.slug != "" || c.key != "" {
			claims = append(claims, c)
		}
	}
	if len(claims) == 0 {
		return ins, problems, nil
	}
	var found []releaseProblem
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		found = found[:0] // the closure may run twice (a retried transaction)
		for _, c := range claims {
			if c.slug != "" {
				taken, err := tx.SlugTaken(ctx, c.slug, 0)
				if err != nil {
					return err
				}
				if taken {
					found = append(found, releaseProblem{c.index, fmt.Errorf("slug: %q is already used", c.slug)})
				}
			}
			if c.key != "" {
				other, err := tx.TranslationOf(ctx, c.key, c.lang, 0)
				if err != nil {
					return err
				}
				if other != 0 {
					found = append(found, releaseProblem{c.index, fmt.Errorf("translation_key: this translation group has a %q version already (release id %d)", c.lang, other)})
				}
			}
		}
		return nil
	})
	problems = append(problems, found...)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].index < problems[j].index })
	return ins, problems, err
}

// addReleases stores checked releases. Should one still fail (another
// writer took a slug meanwhile), the releases already added by this call
// are deleted again, so that a file is added whole or not at all.
func (a *app) addReleases(ctx context.Context, ins []releases.Input) ([]store.Release, *releaseProblem) {
	added := make([]store.Release, 0, len(ins))
	for i, in := range ins {
		rel, err := a.releases.Create(ctx, in)
		if err == nil {
			added = append(added, rel)
			continue
		}
		var undo []error
		for _, r := range added {
			if derr := a.releases.Delete(ctx, r.ID); derr != nil {
				undo = append(undo, fmt.Errorf("release %d could not be removed again: %w", r.ID, derr))
			}
		}
		if len(undo) > 0 {
			err = fmt.Errorf("%w; %w", err, errors.Join(undo...))
		} else if len(added) > 0 {
			err = fmt.Errorf("%w; nothing added (the %s before it removed again)", err, plural(len(added), "release added", "releases added"))
		}
		return nil, &releaseProblem{i, err}
	}
	return added, nil
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

// listStatuses are the values of releases list --status.
var listStatuses = []string{releases.StatusDraft, releases.StatusPublished, "live", "embargoed"}

func runReleasesList(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "releases list", "[--json] [--status S] [--limit N | --all]")
	asJSON := fs.Bool("json", false, "print JSON (the API's release objects) instead of a table")
	limit := fs.Int("limit", 50, "how many releases, 1-200")
	all := fs.Bool("all", false, "list every release (read in pages of 200)")
	status := fs.String("status", "", "only draft, published, live or embargoed releases")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(e, fs, "releases list takes no arguments, got %q", fs.Arg(0))
	case *limit < 1 || *limit > 200:
		return usageError(e, fs, "--limit must be from 1 to 200, got %d", *limit)
	case *all && flagGiven(fs, "limit"):
		return usageError(e, fs, "--all and --limit exclude each other")
	case *status != "" && !slices.Contains(listStatuses, *status):
		return usageError(e, fs, "--status must be draft, published, live or embargoed, got %q", *status)
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	now := a.releases.Now()
	out := newReleaseWriter(e, a.cfg.BaseURL, now, *asJSON)
	q := releases.ListQuery{Limit: *limit, Status: *status}
	if *all {
		q.Limit = 200
	}
	for {
		page, err := a.releases.List(ctx, q)
		if err != nil {
			return fail(e, err)
		}
		if err := out.write(page.Items); err != nil {
			return fail(e, err)
		}
		if page.NextCursor == "" {
			break
		}
		if !*all {
			if err := a.moreNotice(ctx, e, *status, len(page.Items)); err != nil {
				return fail(e, err)
			}
			break
		}
		last := page.Items[len(page.Items)-1]
		q.After = &store.Cursor{PublishedAt: last.PublishedAt, ID: last.ID}
	}
	if err := out.close(); err != nil {
		return fail(e, err)
	}
	return exitOK
}

// moreNotice tells on standard error (so that --json output stays whole)
// that the list stops short of every release.
func (a *app) moreNotice(ctx context.Context, e env, status string, shown int) error {
	counts, err := a.releases.Counts(ctx)
	if err != nil {
		return err
	}
	total := counts["total"]
	switch status {
	case releases.StatusPublished:
		total = counts["live"] + counts["embargoed"]
	case releases.StatusDraft, "live", "embargoed":
		total = counts[status]
	}
	fmt.Fprintf(e.stderr, "(showing the %d newest of %d; use --limit N, up to 200, or --all)\n", shown, max(total, shown+1))
	return nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// releaseWriter prints releases page by page: a table (aligned when
// flushed), or one JSON array written as it goes.
type releaseWriter struct {
	w       io.Writer
	tw      *tabwriter.Writer
	baseURL string
	now     time.Time
	json    bool
	n       int
}

func newReleaseWriter(e env, baseURL string, now time.Time, asJSON bool) *releaseWriter {
	rw := &releaseWriter{w: e.stdout, baseURL: baseURL, now: now, json: asJSON}
	if !asJSON {
		rw.tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(rw.tw, "ID\tSTATE\tPUBLISHED (UTC)\tLANG\tSLUG\tTITLE")
	}
	return rw
}

func (rw *releaseWriter) write(items []store.Release) error {
	for _, r := range items {
		if rw.tw != nil {
			fmt.Fprintf(rw.tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, statusWord(r, rw.now),
				r.PublishedAt.UTC().Format("2006-01-02 15:04"), r.Language, r.Slug, releases.Truncate(r.Title, 60))
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("  ", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(releases.NewDocument(r, rw.baseURL, rw.now)); err != nil {
			return err
		}
		sep := ",\n  "
		if rw.n == 0 {
			sep = "[\n  "
		}
		if _, err := io.WriteString(rw.w, sep+strings.TrimSuffix(buf.String(), "\n")); err != nil {
			return err
		}
		rw.n++
	}
	return nil
}

func (rw *releaseWriter) close() error {
	if rw.tw != nil {
		return rw.tw.Flush()
	}
	end := "\n]\n"
	if rw.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(rw.w, end)
	return err
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
