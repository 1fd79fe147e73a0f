package feeds

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"herald/internal/clocktest"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
)

// countingLister counts the queries that reach the database.
type countingLister struct {
	db    *store.DB
	calls atomic.Int64
}

func (l *countingLister) ReleaseList(ctx context.Context, f store.ReleaseFilter) ([]store.Release, error) {
	l.calls.Add(1)
	return l.db.ReleaseList(ctx, f)
}

// env is a migrated SQLite database in t.TempDir() with the built-in
// taxonomy, a release service on a fixed clock and a feeds service.
type env struct {
	db     *store.DB
	rel    *releases.Service
	feeds  *Service
	clock  *clocktest.Clock
	lister *countingLister
}

const testBase = "https://press.example.org"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	c := clocktest.New(t0)
	rel := releases.New(db, releases.Options{Now: c.Now})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatalf("taxonomy: %v", err)
	}
	l := &countingLister{db: db}
	fs := New(Options{SiteName: "Press Office", BaseURL: testBase + "/"}, rel, l)
	return &env{db: db, rel: rel, feeds: fs, clock: c, lister: l}
}

// rel describes a release to create in tests.
type relSpec struct {
	title, body, lang, slug, key, status string
	topics, regions                      []string
	at                                   time.Time // published_at; zero: now
	contacts                             []store.Contact
}

func (e *env) create(t testing.TB, r relSpec) store.Release {
	t.Helper()
	in := releases.Input{Title: &r.title}
	body := r.body
	if body == "" {
		body = "Body of " + r.title + "."
	}
	in.Body = &body
	if r.lang != "" {
		in.Language = &r.lang
	}
	if r.slug != "" {
		in.Slug = &r.slug
	}
	if r.key != "" {
		in.TranslationKey = &r.key
	}
	if r.status != "" {
		in.Status = &r.status
	}
	topics := releases.List(r.topics)
	if len(topics) == 0 {
		topics = releases.List{"migration"}
	}
	in.Topics = &topics
	regions := releases.List(r.regions)
	in.Regions = &regions
	if !r.at.IsZero() {
		s := r.at.UTC().Format(time.RFC3339Nano)
		in.PublishedAt = &s
	}
	if r.contacts != nil {
		in.Contacts = &r.contacts
	}
	out, err := e.rel.Create(context.Background(), in)
	if err != nil {
		t.Fatalf("create %q: %v", r.title, err)
	}
	return out
}

func (e *env) get(t testing.TB, f Format, query string) *Doc {
	t.Helper()
	d, err := e.feeds.Get(context.Background(), f, query)
	if err != nil {
		t.Fatalf("get %s?%s: %v", f.Path(), query, err)
	}
	return d
}
