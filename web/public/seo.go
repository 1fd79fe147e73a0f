package public

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/web/ui"
)

// What search engines and link previews read (SPEC 10): the sitemap, robots.txt,
// and a release page's canonical link, hreflang alternates, Open Graph and
// Twitter card tags and JSON-LD NewsArticle.

// sitemapMaxURLs is the sitemap protocol's limit of URLs in one file; past
// it, /sitemap.xml is an index of /sitemap.xml?page=N files.
const sitemapMaxURLs = 50000

// docCache keeps documents built from the releases of one version (the
// sitemap pages, robots.txt), with their ETags, as the feeds cache does:
// a crawler's poll costs no query until releases change.
type docCache struct {
	mu   sync.Mutex
	v    int64
	docs map[string]*feeds.Doc
}

func (c *docCache) get(v int64, key string, build func() ([]byte, time.Time, error)) (*feeds.Doc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v != v || c.docs == nil {
		c.v, c.docs = v, map[string]*feeds.Doc{}
	}
	if d, ok := c.docs[key]; ok {
		return d, nil
	}
	body, mod, err := build()
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	d := &feeds.Doc{Body: body, Gzip: gz.Bytes(), ETag: `"` + tag + `"`, GzipETag: `"` + tag + `-gz"`, LastModified: mod.Truncate(time.Second)}
	c.docs[key] = d
	return d, nil
}

// serveDoc writes a cached document as a feed is written: gzip when
// accepted, 304 for a current copy, Cache-Control for a minute.
func serveDoc(w http.ResponseWriter, r *http.Request, d *feeds.Doc, contentType string) {
	h := w.Header()
	h.Set("Cache-Control", feedCacheControl)
	h.Set("Vary", "Accept-Encoding")
	body, etag := d.Body, d.ETag
	gz := acceptsGzip(r.Header["Accept-Encoding"])
	if gz {
		body, etag = d.Gzip, d.GzipETag
	}
	h.Set("Etag", etag)
	if notModified(r, d) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if !d.LastModified.IsZero() {
		h.Set("Last-Modified", d.LastModified.UTC().Format(http.TimeFormat))
	}
	h.Set("Content-Type", contentType)
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// robotsTxt: GET /robots.txt, everything may be crawled but the pages
// reached by a subscriber's token; the sitemap is named.
func (s *Site) robotsTxt(w http.ResponseWriter, r *http.Request) error {
	d, err := s.sitemap.get(s.deps.Releases.Version(), "robots", func() ([]byte, time.Time, error) {
		body := "User-agent: *\nDisallow: /confirm\nDisallow: /preferences\nDisallow: /unsubscribe\nDisallow: /admin\nDisallow: /api/\n" +
			"Allow: /\n\nSitemap: " + s.base() + "/sitemap.xml\n"
		return []byte(body), time.Time{}, nil
	})
	if err != nil {
		return err
	}
	serveDoc(w, r, d, "text/plain; charset=utf-8")
	return nil
}

func (s *Site) base() string { return strings.TrimRight(s.opts.BaseURL, "/") }

type sitemapURL struct {
	Loc     string         `xml:"loc"`
	LastMod string         `xml:"lastmod,omitempty"`
	Links   []sitemapXLink `xml:"xhtml:link"`
}

type sitemapXLink struct {
	Rel      string `xml:"rel,attr"`
	Hreflang string `xml:"hreflang,attr"`
	Href     string `xml:"href,attr"`
}

type urlSet struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	XHTML   string       `xml:"xmlns:xhtml,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"sitemapindex"`
	NS       string       `xml:"xmlns,attr"`
	Sitemaps []sitemapURL `xml:"sitemap"`
}

// sitemapXML: GET /sitemap.xml (SPEC 10): every live release, with its
// translations as xhtml:link alternates, and every topic and region page,
// with lastmod. Past sitemapMaxURLs it is an index of pages
// (?page=1, 2, ...), each a urlset.
func (s *Site) sitemapXML(w http.ResponseWriter, r *http.Request) error {
	page := 0
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1000 {
			return ui.NotFound("This sitemap page")
		}
		page = n
	}
	d, err := s.sitemap.get(s.deps.Releases.Version(), "sitemap"+strconv.Itoa(page), func() ([]byte, time.Time, error) {
		return s.buildSitemap(r.Context(), page)
	})
	if err != nil {
		return err
	}
	serveDoc(w, r, d, "application/xml; charset=utf-8")
	return nil
}

