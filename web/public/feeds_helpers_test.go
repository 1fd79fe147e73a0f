package public

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/templates"
	"herald/web/ui"
)

// feedSite is herald's public site on a real SQLite database, served by
// httptest through the same middleware as `herald serve`.
type feedSite struct {
	srv   *httptest.Server
	site  *Site
	h     http.Handler
	rel   *releases.Service
	clock *siteClock
}

type siteClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *siteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *siteClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

const siteBase = "https://press.example.org"

var siteT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newFeedSite(t testing.TB) *feedSite {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	c := &siteClock{t: siteT0}
	rel := releases.New(db, releases.Options{Now: c.Now})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	static := staticFiles(t)
	w, err := New(Options{SiteName: "Press Office", BaseURL: siteBase}, Deps{
		Templates: templates.Embedded(), Static: static,
		Releases: rel, Store: db,
		Feeds: feeds.New(feeds.Options{SiteName: "Press Office", BaseURL: siteBase}, rel, db),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", static)
	w.Register(mux)
	log := slog.New(slog.DiscardHandler)
	h := ui.Instrument(reg, log, ui.Recover(log, ui.SecurityHeaders(mux)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &feedSite{srv: srv, site: w, h: h, rel: rel, clock: c}
}

// add creates a release; in is completed with a body and a topic.
func (s *feedSite) add(t testing.TB, in releases.Input) store.Release {
	t.Helper()
	if in.Body == nil {
		b := "First paragraph of the release.\n\nSecond paragraph."
		in.Body = &b
	}
	if in.Topics == nil {
		l := releases.List{"migration"}
		in.Topics = &l
	}
	r, err := s.rel.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// do sends a request with headers (name, value pairs) and returns the
// response with its body read.
func (s *feedSite) do(t testing.TB, method, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// Ask for exactly what the test says: no transparent gzip.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func feedStr(s string) *string { return &s }

func feedList(s ...string) *releases.List { l := releases.List(s); return &l }

// releasesInput is a release with a title and the defaults of add.
func releasesInput(title string) releases.Input { return releases.Input{Title: &title} }

// staticFiles are the embedded stylesheets and scripts.
func staticFiles(t testing.TB) *ui.Static {
	t.Helper()
	st, err := ui.LoadStatic(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
