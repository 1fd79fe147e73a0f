package public

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/store"
)

// These tests run against the public server over real HTTP, on the engine
// the environment selects (HERALD_TEST_POSTGRES): the same assertions hold
// SQLite FTS5 and PostgreSQL full-text search to one behaviour.

// newsroomSite seeds releases in four languages, topics and regions.
func newsroomSite(t *testing.T) *feedSite {
	t.Helper()
	s := newFeedSite(t)
	add := func(slug, lang, title, body, topic string, regions []string, ago time.Duration, key string) {
		in := releasesInput(title)
		in.Slug, in.Language, in.Body = feedStr(slug), feedStr(lang), feedStr(body)
		in.Topics = feedList(topic)
		if regions != nil {
			in.Regions = feedList(regions...)
		}
		in.PublishedAt = feedStr(siteT0.Add(-ago).Format(time.RFC3339))
		if key != "" {
			in.TranslationKey = feedStr(key)
		}
		s.add(t, in)
	}
	add("evac-fr", "fr", "Évacuation des familles en Haïti", "L'équipe a organisé l'évacuation de 300 personnes.", "emergencies", []string{"haiti"}, 1*time.Hour, "evac")
	add("evac-en", "en", "Families evacuated in Haiti", "The team organised the evacuation of 300 people.", "emergencies", []string{"haiti"}, 2*time.Hour, "evac")
	add("evac-es", "es", "Evacuación de familias en Haití", "El equipo organizó la evacuación de 300 personas.", "emergencies", []string{"haiti"}, 3*time.Hour, "evac")
	add("yemen-ar", "ar", "إجلاء العائلات في اليمن", "أعلنت المنظمة عن خطة جديدة للمهاجرين في اليمن.", "emergencies", []string{"yemen"}, 4*time.Hour, "")
	add("global-report", "en", "Global report on migration", "A yearly report. Evacuation is mentioned once.", "migration", nil, 5*time.Hour, "")
	add("ukraine-en", "en", "Support in Ukraine", "Shelters were opened.", "migration", []string{"ukraine"}, 6*time.Hour, "")
	add("argentina-en", "en", "Road map in Argentina", "Integration plan adopted.", "integration", []string{"argentina"}, 7*time.Hour, "")
	return s
}

// listed returns the release slugs a page links to, in order.
func listed(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<h2><a href="/releases/([^"]+)">`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func (s *feedSite) get(t *testing.T, path string, want int) string {
	t.Helper()
	resp, body := s.do(t, "GET", path)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.600s", path, resp.StatusCode, want, body)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		checkPageHeaders(t, path, resp.Header, body)
	}
	return string(body)
}

