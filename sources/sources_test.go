package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/outbound"
	"herald/releases"
	"herald/sources"
	"herald/store"
	"herald/store/storetest"
)

// cms is a real HTTP server standing for the organization's CMS: it serves
// whatever feed the test sets, with an ETag, and answers 304 to a
// matching If-None-Match.
type cms struct {
	srv      *httptest.Server
	mu       sync.Mutex
	body     string
	ctype    string
	requests int
	notMod   int
}

func newCMS(t *testing.T) *cms {
	c := &cms{ctype: "application/rss+xml"}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.requests++
		etag := fmt.Sprintf(`"%x"`, len(c.body)*31+strings.Count(c.body, "e"))
		if r.Header.Get("If-None-Match") == etag {
			c.notMod++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", c.ctype)
		w.Write([]byte(c.body))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *cms) set(body string) {
	c.mu.Lock()
	c.body = body
	c.mu.Unlock()
}

func rss(items ...string) string {
	return `<?xml version="1.0"?><rss version="2.0"><channel><title>CMS</title><link>https://www.example.org/</link>
<language>fr-FR</language>` + strings.Join(items, "") + `</channel></rss>`
}

func rssItem(guid, title, link, desc string, cats ...string) string {
	var c string
	for _, x := range cats {
		c += "<category>" + x + "</category>"
	}
	g := ""
	if guid != "" {
		g = "<guid>" + guid + "</guid>"
	}
	l := ""
	if link != "" {
		l = "<link>" + link + "</link>"
	}
	return "<item>" + g + "<title>" + title + "</title>" + l + "<description>" + desc + "</description>" + c +
		"<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate></item>"
}

type fixture struct {
	db  *store.DB
	rel *releases.Service
	src *sources.Service
}

func newFixture(t *testing.T, allowPrivate bool) *fixture {
	t.Helper()
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	svc := sources.New(db, outbound.New(outbound.Options{AllowPrivate: allowPrivate}), rel, sources.Options{BaseURL: "https://press.example.org"})
	return &fixture{db: db, rel: rel, src: svc}
}

func (f *fixture) source(t *testing.T, in sources.Input) store.Source {
	t.Helper()
	s, err := f.src.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) run(t *testing.T, id int64) sources.RunDocument {
	t.Helper()
	r, err := f.src.RunNow(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) releases(t *testing.T) []releases.Document {
	t.Helper()
	p, err := f.rel.List(context.Background(), releases.ListQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	out := []releases.Document{}
	for _, r := range p.Items {
		out = append(out, releases.NewDocument(r, "", time.Now()))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestIngest_NewUpdatedUnchanged(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	c.set(rss(
		rssItem("g1", "Première annonce", "https://www.example.org/fr/news/1", "<p>Texte <b>un</b></p><script>alert(1)</script>", "Amériques"),
		rssItem("", "Sans guid", "https://www.example.org/fr/news/2", "Deux"),
		rssItem("", "Ni guid ni lien", "", "Trois"),
		rssItem("g1", "Doublon", "https://www.example.org/fr/news/1b", "Doublon"),
	))
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL + "/feed"), Mode: ptr("publish"), Topics: &releases.List{"migration"},
		CategoryMap: &map[string]string{"Amériques": "americas"}})
	r := f.run(t, src.ID)
	if r.Status != "ok" || r.New != 2 || r.Skipped != 2 || r.Updated != 0 {
		t.Fatalf("first poll %+v", r)
	}
	rs := f.releases(t)
	if len(rs) != 2 {
		t.Fatalf("%d releases", len(rs))
	}
	var first releases.Document
	for _, x := range rs {
		if x.Title == "Première annonce" {
			first = x
		}
	}
	if first.Language != "fr" || first.Status != "published" || first.URL != "https://www.example.org/fr/news/1" ||
		strings.Contains(first.BodyHTML, "script") || !strings.Contains(first.BodyHTML, "<b>un</b>") ||
		len(first.Regions) != 1 || first.Regions[0] != "americas" || first.PublishedAt != "2026-03-02T09:00:00Z" {
		t.Fatalf("release from the item: %+v", first)
	}
	// Nothing new: one conditional request, answered 304.
	r = f.run(t, src.ID)
	if r.Status != "not_modified" || c.notMod != 1 || c.requests != 2 {
		t.Fatalf("second poll %+v (requests %d, 304s %d)", r, c.requests, c.notMod)
	}
	// An edited item updates its release, once, and never publishes it again.
	c.set(rss(
		rssItem("g1", "Première annonce (corrigée)", "https://www.example.org/fr/news/1", "<p>Texte corrigé</p>", "Amériques"),
		rssItem("", "Sans guid", "https://www.example.org/fr/news/2", "Deux"),
	))
	r = f.run(t, src.ID)
	if r.Status != "ok" || r.Updated != 1 || r.Unchanged != 1 || r.New != 0 {
		t.Fatalf("poll after an edit %+v", r)
	}
	rs = f.releases(t)
	if len(rs) != 2 {
		t.Fatalf("an edit made a new release: %d", len(rs))
	}
	evs, _ := f.db.Events(context.Background(), 20)
	published, updated := 0, 0
	for _, e := range evs {
		switch e.Type {
		case store.EventReleasePublished:
			published++
		case store.EventReleaseUpdated:
			updated++
		}
	}
	if published != 2 || updated != 1 {
		t.Fatalf("events: %d published, %d updated", published, updated)
	}
	runs, err := f.src.Runs(context.Background(), src.ID, 10)
	if err != nil || len(runs) != 3 || runs[0].Updated != 1 {
		t.Fatalf("runs %+v %v", runs, err)
	}
}

func TestIngest_DraftModeAndStaffPublishing(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	c.set(rss(rssItem("d1", "Draft item", "https://www.example.org/en/d1", "Body")))
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL), Topics: &releases.List{"migration"}})
	f.run(t, src.ID)
	rs := f.releases(t)
	if len(rs) != 1 || rs[0].Status != "draft" {
		t.Fatalf("draft mode: %+v", rs)
	}
	id := rs[0].ID
	var rid int64
	fmt.Sscan(id, &rid)
	if _, err := f.rel.Update(context.Background(), rid, releases.Input{Status: ptr("published")}); err != nil {
		t.Fatal(err)
	}
	c.set(rss(rssItem("d1", "Draft item, edited", "https://www.example.org/en/d1", "Body 2")))
	f.run(t, src.ID)
	rs = f.releases(t)
	if len(rs) != 1 || rs[0].Status != "published" || rs[0].Title != "Draft item, edited" {
		t.Fatalf("after the edit: %+v", rs)
	}
}

