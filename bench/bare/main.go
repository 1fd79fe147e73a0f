// Command bare is the yardstick of bench/feeds.sh: a bare net/http handler
// that writes one feed's bytes from memory (plain, gzip or 304), with no
// routing, middleware or cache lookup. It shows how much of the distance to
// nginx is Go's HTTP server itself.
//
//	bare ADDR FEED FEED.gz ETAG
package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: bare ADDR FEED FEED.gz ETAG")
		os.Exit(2)
	}
	plain, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gz, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	etag := os.Args[4]
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := plain
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			body = gz
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	if err := http.ListenAndServe(os.Args[1], h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
