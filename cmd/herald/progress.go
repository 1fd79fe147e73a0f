package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line progress bar on a terminal and stays silent
// otherwise (logs and pipes get the final summary only).
type progress struct {
	w     io.Writer
	on    bool
	label string
	mu    sync.Mutex // updates may come from several goroutines
	last  time.Time
	drawn bool
}

// newProgress returns a bar on w, drawn only when w is a terminal and the
// user did not ask for quiet.
func newProgress(w io.Writer, label string, quiet bool) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: !quiet && ok && term.IsTerminal(int(f.Fd())), label: label}
}

// update redraws the bar at most ten times a second (always when done).
// With total <= 0 (unknown) it shows the detail alone.
func (p *progress) update(done, total int64, detail string) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && (total <= 0 || done < total) {
		return
	}
	p.last, p.drawn = time.Now(), true
	if total <= 0 {
		fmt.Fprintf(p.w, "\r%s %s\x1b[K", p.label, detail)
		return
	}
	const width = 30
	done = min(done, total)
	filled := int(done * width / total)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %s\x1b[K", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/total, detail)
}

// finish ends the bar's line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
