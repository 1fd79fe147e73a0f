package public

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"herald/feeds"
	"herald/store"
	"herald/web/ui"
)

// indexSize is how many releases the home page lists.
const indexSize = 20

// pageCacheControl lets browsers reuse a public page briefly.
const pageCacheControl = "public, max-age=60"

// indexCache holds the home page rendered, per page language, for one
// releases version, so that a busy home page costs one query per change
// rather than one per visit.
type indexCache struct {
	mu     sync.Mutex
	v      int64
	byLang map[string][]byte
}

// termLink is a topic or region with the URLs of its page and its feed.
type termLink struct {
	Name, Feed, Page string
}

// feedLink is a feed offered on a page.
type feedLink struct {
	Name, Href, Type string
}

// contactView is a press contact; Tel is a tel: URL made of the phone's
// digits, or "".
type contactView struct {
	Name, Email, Phone string
	Tel                template.URL
}

// translationLink points to another language version of a release.
type translationLink struct {
	Lang, LangName, Title, URL string
}

// releaseView is the data of release.html.
type releaseView struct {
	Page                  ui.PageMeta
	Title, Dateline, Lang string // Lang: the release's, maybe not the page's
	Dir                   string // the release's direction: "rtl" or "ltr"
	Date                  ui.DateView
	Topics, Regions       []termLink
	Contacts              []contactView
	Body                  template.HTML // sanitized when stored (bluemonday)
	Canonical             string        // the organization's own URL, if any
	Translations          []translationLink
	SEO                   seoView
	Lead                  *imageView // the first image (SPEC 10), or nil
	Attachments           []attachmentView
}

