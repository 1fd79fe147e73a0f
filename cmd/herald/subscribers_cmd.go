package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"herald/subscribers"
)

func runSubscribersImport(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "subscribers import", "FILE.csv|-")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "subscribers import needs one CSV FILE, or - for standard input")
	}
	name := fs.Arg(0)
	var in io.Reader = e.stdin
	var size int64
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fail(e, err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	svc := a.subscribers
	cr := &countingReader{r: in}
	opts := subscribers.ImportOptions{Consent: subscribers.Consent{IP: "cli", Page: "import"}}
	bar := newProgress(e.stderr, "importing", *quiet)
	if bar.on {
		opts.Progress = func(done subscribers.ImportResult) {
			bar.update(cr.n.Load(), size, fmt.Sprintf("%d rows", done.Rows()))
		}
	}
	start := time.Now()
	res, err := svc.Import(ctx, cr, opts)
	bar.finish()
	if err != nil {
		return fail(e, fmt.Errorf("%s: %w", name, err))
	}
	for _, re := range res.Errors {
		fmt.Fprintf(e.stderr, "herald: %s: line %d: %s\n", name, re.Line, re.Error)
	}
	if res.ErrorsOmitted > 0 {
		fmt.Fprintf(e.stderr, "herald: %s: %d more rows had errors\n", name, res.ErrorsOmitted)
	}
	nerr := len(res.Errors) + res.ErrorsOmitted
	fmt.Fprintf(e.stdout, "added %d, updated %d, skipped %d, errors %d (%.1fs)\n",
		res.Added, res.Updated, res.Skipped, nerr, time.Since(start).Seconds())
	if nerr > 0 {
		return exitFail
	}
	return exitOK
}

func runSubscribersExport(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "subscribers export", "[FILE]")
	quiet := fs.Bool("quiet", false, "no progress count")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		return usageError(e, fs, "subscribers export takes at most one FILE (default: standard output)")
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	svc := a.subscribers
	bar := newProgress(e.stderr, "exporting", *quiet)
	var progress func(int)
	if bar.on {
		progress = func(n int) { bar.update(0, 0, fmt.Sprintf("%d rows", n)) }
	}
	if fs.NArg() == 0 || fs.Arg(0) == "-" {
		_, err = svc.Export(ctx, e.stdout, progress)
		bar.finish()
		if err != nil {
			return fail(e, err)
		}
		return exitOK
	}
	n, err := exportFile(ctx, svc, fs.Arg(0), progress)
	bar.finish()
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stderr, "herald: exported %s to %s\n", plural(n, "subscriber", "subscribers"), fs.Arg(0))
	return exitOK
}

// exportFile writes the export next to name and renames it into place, so
// that a failed export never leaves half a file; the file holds personal
// data and is readable by its owner only.
func exportFile(ctx context.Context, svc *subscribers.Service, name string, progress func(int)) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := svc.Export(ctx, tmp, progress)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	return n, err
}

// countingReader counts the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
