package public

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

func TestFeedRoutes_ContentTypesAndHeaders(t *testing.T) {
	s := newFeedSite(t)
	s.add(t, releasesInput("A release"))
	for path, ct := range map[string]string{
		"/feed.rss":   "application/rss+xml; charset=utf-8",
		"/feed.atom":  "application/atom+xml; charset=utf-8",
		"/feed.json":  "application/feed+json; charset=utf-8",
		"/feeds.opml": "text/x-opml; charset=utf-8",
	} {
		resp, body := s.do(t, "GET", path)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != ct {
			t.Errorf("%s: %d %q, want 200 %q", path, resp.StatusCode, h.Get("Content-Type"), ct)
		}
		if !strings.HasPrefix(h.Get("ETag"), `"`) || h.Get("Vary") != "Accept-Encoding" ||
			!strings.Contains(h.Get("Cache-Control"), "max-age=60") || h.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%s: headers %v", path, h)
		}
		if path != "/feeds.opml" {
			if _, err := time.Parse(http.TimeFormat, h.Get("Last-Modified")); err != nil {
				t.Errorf("%s: Last-Modified %q: %v", path, h.Get("Last-Modified"), err)
			}
			if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
				t.Errorf("%s: gofeed: %v", path, err)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: security headers missing: %v", path, h)
		}
	}
}

func TestFeedRoutes_ConditionalRequests(t *testing.T) {
	s := newFeedSite(t)
	s.add(t, releasesInput("A release"))
	resp, _ := s.do(t, "GET", "/feed.atom")
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	lmTime, _ := time.Parse(http.TimeFormat, lm)
	later := lmTime.Add(time.Hour).Format(http.TimeFormat)
	earlier := lmTime.Add(-time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"strong match", []string{"If-None-Match", etag}, 304},
		{"weak match", []string{"If-None-Match", "W/" + etag}, 304},
		{"in a list", []string{"If-None-Match", `"nope", ` + etag + `, "other"`}, 304},
		{"star", []string{"If-None-Match", "*"}, 304},
		{"no match", []string{"If-None-Match", `"stale"`}, 200},
		{"since exactly then", []string{"If-Modified-Since", lm}, 304},
		{"since later", []string{"If-Modified-Since", later}, 304},
		{"since earlier", []string{"If-Modified-Since", earlier}, 200},
		{"unparseable date", []string{"If-Modified-Since", "yesterday"}, 200},
		{"If-None-Match wins over If-Modified-Since", []string{"If-None-Match", `"stale"`, "If-Modified-Since", later}, 200},
		{"gzip ETag also matches", []string{"If-None-Match", strings.TrimSuffix(etag, `"`) + `-gzip"`}, 304},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.do(t, "GET", "/feed.atom", tt.headers...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 304 {
				if len(body) != 0 || resp.Header.Get("ETag") != etag || resp.Header.Get("Vary") == "" || resp.Header.Get("Cache-Control") == "" {
					t.Errorf("304 must carry ETag, Vary, Cache-Control and no body: %v %q", resp.Header, body)
				}
			}
		})
	}
	// A new live release changes the ETag: the old one no longer matches.
	s.clock.Set(siteT0.Add(time.Minute))
	s.add(t, releasesInput("Another release"))
	if resp, _ := s.do(t, "GET", "/feed.atom", "If-None-Match", etag); resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Errorf("after a new release: %d, ETag %s (old %s)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
}

func TestFeedRoutes_Gzip(t *testing.T) {
	s := newFeedSite(t)
	s.add(t, releasesInput("Compressed release"))
	_, plain := s.do(t, "GET", "/feed.rss")
	for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*", "x-gzip"} {
		resp, body := s.do(t, "GET", "/feed.rss", "Accept-Encoding", ae)
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: not gzipped: %v", ae, resp.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, plain) {
			t.Errorf("gzip body differs from the plain body")
		}
		if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || len(body) >= len(plain) {
			t.Errorf("gzip Content-Length %s for %d bytes (plain %d)", resp.Header.Get("Content-Length"), len(body), len(plain))
		}
	}
	for _, ae := range []string{"", "identity", "gzip;q=0", "deflate", "gzip;q=0.0, *", "*;q=0"} {
		resp, body := s.do(t, "GET", "/feed.rss", "Accept-Encoding", ae)
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, plain) {
			t.Errorf("Accept-Encoding %q: got Content-Encoding %q", ae, resp.Header.Get("Content-Encoding"))
		}
	}
}