func TestIngest_BadFeeds(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL), Topics: &releases.List{"migration"}})
	for _, tc := range []struct {
		name, body, want string
	}{
		{"html page", "<!DOCTYPE html><html><body>Welcome</body></html>", "HTML page"},
		{"invalid xml", "<rss><channel><item><title>broken", "not a readable feed"},
		{"too large", rss(rssItem("big", "Big", "https://www.example.org/big", strings.Repeat("x", sources.MaxFeedBytes))), "larger than"},
	} {
		c.set(tc.body)
		r := f.run(t, src.ID)
		got, _ := f.src.Get(context.Background(), src.ID)
		if r.Status != "error" || !strings.Contains(r.Error, tc.want) || !strings.Contains(got.LastError, tc.want) || got.Failures == 0 ||
			!got.NextRunAt.After(got.LastRunAt.Add(src.Interval)) {
			t.Errorf("%s: run %+v, source failures %d error %q next %v", tc.name, r, got.Failures, got.LastError, got.NextRunAt)
		}
	}
	if rs := f.releases(t); len(rs) != 0 {
		t.Fatalf("a bad feed made %d releases", len(rs))
	}
	// A good poll clears the error.
	c.set(rss(rssItem("ok", "Fine", "https://www.example.org/ok", "Fine")))
	f.run(t, src.ID)
	if got, _ := f.src.Get(context.Background(), src.ID); got.Failures != 0 || got.LastError != "" {
		t.Fatalf("after a good poll: %d %q", got.Failures, got.LastError)
	}
}

func TestIngest_ItemCap(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	var items []string
	for i := range 10000 {
		items = append(items, rssItem(fmt.Sprint("n", i), fmt.Sprint("Item ", i), "", "x"))
	}
	c.set(rss(items...))
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL), Topics: &releases.List{"migration"}})
	r := f.run(t, src.ID)
	if r.New != sources.MaxItems || r.Skipped != 10000-sources.MaxItems {
		t.Fatalf("10,000 items: %+v", r)
	}
}

func TestIngest_Refusals(t *testing.T) {
	f := newFixture(t, false)
	c := newCMS(t)
	c.set(rss(rssItem("x", "X", "https://www.example.org/x", "X")))
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL), Topics: &releases.List{"migration"}})
	if r := f.run(t, src.ID); r.Status != "error" || !strings.Contains(r.Error, "not allowed") {
		t.Fatalf("a loopback source with private addresses refused: %+v", r)
	}
	for _, tc := range []struct {
		in    sources.Input
		field string
	}{
		{sources.Input{URL: ptr("ftp://www.example.org/feed")}, "url"},
		{sources.Input{URL: ptr("https://press.example.org/feed.rss")}, "url"},
		{sources.Input{URL: ptr("https://x.example.org/"), Mode: ptr("live")}, "mode"},
		{sources.Input{URL: ptr("https://x.example.org/"), Topics: &releases.List{"nope"}}, "topics"},
		{sources.Input{URL: ptr("https://x.example.org/"), Interval: ptr("1s")}, "interval"},
		{sources.Input{URL: ptr("https://x.example.org/"), CategoryMap: &map[string]string{"A": "nope"}}, "category_map"},
		{sources.Input{URL: ptr("https://x.example.org/"), Mode: ptr("publish")}, "topics"},
		{sources.Input{URL: ptr("https://x.example.org/"), TranslationKeyFrom: ptr("title")}, "translation_key_from"},
	} {
		_, err := f.src.Create(context.Background(), tc.in)
		var ve *releases.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%+v: %v, want an error on %s", tc.in, err, tc.field)
		}
	}
}

