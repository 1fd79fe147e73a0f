package feeds

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/releases"
	"herald/store"
)

func TestCache_HitsDoNotQueryTheDatabase(t *testing.T) {
	e := newEnv(t)
	e.create(t, relSpec{title: "One", topics: []string{"migration", "refugees"}})
	first := e.get(t, RSS, "topic=migration,refugees")
	calls := e.lister.calls.Load()
	for _, q := range []string{"topic=migration,refugees", "topic=refugees&topic=migration", "topic=REFUGEES,migration&limit=50"} {
		if d := e.get(t, RSS, q); d != first {
			t.Errorf("%q: a different document for the same filter", q)
		}
	}
	if n := e.lister.calls.Load(); n != calls {
		t.Errorf("cache hits queried the database %d times", n-calls)
	}
}

func TestCache_UnrelatedChangeKeepsTheDocument(t *testing.T) {
	e := newEnv(t)
	e.create(t, relSpec{title: "Migration news", topics: []string{"migration"}})
	before := e.get(t, Atom, "topic=migration")
	e.clock.Set(t0.Add(time.Hour))
	e.create(t, relSpec{title: "Refugee news", topics: []string{"refugees"}})
	after := e.get(t, Atom, "topic=migration")
	if after != before {
		t.Errorf("a release outside the filter changed the document (ETag %s -> %s)", before.ETag, after.ETag)
	}
	if all := e.get(t, Atom, ""); all.Items != 2 {
		t.Errorf("the unfiltered feed has %d items, want 2", all.Items)
	}
}

func TestCache_InvalidatedByEditAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.create(t, relSpec{title: "A", at: t0.Add(-time.Hour)})
	e.create(t, relSpec{title: "B", at: t0.Add(-2 * time.Hour)})
	d1 := e.get(t, JSON, "")

	e.clock.Set(t0.Add(time.Minute))
	title := "A, edited"
	if _, err := e.rel.Update(ctx, a.ID, releases.Input{Title: &title}); err != nil {
		t.Fatal(err)
	}
	d2 := e.get(t, JSON, "")
	if d2.ETag == d1.ETag || !strings.Contains(string(d2.Body), "A, edited") {
		t.Fatalf("the edit is not in the feed")
	}

	e.clock.Set(t0.Add(time.Hour))
	if err := e.rel.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	d3 := e.get(t, JSON, "")
	if d3.ETag == d2.ETag || d3.Items != 1 {
		t.Fatalf("the deletion is not in the feed")
	}
	// The remaining item is older than the last Last-Modified: a deletion
	// must still move Last-Modified forward, or If-Modified-Since would hide it.
	if !d3.LastModified.After(d2.LastModified) {
		t.Errorf("Last-Modified went from %v to %v after a deletion", d2.LastModified, d3.LastModified)
	}
}

func TestCache_BoundedMemory(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.create(t, relSpec{title: fmt.Sprintf("Release %d", i), body: strings.Repeat("Some text. ", 200),
			at: t0.Add(-time.Duration(i) * time.Minute)})
	}
	probe := e.get(t, RSS, "limit=10")
	limit := int64(len(probe.Body)+len(probe.Gzip)+512) * 3
	fs := New(Options{SiteName: "Press Office", BaseURL: testBase, MaxBytes: limit, MaxEntries: 5}, e.rel, e.db)
	for round := range 2 {
		for n := 1; n <= 20; n++ {
			d, err := fs.Get(context.Background(), RSS, fmt.Sprintf("limit=%d", n))
			if err != nil {
				t.Fatal(err)
			}
			if d.Items != n {
				t.Fatalf("round %d: limit=%d gave %d items", round, n, d.Items)
			}
			st := fs.Stats()
			if st.Entries > 5 || st.Bytes > limit+int64(len(d.Body)+len(d.Gzip)+512) {
				t.Fatalf("cache holds %d entries, %d bytes; bounds are 5 and about %d", st.Entries, st.Bytes, limit)
			}
		}
	}
}

func TestCache_ConcurrentReadersAndWriters(t *testing.T) {
	e := newEnv(t)
	e.create(t, relSpec{title: "Seed"})
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			queries := []string{"", "topic=migration", "region=americas", "lang=en,fr"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				d, err := e.feeds.Get(ctx, feedFormats[(g+i)%3], queries[i%len(queries)])
				if err != nil || len(d.Body) == 0 || len(d.Gzip) == 0 {
					t.Errorf("get: %v", err)
					return
				}
			}
		})
	}
	for i := range 20 {
		e.create(t, relSpec{title: fmt.Sprintf("Concurrent %d", i), regions: []string{"argentina"}})
	}
	close(stop)
	wg.Wait()
	if d := e.get(t, RSS, "region=americas"); d.Items != 21 {
		t.Errorf("after the writes the feed has %d items, want 21", d.Items)
	}
}

// TestFeeds_AgreeWithTheMatchingRule checks, over a random corpus and random
// filters, that a feed lists exactly the live releases that
// releases.Taxonomy.Matches (the rule subscribers are matched by) accepts,
// in any of the languages asked for, newest first: the SQL of feeds and the
// Go rule of the dispatcher must never drift apart (SPEC 2).
func TestFeeds_AgreeWithTheMatchingRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tax, err := e.rel.Taxonomy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	topics := slugs(tax.Topics)[:6]
	regions := slugs(tax.Regions)
	langs := []string{"en", "fr", "es", "ar"}
	pick := func(from []string, max int) []string {
		var out []string
		for range rng.IntN(max + 1) {
			out = append(out, from[rng.IntN(len(from))])
		}
		return out
	}
	var corpus []store.Release
	for i := range 120 {
		spec := relSpec{title: fmt.Sprintf("Release %d", i), topics: pick(topics, 2), regions: pick(regions, 2),
			lang: langs[rng.IntN(len(langs))], at: t0.Add(-time.Duration(rng.IntN(5000)) * time.Minute)}
		switch rng.IntN(7) {
		case 0:
			spec.at = t0.Add(time.Duration(1+rng.IntN(500)) * time.Minute) // embargoed
		case 1:
			spec.status = "draft"
		}
		if len(spec.topics) == 0 {
			spec.topics = []string{topics[0]}
		}
		corpus = append(corpus, e.create(t, spec))
	}
	sort.Slice(corpus, func(i, j int) bool {
		if !corpus[i].PublishedAt.Equal(corpus[j].PublishedAt) {
			return corpus[i].PublishedAt.After(corpus[j].PublishedAt)
		}
		return corpus[i].ID > corpus[j].ID
	})
	for i := range 150 {
		p := releases.Prefs{Topics: pick(topics, 2), Regions: pick(regions, 2)}
		want := pick(langs, 2)
		q := fmt.Sprintf("topic=%s&region=%s&lang=%s&limit=200",
			strings.Join(p.Topics, ","), strings.Join(p.Regions, ","), strings.Join(want, ","))
		var expect []string
		for _, r := range corpus {
			if releases.IsLive(&r, t0) && tax.Matches(p, r.Topics, r.Regions) && (len(want) == 0 || slices.Contains(want, r.Language)) {
				expect = append(expect, r.GUID)
			}
		}
		got := guids(parse(t, e.get(t, JSON, q)))
		if !slices.Equal(got, expect) {
			t.Fatalf("filter %d (%s): feed lists %d releases, the matching rule %d\nfeed: %v\nrule: %v",
				i, q, len(got), len(expect), got, expect)
		}
	}
}

func slugs(terms []store.Term) []string {
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = t.Slug
	}
	return out
}