func (s *Site) buildSitemap(ctx context.Context, page int) ([]byte, time.Time, error) {
	tax, err := s.deps.Releases.Taxonomy(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	refs, err := s.deps.Store.LiveReleaseRefs(ctx, s.deps.Releases.Now())
	if err != nil {
		return nil, time.Time{}, err
	}
	var newest time.Time
	groups := map[string][]store.ReleaseRef{}
	for _, r := range refs {
		if r.UpdatedAt.After(newest) {
			newest = r.UpdatedAt
		}
		if r.TranslationKey != "" {
			groups[r.TranslationKey] = append(groups[r.TranslationKey], r)
		}
	}
	lastmod := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	base := s.base()
	urls := make([]sitemapURL, 0, len(refs)+len(tax.Topics)+len(tax.Regions)+2)
	urls = append(urls, sitemapURL{Loc: base + "/", LastMod: lastmod(newest)}, sitemapURL{Loc: base + "/releases", LastMod: lastmod(newest)})
	for _, t := range tax.Topics {
		urls = append(urls, sitemapURL{Loc: base + "/topics/" + t.Slug, LastMod: lastmod(newest)})
	}
	for _, g := range tax.Regions {
		urls = append(urls, sitemapURL{Loc: base + "/regions/" + g.Slug, LastMod: lastmod(newest)})
	}
	for _, r := range refs {
		u := sitemapURL{Loc: base + "/releases/" + r.Slug, LastMod: lastmod(r.UpdatedAt)}
		if g := groups[r.TranslationKey]; len(g) > 1 {
			for _, o := range g {
				u.Links = append(u.Links, sitemapXLink{Rel: "alternate", Hreflang: o.Language, Href: base + "/releases/" + o.Slug})
			}
		}
		urls = append(urls, u)
	}
	pages := (len(urls) + sitemapMaxURLs - 1) / sitemapMaxURLs
	var doc any
	switch {
	case page == 0 && pages <= 1:
		doc = urlSet{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", XHTML: "http://www.w3.org/1999/xhtml", URLs: urls}
	case page == 0:
		idx := sitemapIndex{NS: "http://www.sitemaps.org/schemas/sitemap/0.9"}
		for i := 1; i <= pages; i++ {
			idx.Sitemaps = append(idx.Sitemaps, sitemapURL{Loc: base + "/sitemap.xml?page=" + strconv.Itoa(i), LastMod: lastmod(newest)})
		}
		doc = idx
	case page <= pages:
		part := urls[(page-1)*sitemapMaxURLs : min(len(urls), page*sitemapMaxURLs)]
		doc = urlSet{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", XHTML: "http://www.w3.org/1999/xhtml", URLs: part}
	default:
		return nil, time.Time{}, ui.NotFound("This sitemap page")
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(doc); err != nil {
		return nil, time.Time{}, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), newest, nil
}

// seoView is what a release page's head says to search engines and link
// previews.
type seoView struct {
	Canonical   string // absolute
	Alternates  []hreflangLink
	XDefault    string
	Description string
	Locale      string // og:locale, e.g. fr_FR
	Published   string // RFC 3339
	Modified    string
	SiteName    string
	JSONLD      template.JS // NewsArticle, HTML-safe JSON
}

type hreflangLink struct {
	Lang, Href string
}

// ogLocales are the Open Graph locales of release languages.
var ogLocales = map[string]string{"en": "en_US", "fr": "fr_FR", "es": "es_ES", "ar": "ar_AR", "pt": "pt_BR", "ru": "ru_RU", "zh": "zh_CN"}

// releaseSEO builds the head of a release's page. group is the release's
// live translation group (itself included), oldest first.
func (s *Site) releaseSEO(r *store.Release, group []store.Release) seoView {
	base := s.base()
	own := base + "/releases/" + r.Slug
	v := seoView{Canonical: own, Description: releases.Truncate(r.Summary, 300), SiteName: s.opts.SiteName,
		Published: r.PublishedAt.UTC().Format(time.RFC3339), Modified: r.UpdatedAt.UTC().Format(time.RFC3339)}
	if r.URL != "" {
		v.Canonical = r.URL // the organization's own page is the original
	}
	if loc, ok := ogLocales[r.Language]; ok {
		v.Locale = loc
	} else {
		v.Locale = r.Language
	}
	if len(group) > 1 {
		for _, o := range group {
			v.Alternates = append(v.Alternates, hreflangLink{Lang: o.Language, Href: base + "/releases/" + o.Slug})
		}
		// x-default: the English version, else the first published.
		v.XDefault = base + "/releases/" + group[0].Slug
		for _, o := range group {
			if o.Language == "en" {
				v.XDefault = base + "/releases/" + o.Slug
			}
		}
	}
	ld := map[string]any{
		"@context":         "https://schema.org",
		"@type":            "NewsArticle",
		"headline":         releases.Truncate(r.Title, 110),
		"description":      v.Description,
		"datePublished":    v.Published,
		"dateModified":     v.Modified,
		"inLanguage":       r.Language,
		"url":              own,
		"mainEntityOfPage": v.Canonical,
		"publisher":        map[string]any{"@type": "Organization", "name": s.opts.SiteName, "url": base + "/"},
	}
	if r.Dateline != "" {
		ld["dateline"] = r.Dateline
	}
	// encoding/json escapes <, > and & (as \u003c ...): no "</script>" can
	// end the block early, whatever the title says.
	b, _ := json.Marshal(ld)
	v.JSONLD = template.JS(b) //nolint:gosec // HTML-safe JSON
	return v
}