func TestArchive_FiltersAndPaging(t *testing.T) {
	s := newsroomSite(t)
	all := []string{"evac-fr", "evac-en", "evac-es", "yemen-ar", "global-report", "ukraine-en", "argentina-en"}
	if got := listed(s.get(t, "/releases", 200)); !slices.Equal(got, all) {
		t.Fatalf("/releases = %v, want %v", got, all)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"topic=migration", []string{"global-report", "ukraine-en"}},
		{"lang=fr,es", []string{"evac-fr", "evac-es"}},
		{"region=europe", []string{"global-report", "ukraine-en"}}, // descendants and global
		{"region=americas&lang=en", []string{"evac-en", "global-report", "argentina-en"}},
		{"from=2026-03-02&to=2026-03-02&topic=emergencies&lang=ar", []string{"yemen-ar"}},
		{"to=2026-03-01", nil},
		{"q=evacuation&lang=en", []string{"evac-en", "global-report"}}, // words, newest first
		{"q=***", nil},
	} {
		if got := listed(s.get(t, "/releases?"+tc.query, 200)); !slices.Equal(got, tc.want) {
			t.Errorf("/releases?%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	// GET / with a filter is the same list.
	if got := listed(s.get(t, "/?topic=migration", 200)); !slices.Equal(got, []string{"global-report", "ukraine-en"}) {
		t.Errorf("/?topic=migration = %v", got)
	}

	// Paging: 25 more releases make two pages of 20, then 12.
	for i := range 25 {
		in := releasesInput(fmt.Sprintf("Bulk release %02d", i))
		in.PublishedAt = feedStr(siteT0.Add(-time.Duration(10+i) * time.Hour).Format(time.RFC3339))
		s.add(t, in)
	}
	var seen []string
	path := "/releases"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		page := s.get(t, path, 200)
		seen = append(seen, listed(page)...)
		m := regexp.MustCompile(`<a rel="next" href="([^"]+)"`).FindStringSubmatch(page)
		path = ""
		if m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 32 || seen[0] != "evac-fr" || seen[31] != "bulk-release-24" {
		t.Fatalf("paged through %d releases: %v", len(seen), seen)
	}
	if c := slices.Compact(slices.Clone(seen)); len(c) != len(seen) {
		t.Errorf("a release shows on two pages")
	}
}

func TestArchive_BadInput(t *testing.T) {
	s := newsroomSite(t)
	page := s.get(t, "/releases", 200)
	_ = page
	for _, q := range []string{
		"topic=no-such-topic", "region=atlantis", "lang=xx-invalid-", "from=yesterday", "to=2026-13-45",
		"cursor=abc", "cursor=" + url.QueryEscape("ZC4xLjI"), "cursor=%00%01",
	} {
		s.get(t, "/releases?"+q, 400)
	}
	// A cursor edited by hand (its position changed, its MAC kept) is refused.
	first := s.get(t, "/search?q=evacuation+families+300+team", 200)
	_ = first
	var cur string
	for i := range 30 {
		in := releasesInput(fmt.Sprintf("Another release %d", i))
		in.PublishedAt = feedStr(siteT0.Add(-time.Duration(20+i) * time.Hour).Format(time.RFC3339))
		s.add(t, in)
	}
	m := regexp.MustCompile(`cursor=([A-Za-z0-9_-]+)`).FindStringSubmatch(s.get(t, "/releases", 200))
	if m == nil {
		t.Fatal("no next page link")
	}
	cur = m[1]
	tampered := []byte(cur)
	tampered[3] ^= 1
	if tampered[3] == cur[3] || !strings.ContainsAny(string(tampered[3]), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		tampered[3] = 'A'
	}
	s.get(t, "/releases?cursor="+string(tampered), 400)
	// A date cursor on the ranked search is refused, not misread.
	s.get(t, "/search?q=release&cursor="+cur, 400)
	// The good cursor works.
	if got := listed(s.get(t, "/releases?cursor="+cur, 200)); len(got) == 0 {
		t.Error("the next page is empty")
	}
}

func TestTermPages(t *testing.T) {
	s := newsroomSite(t)
	page := s.get(t, "/regions/americas", 200)
	if got := listed(page); !slices.Equal(got, []string{"evac-fr", "evac-en", "evac-es", "global-report", "argentina-en"}) {
		t.Errorf("/regions/americas = %v, want its countries' and global releases", got)
	}
	for _, want := range []string{`<h1>Americas</h1>`, `href="/feed.rss?region=americas"`, `href="/feed.atom?region=americas"`,
		`href="/feed.json?region=americas"`, `href="/subscribe?lang=en&amp;regions=americas"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/regions/americas lacks %s", want)
		}
	}
	// The page lists what the region's feed lists (one rule for both).
	_, feed := s.do(t, "GET", "/feed.json?region=americas")
	var doc struct {
		Items []struct {
			URL string `json:"url"`
		} `json:"items"`
	}
	if err := json.Unmarshal(feed, &doc); err != nil {
		t.Fatal(err)
	}
	var fromFeed []string
	for _, it := range doc.Items {
		fromFeed = append(fromFeed, it.URL[strings.LastIndex(it.URL, "/")+1:])
	}
	if !slices.Equal(fromFeed, listed(page)) {
		t.Errorf("feed lists %v, page %v", fromFeed, listed(page))
	}
	if got := listed(s.get(t, "/regions/haiti?lang=fr", 200)); !slices.Equal(got, []string{"evac-fr"}) {
		t.Errorf("/regions/haiti?lang=fr = %v", got)
	}
	topic := s.get(t, "/topics/migration", 200)
	if got := listed(topic); !slices.Equal(got, []string{"global-report", "ukraine-en"}) {
		t.Errorf("/topics/migration = %v", got)
	}
	if !strings.Contains(topic, `href="/subscribe?lang=en&amp;topics=migration"`) {
		t.Errorf("topic page has no subscribe link with the topic")
	}
	for _, p := range []string{"/topics/no-such-topic", "/regions/atlantis", "/topics/%3Cscript%3E"} {
		if body := s.get(t, p, 404); strings.Contains(body, "<script>") {
			t.Errorf("%s echoes the request", p)
		}
	}
}

func TestSubscribeForm_TicksTermsFromQuery(t *testing.T) {
	s := newSite(t, 5)
	resp := s.do("GET", "/subscribe?topics=migration&regions=americas,no-such", "", "")
	if resp.status != 200 {
		t.Fatalf("status %d", resp.status)
	}
	page := resp.body
	for _, re := range []string{`value="migration"[^>]*checked`, `value="americas"[^>]*checked`} {
		if !regexp.MustCompile(re).MatchString(page) {
			t.Errorf("subscribe form: %s not ticked", re)
		}
	}
	if regexp.MustCompile(`value="emergencies"[^>]*checked`).MatchString(page) {
		t.Errorf("a topic not asked for is ticked")
	}
}

func TestSearch(t *testing.T) {
	s := newsroomSite(t)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"Evacuation", []string{"evac-en", "evac-fr", "global-report"}},
		{"ÉVACUATION haiti", []string{"evac-fr", "evac-en"}},
		{"evacuacion HAITI", []string{"evac-es"}},
		{"إجلاء", []string{"yemen-ar"}},
		{"للمهاجرين اليمن", []string{"yemen-ar"}},
	} {
		got := listed(s.get(t, "/search?q="+url.QueryEscape(tc.q), 200))
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", tc.q, got, want)
		}
	}
	// Ranking: a word of the title outranks a word of the body.
	got := listed(s.get(t, "/search?q=evacuated", 200))
	if len(got) == 0 || got[0] != "evac-en" {
		t.Errorf("search evacuated = %v", got)
	}
	got = listed(s.get(t, "/search?q=report", 200))
	if len(got) != 1 || got[0] != "global-report" {
		t.Errorf("search report = %v", got)
	}
	if got := listed(s.get(t, "/search?q=evacuation", 200)); len(got) != 3 || got[0] != "evac-fr" {
		t.Errorf("search evacuation = %v, want the release with the word in its title first", got)
	}
	// Snippets: the word marked as written, the rest escaped.
	page := s.get(t, "/search?q=evacuation&lang=fr", 200)
	if !strings.Contains(page, "<mark>évacuation</mark>") && !strings.Contains(page, "<mark>Évacuation</mark>") {
		t.Errorf("no marked word in %s", snippetOf(page))
	}
	hostile := releasesInput("Evacuation <script>alert(1)</script> & co")
	hostile.Body = feedStr("Text with <b>tags</b> & \"quotes\" about the evacuation of <i>x</i>.")
	s.add(t, hostile)
	page = s.get(t, "/search?q=evacuation+quotes", 200)
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<b>tags") {
		t.Errorf("release text reaches the page as markup: %s", snippetOf(page))
	}
	if !strings.Contains(page, "<mark>") {
		t.Errorf("no <mark> in %s", snippetOf(page))
	}
}

func snippetOf(page string) string {
	if m := regexp.MustCompile(`(?s)<p class="snippet">.*?</p>`).FindString(page); m != "" {
		return m
	}
	return "(no snippet)"
}

func TestSearch_BadInputNever500(t *testing.T) {
	s := newsroomSite(t)
	for _, q := range []string{
		strings.Repeat("évacuation ", 1000), strings.Repeat("x", 10000), `"unbalanced`, `NEAR(evacuation haiti)`,
		`evac*`, `-evacuation`, `(evacuation OR haiti) AND NOT families`, `title:evacuation`, `'; DROP TABLE releases; --`,
		`1' OR '1'='1`, `%`, `_`, `\`, `""`, `*`, `^`, `{title}:x`, "\x00", "\u202e",
	} {
		s.get(t, "/search?q="+url.QueryEscape(q), 200)
		s.get(t, "/releases?q="+url.QueryEscape(q), 200)
	}
	long := s.get(t, "/search?q="+url.QueryEscape(strings.Repeat("évacuation ", 1000)), 200)
	if !strings.Contains(long, "only its first words were used") {
		t.Errorf("a 10,000-character search does not say it was shortened")
	}
	if got := listed(long); len(got) != 3 {
		t.Errorf("a long repeated word finds %v", got)
	}
	if got := listed(s.get(t, "/search?q="+url.QueryEscape(`NEAR(evacuation haiti)`), 200)); len(got) != 0 {
		t.Errorf("NEAR is a word: %v", got)
	}
	empty := s.get(t, "/search?q=***", 200)
	if !strings.Contains(empty, "Type one or more words") {
		t.Errorf("punctuation alone: no hint")
	}
	s.get(t, "/search", 200)
	s.get(t, "/search?q=evacuation&lang=xx-bad-", 400)
	s.get(t, "/search?q=evacuation&cursor=forged", 400)
	// A page past the end is empty (a valid cursor, nothing left).
	page := s.get(t, "/search?q=evacuation&cursor="+s.rankCursor(t, 9980), 200)
	if got := listed(page); len(got) != 0 {
		t.Errorf("page past the end lists %v", got)
	}
}

// rankCursor is a ranked-results cursor signed as the site signs them.
func (s *feedSite) rankCursor(t *testing.T, offset int) string {
	t.Helper()
	return s.site.cursors.encode(pageCursor{kind: cursorRank, offset: offset})
}

func TestReleasePage_SEO(t *testing.T) {
	s := newsroomSite(t)
	in := releasesInput(`Title with </script><script>alert(1)</script> "quotes"`)
	in.Slug = feedStr("breakout")
	in.Summary = feedStr("Summary & more")
	s.add(t, in)
	page := s.get(t, "/releases/breakout", 200)
	m := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(m) != 1 {
		t.Fatalf("want one JSON-LD block, got %d", len(m))
	}
	var ld map[string]any
	if err := json.Unmarshal([]byte(m[0][1]), &ld); err != nil {
		t.Fatalf("JSON-LD: %v\n%s", err, m[0][1])
	}
	if ld["@type"] != "NewsArticle" || ld["headline"] != `Title with </script><script>alert(1)</script> "quotes"` ||
		ld["inLanguage"] != "en" || ld["url"] != siteBase+"/releases/breakout" || ld["datePublished"] == nil || ld["dateModified"] == nil {
		t.Errorf("JSON-LD = %v", ld)
	}
	if pub, _ := ld["publisher"].(map[string]any); pub["name"] != "Press Office" {
		t.Errorf("publisher = %v", ld["publisher"])
	}
	if strings.Count(page, "<script") != 1 {
		t.Errorf("the title broke out of the JSON-LD block")
	}
	for _, want := range []string{
		`<meta property="og:type" content="article">`, `<meta property="og:url" content="` + siteBase + `/releases/breakout">`,
		`<meta property="og:locale" content="en_US">`, `<meta property="og:description" content="Summary &amp; more">`,
		`<meta property="og:title" content="Title with &lt;/script&gt;`, `<meta name="twitter:card" content="summary">`,
		`<meta property="article:published_time" content="`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("release page lacks %s", want)
		}
	}

	// hreflang: every live translation, each pointing to a page that is
	// that language's version, plus x-default (the English one).
	page = s.get(t, "/releases/evac-fr", 200)
	links := regexp.MustCompile(`<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">`).FindAllStringSubmatch(page, -1)
	got := map[string]string{}
	for _, l := range links {
		got[l[1]] = l[2]
	}
	want := map[string]string{"fr": siteBase + "/releases/evac-fr", "en": siteBase + "/releases/evac-en",
		"es": siteBase + "/releases/evac-es", "x-default": siteBase + "/releases/evac-en"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hreflang = %v, want %v", got, want)
	}
	for lang, href := range got {
		other := s.get(t, strings.TrimPrefix(href, siteBase), 200)
		l := lang
		if l == "x-default" {
			l = "en"
		}
		if !strings.Contains(other, `<html lang="`+l+`"`) {
			t.Errorf("hreflang %s points to %s, which is not in that language", lang, href)
		}
	}
	if !strings.Contains(page, `<meta property="og:locale" content="fr_FR">`) {
		t.Errorf("French release: og:locale")
	}
}

func TestSitemapAndRobots(t *testing.T) {
	s := newsroomSite(t)
	draft := releasesInput("Draft release")
	draft.Status = feedStr("draft")
	s.add(t, draft)
	resp, body := s.do(t, "GET", "/sitemap.xml")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set struct {
		URLs []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
			Links   []struct {
				Hreflang string `xml:"hreflang,attr"`
				Href     string `xml:"href,attr"`
			} `xml:"http://www.w3.org/1999/xhtml link"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(body, &set); err != nil {
		t.Fatalf("sitemap is not XML: %v", err)
	}
	locs := map[string]int{}
	for i, u := range set.URLs {
		locs[u.Loc] = i
		if _, err := time.Parse(time.RFC3339, u.LastMod); err != nil {
			t.Errorf("%s: lastmod %q", u.Loc, u.LastMod)
		}
	}
	for _, want := range []string{"/releases/evac-fr", "/releases/yemen-ar", "/releases/argentina-en", "/topics/migration", "/regions/americas", "/regions/argentina", "/"} {
		if _, ok := locs[siteBase+want]; !ok {
			t.Errorf("sitemap lacks %s", want)
		}
	}
	if _, ok := locs[siteBase+"/releases/draft-release"]; ok {
		t.Errorf("sitemap lists a draft")
	}
	if i, ok := locs[siteBase+"/releases/evac-es"]; !ok || len(set.URLs[i].Links) != 3 {
		t.Errorf("evac-es has no hreflang alternates for its 3 versions")
	}
	// Cached like a feed: ETag, 304, gzip.
	etag := resp.Header.Get("ETag")
	if r2, _ := s.do(t, "GET", "/sitemap.xml", "If-None-Match", etag); etag == "" || r2.StatusCode != 304 {
		t.Errorf("sitemap revalidation: etag %q", etag)
	}
	if r3, _ := s.do(t, "GET", "/sitemap.xml", "Accept-Encoding", "gzip"); r3.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("sitemap not gzipped")
	}
	s.add(t, releasesInput("Fresh news"))
	if _, b := s.do(t, "GET", "/sitemap.xml"); !strings.Contains(string(b), "/releases/fresh-news") {
		t.Errorf("the sitemap did not follow a new release")
	}
	resp, body = s.do(t, "GET", "/robots.txt")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Sitemap: "+siteBase+"/sitemap.xml") ||
		!strings.Contains(string(body), "Disallow: /preferences") {
		t.Errorf("robots.txt: %d\n%s", resp.StatusCode, body)
	}
	s.do(t, "GET", "/sitemap.xml?page=7") // never a 500
	if r, _ := s.do(t, "GET", "/sitemap.xml?page=7"); r.StatusCode != 404 {
		t.Errorf("sitemap page past the end: %d", r.StatusCode)
	}
}

// countingStore counts the searches that reach the database.
type countingStore struct {
	Store
	mu       sync.Mutex
	searches int
	gate     chan struct{} // when set, each search waits for it
}

func (c *countingStore) SearchReleases(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, error) {
	c.mu.Lock()
	c.searches++
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return c.Store.SearchReleases(ctx, q)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.searches
}

// A page of results is kept for the current releases version: the same
// search again runs no query, a change of releases makes it run again, and
// visitors asking the same page at once wait for one query.
func TestSearch_CachedPerReleasesVersion(t *testing.T) {
	s := newsroomSite(t)
	c := &countingStore{Store: s.site.deps.Store}
	s.site.deps.Store = c
	if got := listed(s.get(t, "/search?q=evacuation", 200)); len(got) != 3 {
		t.Fatalf("search evacuation = %v", got)
	}
	_ = s.get(t, "/search?q=EVACUATION!", 200) // the same words
	if n := c.count(); n != 1 {
		t.Fatalf("two identical searches ran %d queries, want 1", n)
	}
	// Another language of the page's dates, another page of results, other
	// filters: other entries.
	if resp, _ := s.do(t, "GET", "/search?q=evacuation", "Accept-Language", "fr"); resp.StatusCode != 200 {
		t.Fatalf("search in French: %d", resp.StatusCode)
	}
	_ = s.get(t, "/search?q=evacuation&lang=fr", 200)
	_ = s.get(t, "/releases?q=evacuation", 200)
	if n := c.count(); n != 4 {
		t.Fatalf("four different lists ran %d queries, want 4", n)
	}
	// A new release is found at once.
	in := releasesInput("Evacuation flights resume")
	in.PublishedAt = feedStr(siteT0.Add(-time.Minute).Format(time.RFC3339))
	s.add(t, in)
	if got := listed(s.get(t, "/search?q=evacuation", 200)); len(got) != 4 || !slices.Contains(got, "evacuation-flights-resume") {
		t.Fatalf("after a new release, search evacuation = %v", got)
	}
	if n := c.count(); n != 5 {
		t.Fatalf("the search after a change ran %d queries in all, want 5", n)
	}
	// Ten visitors at once, one query.
	gate := make(chan struct{})
	c.mu.Lock()
	c.gate = gate
	c.mu.Unlock()
	var wg sync.WaitGroup
	pages := make([][]string, 10)
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := s.do(t, "GET", "/search?q=families")
			if resp.StatusCode == 200 {
				pages[i] = listed(string(body))
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.count() < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the others reach the cache and wait
	close(gate)
	wg.Wait()
	if n := c.count(); n != 6 {
		t.Fatalf("ten visitors asking the same search at once ran %d queries, want 1", n-5)
	}
	for i, p := range pages {
		if len(p) == 0 || !slices.Equal(p, pages[0]) {
			t.Fatalf("visitor %d got %v, visitor 0 %v", i, p, pages[0])
		}
	}
}
