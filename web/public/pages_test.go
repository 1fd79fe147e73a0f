package public

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/store"
)

// checkPageHeaders asserts what every public page carries (SPEC 3).
func checkPageHeaders(t *testing.T, path string, h map[string][]string, body []byte) {
	t.Helper()
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if !strings.HasPrefix(get("Content-Type"), "text/html; charset=utf-8") {
		t.Errorf("%s: Content-Type %q", path, get("Content-Type"))
	}
	if csp := get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP %q", path, csp)
	}
	if get("X-Content-Type-Options") != "nosniff" || get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: nosniff / no-framing headers missing", path)
	}
	// The CSP forbids inline styles and scripts: the pages must not need
	// them. A JSON-LD block is data, not a script the browser runs.
	body = regexp.MustCompile(`<script type="application/ld\+json">[^<]*</script>`).ReplaceAll(body, nil)
	if regexp.MustCompile(`(?i)\sstyle=|<script|\son[a-z]+=`).Match(body) {
		t.Errorf("%s: inline style, script or event handler in the page", path)
	}
}

func TestIndexPage(t *testing.T) {
	s := newFeedSite(t)
	old := releasesInput("Older release")
	old.PublishedAt = feedStr(siteT0.Add(-2 * time.Hour).Format(time.RFC3339))
	old.Dateline = feedStr("Buenos Aires")
	s.add(t, old)
	newer := releasesInput("Newer release")
	newer.PublishedAt = feedStr(siteT0.Add(-time.Hour).Format(time.RFC3339))
	s.add(t, newer)
	emb := releasesInput("Embargoed release")
	emb.PublishedAt = feedStr(siteT0.Add(time.Hour).Format(time.RFC3339))
	s.add(t, emb)
	draft := releasesInput("Draft release")
	draft.Status = feedStr("draft")
	s.add(t, draft)

	resp, body := s.do(t, "GET", "/")
	page := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	checkPageHeaders(t, "/", resp.Header, body)
	i, j := strings.Index(page, "Newer release"), strings.Index(page, "Older release")
	if i < 0 || j < 0 || i > j {
		t.Errorf("releases missing or not newest first")
	}
	if strings.Contains(page, "Embargoed release") || strings.Contains(page, "Draft release") {
		t.Errorf("the home page shows an embargoed or draft release")
	}
	for _, want := range []string{
		`href="/releases/older-release"`, "Buenos Aires", `datetime="2026-03-02T07:00:00Z"`, "2 March 2026, 07:00 UTC",
		`href="/feed.rss"`, `href="/feed.atom"`, `href="/feed.json"`, `href="/feeds.opml"`, `href="/subscribe"`,
		`href="/feed.rss?topic=migration"`, `href="/feed.rss?region=argentina"`,
		`<link rel="alternate" type="application/rss&#43;xml" title="Press Office (RSS)" href="https://press.example.org/feed.rss">`,
		`<link rel="alternate" type="application/atom&#43;xml"`, `<link rel="alternate" type="application/feed&#43;json"`,
		`<html lang="en">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	// A new release shows at once: the cached page follows the version.
	s.add(t, releasesInput("Brand new release"))
	if _, body := s.do(t, "GET", "/"); !strings.Contains(string(body), "Brand new release") {
		t.Errorf("the home page did not show a new release")
	}
	if resp, _ := s.do(t, "GET", "/no-such-page"); resp.StatusCode != 404 {
		t.Errorf("GET /no-such-page: %d", resp.StatusCode)
	}
}

func TestReleasePage(t *testing.T) {
	s := newFeedSite(t)
	in := releasesInput("Road map for the integration of Venezuelans")
	in.Dateline = feedStr("Buenos Aires")
	in.Language = feedStr("en")
	in.TranslationKey = feedStr("road-map")
	in.Topics = feedList("migration", "integration")
	in.Regions = feedList("argentina", "venezuela")
	in.PublishedAt = feedStr("2026-03-01T10:30:00Z")
	in.Body = feedStr("The road map was **adopted** in Buenos Aires.\n\n> A quote.")
	in.Contacts = &[]store.Contact{{Name: "Juliana Rivera", Email: "jrivera@example.org", Phone: "+54 11 0000-0000"}}
	s.add(t, in)
	es := releasesInput("Hoja de ruta para la integración")
	es.Language = feedStr("es")
	es.TranslationKey = feedStr("road-map")
	es.Slug = feedStr("hoja-de-ruta")
	s.add(t, es)

	resp, body := s.do(t, "GET", "/releases/road-map-for-the-integration-of-venezuelans")
	page := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	checkPageHeaders(t, "release", resp.Header, body)
	for _, want := range []string{
		`<html lang="en">`, "<h1>Road map for the integration of Venezuelans</h1>",
		`<span class="dateline">Buenos Aires</span>`, `<time datetime="2026-03-01T10:30:00Z">1 March 2026, 10:30 UTC</time>`,
		`<a href="/feed.rss?topic=migration"`, `>Integration and Social Cohesion</a>`,
		`<a href="/feed.rss?region=argentina"`, `>Venezuela</a>`,
		"<strong>adopted</strong>", "<blockquote>",
		"Juliana Rivera", `href="mailto:jrivera@example.org"`, `href="tel:&#43;541100000000"`,
		`href="/releases/hoja-de-ruta" hreflang="es"`, "español",
		`title="Press Office — Migration (RSS)" href="https://press.example.org/feed.rss?topic=migration"`,
		`title="Press Office — Argentina (RSS)"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("release page lacks %s", want)
		}
	}
	if !strings.Contains(page, `<link rel="canonical" href="https://press.example.org/releases/road-map-for-the-integration-of-venezuelans">`) {
		t.Errorf("a release without url is canonical at its own page")
	}
}

func TestReleasePage_LanguageDirectionAndGlobal(t *testing.T) {
	s := newFeedSite(t)
	in := releasesInput("اليمن: ارتفاع عدد المهاجرين")
	in.Language = feedStr("ar")
	in.Slug = feedStr("yemen-ar")
	in.URL = feedStr("https://www.example.org/news/yemen")
	s.add(t, in)
	resp, body := s.do(t, "GET", "/releases/yemen-ar")
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, `<html lang="ar" dir="rtl">`) {
		t.Fatalf("status %d; want <html lang=\"ar\" dir=\"rtl\">", resp.StatusCode)
	}
	// A browser that states no language reads the page in the release's.
	if !strings.Contains(page, "عالمي") {
		t.Errorf("a release without regions should say it is global, in Arabic")
	}
	if !strings.Contains(page, `<link rel="canonical" href="https://www.example.org/news/yemen">`) {
		t.Errorf("no canonical link to the organization's page")
	}
}

func TestReleasePage_NotFound(t *testing.T) {
	s := newFeedSite(t)
	emb := releasesInput("Embargoed")
	emb.PublishedAt = feedStr(siteT0.Add(time.Hour).Format(time.RFC3339))
	s.add(t, emb)
	draft := releasesInput("Draft")
	draft.Status = feedStr("draft")
	s.add(t, draft)
	for _, slug := range []string{"embargoed", "draft", "no-such-release", "%3Cscript%3E"} {
		resp, body := s.do(t, "GET", "/releases/"+slug)
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", slug, resp.StatusCode)
		}
		checkPageHeaders(t, slug, resp.Header, body)
		if strings.Contains(string(body), "<script>") || strings.Contains(string(body), "Embargoed") {
			t.Errorf("%s: the 404 page leaks the request or the release", slug)
		}
	}
}