// indexPage: GET /, the newest releases (SPEC 10). With a query string it
// is the archive's first page with those filters.
func (s *Site) indexPage(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery != "" {
		return s.listing(w, r, listingKind{path: "/", home: true})
	}
	lang := pageLang(r, "")
	ui.RememberLang(w, r)
	ui.VaryLang(w)
	body, err := s.indexBytes(r, lang)
	if err != nil {
		return ui.WithLang(lang, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", pageCacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// indexBytes returns the home page in lang, rendering it when releases
// changed.
func (s *Site) indexBytes(r *http.Request, lang string) ([]byte, error) {
	c := &s.index
	c.mu.Lock()
	defer c.mu.Unlock()
	v := s.deps.Releases.Version()
	if c.v != v || c.byLang == nil {
		c.v, c.byLang = v, map[string][]byte{}
	}
	if b, ok := c.byLang[lang]; ok {
		return b, nil
	}
	view, err := s.listingView(r.Context(), r, listingKind{path: "/", home: true}, lang)
	if err != nil {
		return nil, err
	}
	view.Page.Langs = ui.LangLinks(&url.URL{Path: "/"}, lang) // one page for every visitor
	view.Page.Alternates = s.alternates(feeds.Filter{}, s.opts.SiteName)
	body, err := s.pages.Bytes("index.html", view)
	if err != nil {
		return nil, err
	}
	c.byLang[lang] = body
	return body, nil
}

// releasePage: GET /releases/{slug}, a live release (404 for any other).
func (s *Site) releasePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rel, err := s.deps.Releases.GetLive(ctx, r.PathValue("slug"))
	if err != nil {
		return err
	}
	lang := ui.VisitorLang(r, rel.Language)
	view, err := s.releaseView(ctx, &rel, lang)
	if err != nil {
		return ui.WithLang(lang, err)
	}
	page := view.Page
	view.Page = s.page(w, r, lang, rel.Title)
	view.Page.Alternates = page.Alternates
	w.Header().Set("Cache-Control", pageCacheControl)
	return s.pages.Render(w, http.StatusOK, "release.html", view)
}

// ReleasePage renders the page of a release as it would be served, for
// the console's preview of a release not yet saved.
func (s *Site) ReleasePage(ctx context.Context, r *store.Release) ([]byte, error) {
	view, err := s.releaseView(ctx, r, r.Language)
	if err != nil {
		return nil, err
	}
	return s.pages.Bytes("release.html", view)
}

// releaseView is the page of release r for a visitor reading lang: the
// page's words, terms and date in lang, the release in its own language.
func (s *Site) releaseView(ctx context.Context, r *store.Release, lang string) (releaseView, error) {
	tax, err := s.deps.Releases.Taxonomy(ctx)
	if err != nil {
		return releaseView{}, err
	}
	v := releaseView{
		Page:  s.meta(lang, r.Title),
		Title: r.Title, Dateline: r.Dateline, Lang: r.Language, Dir: ui.ContentDir(r.Language),
		Date: ui.FormatDate(r.PublishedAt, lang),
		Body: template.HTML(r.BodyHTML), //nolint:gosec // sanitized by bluemonday when stored
	}
	if r.URL != "" {
		v.Canonical = r.URL
	}
	v.Lead, v.Attachments = s.mediaViews(r)
	v.Page.Alternates = s.alternates(feeds.Filter{}, s.opts.SiteName)
	for _, t := range r.Topics {
		f := feeds.Filter{Topics: []string{t}}
		name := tax.TopicName(t, lang)
		v.Topics = append(v.Topics, termLink{Name: name, Feed: feeds.RSS.URL(f)})
		v.Page.Alternates = append(v.Page.Alternates, s.alternates(f, s.opts.SiteName+" — "+name)[:1]...)
	}
	for _, g := range r.Regions {
		f := feeds.Filter{Regions: []string{g}}
		name := tax.RegionName(g, lang)
		v.Regions = append(v.Regions, termLink{Name: name, Feed: feeds.RSS.URL(f)})
		v.Page.Alternates = append(v.Page.Alternates, s.alternates(f, s.opts.SiteName+" — "+name)[:1]...)
	}
	for _, c := range r.Contacts {
		v.Contacts = append(v.Contacts, contactView{Name: c.Name, Email: c.Email, Phone: c.Phone, Tel: telURL(c.Phone)})
	}
	group := []store.Release{*r}
	if r.TranslationKey != "" {
		others, err := s.deps.Store.ReleaseList(ctx, store.ReleaseFilter{
			TranslationKeys: []string{r.TranslationKey}, Status: "live", LiveAt: s.deps.Releases.Now(), Limit: 50,
		})
		if err != nil {
			return v, err
		}
		if len(others) > 0 && slices.ContainsFunc(others, func(o store.Release) bool { return o.ID == r.ID }) {
			group = slices.Clone(others)
			slices.Reverse(group) // oldest first
		}
		for _, o := range others {
			if o.ID != r.ID {
				v.Translations = append(v.Translations, translationLink{
					Lang: o.Language, LangName: feeds.LanguageName(o.Language), Title: o.Title, URL: "/releases/" + o.Slug,
				})
			}
		}
	}
	v.SEO = s.releaseSEO(r, group)
	return v, nil
}

// alternates are the autodiscovery links of a filter's feeds (RSS, Atom,
// JSON Feed), absolute so that they survive being copied.
func (s *Site) alternates(f feeds.Filter, title string) []ui.Alternate {
	base := strings.TrimRight(s.opts.BaseURL, "/")
	return []ui.Alternate{
		{Type: "application/rss+xml", Title: title + " (RSS)", Href: base + feeds.RSS.URL(f)},
		{Type: "application/atom+xml", Title: title + " (Atom)", Href: base + feeds.Atom.URL(f)},
		{Type: "application/feed+json", Title: title + " (JSON Feed)", Href: base + feeds.JSON.URL(f)},
	}
}

// siteFeeds are the feeds of every release and the OPML list of all feeds.
func (s *Site) siteFeeds(lang string) []feedLink {
	return []feedLink{
		{Name: "RSS", Href: feeds.RSS.Path(), Type: "application/rss+xml"},
		{Name: "Atom", Href: feeds.Atom.Path(), Type: "application/atom+xml"},
		{Name: "JSON Feed", Href: feeds.JSON.Path(), Type: "application/feed+json"},
		{Name: ui.T(lang, "feeds_opml"), Href: feeds.OPML.Path(), Type: "text/x-opml"},
	}
}

// telURL makes a tel: link of a phone number's digits and leading plus.
func telURL(phone string) template.URL {
	var b strings.Builder
	for i, r := range phone {
		if (r >= '0' && r <= '9') || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	if b.Len() < 3 {
		return ""
	}
	return template.URL("tel:" + b.String()) //nolint:gosec // digits and '+' only
}