// pendingAlerts lists the releases still waiting for their automatic alert.
func (f *fixture) pendingAlerts(t *testing.T) []int64 {
	t.Helper()
	ids, err := f.db.PendingAutoAlerts(context.Background(), time.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestIngest_FirstPollIsABaselineWithoutAlerts(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	c.set(rss(rssItem("old-1", "Old one", "https://www.example.org/en/news/1", "One"),
		rssItem("old-2", "Old two", "https://www.example.org/en/news/2", "Two")))
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL + "/feed"), Mode: ptr("publish"), Topics: &releases.List{"migration"}})
	if r := f.run(t, src.ID); r.New != 2 || r.Status != "ok" {
		t.Fatalf("first poll %+v", r)
	}
	// The back catalogue is published (the newsroom has the archive) but
	// queues no automatic alert.
	if rs := f.releases(t); len(rs) != 2 || !rs[0].Live || !rs[1].Live {
		t.Fatalf("releases after the baseline %+v", rs)
	}
	if got := f.pendingAlerts(t); len(got) != 0 {
		t.Fatalf("baseline items wait for an alert: %v", got)
	}
	got, err := f.src.Get(context.Background(), src.ID)
	if err != nil || got.BaselineAt.IsZero() {
		t.Fatalf("baseline not recorded: %+v %v", got, err)
	}

	// An item that appears afterwards is news: it alerts.
	c.set(rss(rssItem("new-3", "Fresh news", "https://www.example.org/en/news/3", "Three"),
		rssItem("old-1", "Old one", "https://www.example.org/en/news/1", "One"),
		rssItem("old-2", "Old two", "https://www.example.org/en/news/2", "Two")))
	if r := f.run(t, src.ID); r.New != 1 || r.Unchanged != 2 {
		t.Fatalf("second poll %+v", r)
	}
	pending := f.pendingAlerts(t)
	if len(pending) != 1 {
		t.Fatalf("pending alerts %v, want the new item only", pending)
	}
	if r, err := f.db.Release(context.Background(), pending[0]); err != nil || r.Title != "Fresh news" {
		t.Fatalf("alerted release %+v %v", r, err)
	}

	// A new URL is another feed: its existing items are a new baseline.
	c2 := newCMS(t)
	c2.set(rss(rssItem("other-1", "Other site's archive", "https://www.example.org/en/news/9", "Nine")))
	if _, err := f.src.Update(context.Background(), src.ID, sources.Input{URL: ptr(c2.srv.URL + "/feed")}); err != nil {
		t.Fatal(err)
	}
	if r := f.run(t, src.ID); r.New != 1 {
		t.Fatalf("poll of the new URL %+v", r)
	}
	if got := f.pendingAlerts(t); len(got) != 1 || got[0] != pending[0] {
		t.Fatalf("pending alerts after the URL change %v, want only %d", got, pending[0])
	}
}

func TestIngest_FailedFirstPollTakesNoBaseline(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	c.set("<html><body>maintenance</body></html>")
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL + "/feed"), Mode: ptr("publish"), Topics: &releases.List{"migration"}})
	if r := f.run(t, src.ID); r.Status != "error" {
		t.Fatalf("poll of an HTML page %+v", r)
	}
	c.set(rss(rssItem("old-1", "Old one", "https://www.example.org/en/news/1", "One")))
	if r := f.run(t, src.ID); r.New != 1 {
		t.Fatalf("first good poll %+v", r)
	}
	if got := f.pendingAlerts(t); len(got) != 0 {
		t.Fatalf("the first successful poll alerted: %v", got)
	}
}

func TestSources_DisabledIsNotPolledOnSchedule(t *testing.T) {
	f := newFixture(t, true)
	c := newCMS(t)
	c.set(rss(rssItem("g1", "One", "https://www.example.org/en/news/1", "One")))
	src := f.source(t, sources.Input{URL: ptr(c.srv.URL + "/feed"), Enabled: ptr(false)})
	if src.Enabled {
		t.Fatal("created enabled")
	}
	ctx := context.Background()
	if _, err := f.db.ClaimSource(ctx, 0, time.Now().Add(time.Hour), time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a disabled source was claimed: %v", err)
	}
	if _, err := f.src.Update(ctx, src.ID, sources.Input{Enabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.db.ClaimSource(ctx, 0, time.Now().Add(time.Hour), time.Minute); err != nil || got.ID != src.ID {
		t.Fatalf("enabled source not claimed: %+v %v", got, err)
	}
}
