// Command herald is the press-release distribution daemon and its CLI.
// main only wires the process to run; see run for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	_ "time/tzdata" // subscribers' time zones work on machines without tzdata
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	stopProfile := startCPUProfile(os.Getenv("HERALD_CPUPROFILE_DIR"), os.Args)
	bulkGC(os.Args, os.Getenv)
	code := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// bulkGC lets the garbage collector run less often in a one-shot command:
// an import or an alert to a million people allocates a few values per row
// while it keeps only a batch or two alive, and with Go's default (collect
// when the heap doubles) a quarter of its CPU went to collecting a 10 MB
// heap. Collecting when the heap has grown fivefold, capped at 96 MiB,
// took the PostgreSQL alert of bench/dispatch.sh from 6.5 to 4.7 s of
// CPU. The daemon keeps the default: its caches make its heap larger.
// GOGC and GOMEMLIMIT, when set, decide instead.
func bulkGC(args []string, getenv func(string) string) {
	if len(args) < 2 || args[1] == "serve" {
		return
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
}

// startCPUProfile writes a CPU profile of this command into dir (named after
// the command and the process id) when dir is set: how bench/dispatch.sh
// sees where an alert or a digest run spends its time at a million
// subscribers. It returns the function that ends the profile.
func startCPUProfile(dir string, args []string) func() {
	if dir == "" {
		return func() {}
	}
	name := "herald"
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") || len(name) > 40 {
			break
		}
		name += "-" + filepath.Base(a)
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid())))
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "herald: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
