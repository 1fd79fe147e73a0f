package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line progress bar on a terminal and stays silent
// otherwise (logs and pipes get the final summary only).
type progress struct {
	w     io.Writer
	on    bool
	label string
	last  time.Time
}

func newProgress(w io.Writer, label string) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd())), label: label}
}

// update redraws the bar at most ten times a second (always when done).
func (p *progress) update(done, total int, detail string) {
	if !p.on {
		return
	}
	if time.Since(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := width
	pct := 100
	if total > 0 {
		filled = min(width, done*width/total)
		pct = min(100, done*100/total)
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d/%d %s\x1b[K", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, done, total, detail)
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}