func TestFeedRoutes_Head(t *testing.T) {
	s := newFeedSite(t)
	s.add(t, releasesInput("A release"))
	get, body := s.do(t, "GET", "/feed.json")
	head, hbody := s.do(t, "HEAD", "/feed.json")
	if head.StatusCode != 200 || len(hbody) != 0 {
		t.Fatalf("HEAD: %d with %d body bytes", head.StatusCode, len(hbody))
	}
	for _, k := range []string{"Content-Type", "Content-Length", "ETag", "Last-Modified"} {
		if head.Header.Get(k) != get.Header.Get(k) {
			t.Errorf("HEAD %s = %q, GET %q", k, head.Header.Get(k), get.Header.Get(k))
		}
	}
	if get.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length mismatch")
	}
	if head, _ := s.do(t, "HEAD", "/feed.json", "If-None-Match", get.Header.Get("ETag")); head.StatusCode != 304 {
		t.Errorf("conditional HEAD: %d", head.StatusCode)
	}
}

func TestFeedRoutes_Errors(t *testing.T) {
	s := newFeedSite(t)
	tests := []struct {
		path, contains string
		want           int
	}{
		{"/feed.rss?topic=nope", `unknown topic "nope"`, 404},
		{"/feed.atom?region=atlantis", `unknown region "atlantis"`, 404},
		{"/feed.json?lang=zz", `unknown language "zz"`, 404},
		{"/feed.rss?topic=migration,nope", "nope", 404},
		{"/feed.rss?limit=0", "limit", 400},
		{"/feed.rss?limit=201", "limit", 400},
		{"/feed.json?limit=abc", "limit", 400},
		{"/feed.rss?topic=%zz", "malformed", 400},
		{"/feed.rss?limit=200", "", 200},
		{"/feed.rss?utm_source=reader", "", 200},
	}
	for _, tt := range tests {
		resp, body := s.do(t, "GET", tt.path)
		if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.contains) {
			t.Errorf("%s: %d %q, want %d containing %q", tt.path, resp.StatusCode, body, tt.want, tt.contains)
		}
		if tt.want != 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: error Content-Type %q, want text/plain", tt.path, resp.Header.Get("Content-Type"))
		}
	}
	if resp, _ := s.do(t, "POST", "/feed.rss"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /feed.rss: %d", resp.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want bool
	}{
		{"absent", nil, false},
		{"gzip", []string{"gzip"}, true},
		{"case", []string{"GZIP"}, true},
		{"among others", []string{"deflate, gzip;q=0.5"}, true},
		{"several headers", []string{"br", "gzip"}, true},
		{"refused", []string{"gzip;q=0"}, false},
		{"refused with spaces", []string{"gzip ; q=0.000"}, false},
		{"star", []string{"*"}, true},
		{"star refused", []string{"*;q=0"}, false},
		{"explicit refusal beats star", []string{"gzip;q=0, *;q=1"}, false},
		{"identity only", []string{"identity"}, false},
		{"q one", []string{"gzip;q=1"}, true},
		{"q small but not zero", []string{"gzip;q=0.001"}, true},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.in); got != tt.want {
			t.Errorf("%s: acceptsGzip(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestFeedRoutes_EmbargoLeavesETagAlone(t *testing.T) {
	s := newFeedSite(t)
	s.add(t, releasesInput("Live"))
	before, _ := s.do(t, "GET", "/feed.rss")
	in := releasesInput("Embargoed")
	in.PublishedAt = feedStr(siteT0.Add(time.Hour).Format(time.RFC3339))
	s.add(t, in)
	draft := releasesInput("Draft")
	draft.Status = feedStr("draft")
	s.add(t, draft)
	after, body := s.do(t, "GET", "/feed.rss")
	if after.Header.Get("ETag") != before.Header.Get("ETag") || after.Header.Get("Last-Modified") != before.Header.Get("Last-Modified") {
		t.Errorf("ETag or Last-Modified moved before the embargo ended")
	}
	if bytes.Contains(body, []byte("Embargoed")) || bytes.Contains(body, []byte("Draft")) {
		t.Errorf("the feed shows an embargoed or draft release")
	}
	s.clock.Set(siteT0.Add(time.Hour))
	if _, err := s.rel.PublishDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, body := s.do(t, "GET", "/feed.rss", "If-None-Match", before.Header.Get("ETag")); resp.StatusCode != 200 || !bytes.Contains(body, []byte("Embargoed")) {
		t.Errorf("after the embargo: %d, embargoed release listed: %v", resp.StatusCode, bytes.Contains(body, []byte("Embargoed")))
	}
}
