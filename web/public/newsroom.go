package public

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/web/ui"
)

// The newsroom (SPEC 10): the archive at / and /releases, the pages of a
// topic or region, and search. Filters are the feeds' (topic, region,
// lang: feeds.ParseFilter, and the region rule of feeds.LiveFilter), plus
// from, to (dates, to included) and q (words). Pages follow an opaque
// cursor signed by herald: a forged or damaged one is a 400, one past the
// end an empty page.

// archivePageSize is how many releases one archive or results page lists.
const archivePageSize = 20

// archiveQuery is a parsed archive or search request.
type archiveQuery struct {
	filter   feeds.Filter
	from, to string    // as given, YYYY-MM-DD
	fromT    time.Time // zero: no bound
	untilT   time.Time // the day after to
	q        string    // the words as typed (trimmed to MaxSearchInput)
	terms    []string
	trimmed  bool // q was cut
	cursor   *pageCursor
}

// parseArchive reads the query string. Unknown topics, regions and
// languages and malformed dates are a 400 with a message (the archive is a
// page, not a feed: its filters are a form); a bad cursor is a 400.
func (s *Site) parseArchive(r *http.Request, tax *releases.Taxonomy) (archiveQuery, error) {
	var a archiveQuery
	vals := r.URL.Query()
	f, err := feeds.ParseFilter(filterOnly(vals), tax)
	if err != nil {
		var qe *feeds.QueryError
		if errors.As(err, &qe) {
			return a, ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, qe.Msg)
		}
		return a, err
	}
	a.filter = f
	a.filter.Limit = 0
	if a.from = strings.TrimSpace(vals.Get("from")); a.from != "" {
		if a.fromT, err = time.Parse(time.DateOnly, a.from); err != nil {
			return a, &ui.Error{Status: http.StatusBadRequest, Code: ui.CodeBadRequest, Msg: "from must be a date, YYYY-MM-DD.", Field: "from"}
		}
	}
	if a.to = strings.TrimSpace(vals.Get("to")); a.to != "" {
		t, err := time.Parse(time.DateOnly, a.to)
		if err != nil {
			return a, &ui.Error{Status: http.StatusBadRequest, Code: ui.CodeBadRequest, Msg: "to must be a date, YYYY-MM-DD.", Field: "to"}
		}
		a.untilT = t.AddDate(0, 0, 1)
	}
	a.q, a.trimmed = store.TrimSearch(strings.TrimSpace(vals.Get("q")))
	a.q = strings.TrimSpace(a.q)
	a.terms = store.SearchTerms(a.q)
	if c := vals.Get("cursor"); c != "" {
		pc, err := s.cursors.decode(c)
		if err != nil {
			return a, &ui.Error{Status: http.StatusBadRequest, Code: ui.CodeBadRequest, Msg: "The page link (cursor) is damaged or out of date.", Field: "cursor"}
		}
		a.cursor = &pc
	}
	return a, nil
}

// filterOnly keeps the parameters feeds.ParseFilter reads, so that a
// feed's rules (and its cache) are not asked about from, to, q or cursor.
func filterOnly(vals url.Values) string {
	keep := url.Values{}
	for _, k := range []string{"topic", "region", "lang"} {
		if v, ok := vals[k]; ok {
			keep[k] = v
		}
	}
	return keep.Encode()
}

// storeFilter is the archive's selection in the store's terms: exactly a
// feed's (feeds.LiveFilter: a region includes its descendants and global
// releases), plus the dates.
func (a *archiveQuery) storeFilter(tax *releases.Taxonomy, now time.Time) store.ReleaseFilter {
	f := feeds.LiveFilter(a.filter, tax, now)
	f.From, f.Until, f.Limit = a.fromT, a.untilT, archivePageSize+1
	return f
}

// params is the query string of a, without cursor, for links to pages.
func (a *archiveQuery) params() url.Values {
	v := url.Values{}
	set := func(k string, vals []string) {
		if len(vals) > 0 {
			v.Set(k, strings.Join(vals, ","))
		}
	}
	set("topic", a.filter.Topics)
	set("region", a.filter.Regions)
	set("lang", a.filter.Langs)
	for k, x := range map[string]string{"from": a.from, "to": a.to, "q": a.q} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// releaseCard is a release in a list.
type releaseCard struct {
	Title, URL, Lang, Dir, Dateline, Summary, LangName string
	Date                                               ui.DateView
	Snippet                                            template.HTML // search: text with <mark>ed words
}

// archiveForm is the filter form of the archive and search pages.
type archiveForm struct {
	Action                 string
	Topics, Regions, Langs []ui.Option
	From, To, Q            string
	Filtered               bool
}

// termPage is the head of a topic's or region's page.
type termPage struct {
	Kind, Name string // "topic" | "region"
	Region     bool
	Feeds      []feedLink
	Subscribe  string
}

// archiveView is the data of index.html: the home page, the archive, a
// term's page and search results.
type archiveView struct {
	Page     ui.PageMeta
	CSS      string // the newsroom's stylesheet
	Heading  string
	Home     bool // the home page: with the follow section
	Search   bool // the search page: ranked, with snippets
	Query    string
	NoWords  bool // search asked with no word
	Trimmed  bool
	Term     *termPage
	Form     archiveForm
	Releases []releaseCard
	Next     string // URL of the next page, "" on the last
	First    string // URL of the first page, on later pages
	Feeds    []feedLink
	Topics   []termLink
	Regions  []termLink
}

// archivePage: GET /releases (and GET / with a query).
func (s *Site) archivePage(w http.ResponseWriter, r *http.Request) error {
	return s.listing(w, r, listingKind{path: "/releases"})
}

// listingKind says which list a request shows.
type listingKind struct {
	path          string
	search        bool
	topic, region string // a term's page
	home          bool
}

// topicPage: GET /topics/{slug}; regionPage: GET /regions/{slug}.
func (s *Site) topicPage(w http.ResponseWriter, r *http.Request) error {
	return s.listing(w, r, listingKind{path: r.URL.Path, topic: r.PathValue("slug")})
}

func (s *Site) regionPage(w http.ResponseWriter, r *http.Request) error {
	return s.listing(w, r, listingKind{path: r.URL.Path, region: r.PathValue("slug")})
}

// searchPage: GET /search?q=, ranked.
func (s *Site) searchPage(w http.ResponseWriter, r *http.Request) error {
	return s.listing(w, r, listingKind{path: "/search", search: true})
}

func (s *Site) listing(w http.ResponseWriter, r *http.Request, k listingKind) error {
	lang := pageLang(r, "")
	ui.RememberLang(w, r)
	ui.VaryLang(w)
	v, err := s.listingView(r.Context(), r, k, lang)
	if err != nil {
		return ui.WithLang(lang, err)
	}
	w.Header().Set("Cache-Control", pageCacheControl)
	return s.pages.Render(w, http.StatusOK, "index.html", v)
}

func (s *Site) listingView(ctx context.Context, r *http.Request, k listingKind, lang string) (archiveView, error) {
	tax, err := s.deps.Releases.Taxonomy(ctx)
	if err != nil {
		return archiveView{}, err
	}
	term, err := s.termHead(tax, k, lang)
	if err != nil {
		return archiveView{}, err
	}
	a, err := s.parseArchive(r, tax)
	if err != nil {
		return archiveView{}, err
	}
	if k.topic != "" {
		a.filter.Topics = []string{k.topic}
	}
	if k.region != "" {
		a.filter.Regions = []string{k.region}
	}
	v := archiveView{Search: k.search, Home: k.home, Query: a.q, Trimmed: a.trimmed, Term: term}
	v.Heading = ui.T(lang, "archive_title")
	switch {
	case term != nil:
		v.Heading = term.Name
	case k.search:
		v.Heading = ui.T(lang, "search_title")
	case k.home:
		v.Heading = ui.T(lang, "nav_latest")
	}
	v.Page = s.meta(lang, v.Heading)
	v.Page.Langs = ui.LangLinks(r.URL, lang)
	v.CSS = s.deps.Static.URL("newsroom.css")
	v.Page.Alternates = s.alternates(feeds.Filter{Topics: a.filter.Topics, Regions: a.filter.Regions}, s.opts.SiteName)
	v.Form = s.archiveForm(tax, lang, &a, k)
	if k.home {
		v.Feeds = s.siteFeeds(lang)
		v.Topics, v.Regions = s.termLinks(tax, lang)
	}
	if k.search && len(a.terms) == 0 {
		v.NoWords = a.q != ""
		return v, nil
	}
	cards, next, err := s.findReleases(ctx, tax, &a, k.search, lang)
	if err != nil {
		return v, err
	}
	v.Releases = cards
	if next != "" {
		p := a.params()
		p.Set("cursor", next)
		v.Next = k.path + "?" + p.Encode()
	}
	if a.cursor != nil {
		v.First = k.path
		if p := a.params().Encode(); p != "" {
			v.First += "?" + p
		}
	}
	return v, nil
}

// termHead checks a term page's slug (404 when unknown) and describes it.
func (s *Site) termHead(tax *releases.Taxonomy, k listingKind, lang string) (*termPage, error) {
	switch {
	case k.topic != "":
		if _, ok := tax.Topic(k.topic); !ok {
			return nil, ui.NotFound("This topic")
		}
		f := feeds.Filter{Topics: []string{k.topic}}
		return &termPage{Kind: ui.T(lang, "topic_heading"), Name: tax.TopicName(k.topic, lang), Feeds: s.filterFeeds(f),
			Subscribe: "/subscribe?" + url.Values{"topics": {k.topic}, "lang": {lang}}.Encode()}, nil
	case k.region != "":
		if _, ok := tax.Region(k.region); !ok {
			return nil, ui.NotFound("This region")
		}
		f := feeds.Filter{Regions: []string{k.region}}
		return &termPage{Kind: ui.T(lang, "region_heading"), Name: tax.RegionName(k.region, lang), Region: true, Feeds: s.filterFeeds(f),
			Subscribe: "/subscribe?" + url.Values{"regions": {k.region}, "lang": {lang}}.Encode()}, nil
	}
	return nil, nil
}

// findReleases runs the archive's or search's query: by date with keyset
// cursors, or by rank with offset cursors. It returns one page of cards
// and the cursor of the next page ("" on the last), from the cache of the
// current releases version when another visitor asked the same.
func (s *Site) findReleases(ctx context.Context, tax *releases.Taxonomy, a *archiveQuery, ranked bool, lang string) ([]releaseCard, string, error) {
	if a.cursor != nil && ranked != (a.cursor.kind == cursorRank) {
		return nil, "", &ui.Error{Status: http.StatusBadRequest, Code: ui.CodeBadRequest, Msg: "This page link (cursor) belongs to another list.", Field: "cursor"}
	}
	return s.lists.get(s.deps.Releases.Version(), listKey(a, ranked, lang), func() ([]releaseCard, string, error) {
		// Shared by every visitor waiting for it: one leaving does not
		// cancel it for the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listQueryTimeout)
		defer cancel()
		return s.queryReleases(ctx, tax, a, ranked, lang)
	})
}

// queryReleases is findReleases without the cache.
func (s *Site) queryReleases(ctx context.Context, tax *releases.Taxonomy, a *archiveQuery, ranked bool, lang string) ([]releaseCard, string, error) {
	f := a.storeFilter(tax, s.deps.Releases.Now())
	var hits []store.SearchHit
	var err error
	offset := 0
	if a.cursor != nil {
		if ranked {
			offset = a.cursor.offset
		} else {
			f.After = &store.Cursor{PublishedAt: time.UnixMilli(a.cursor.at).UTC(), ID: a.cursor.id}
		}
	}
	switch {
	case len(a.terms) > 0:
		order := store.ByDate
		if ranked {
			order = store.ByRank
		}
		hits, err = s.deps.Store.SearchReleases(ctx, store.SearchQuery{Filter: f, Terms: a.terms, Order: order, Offset: offset, Snip: true})
	case len(a.q) > 0:
		// Only punctuation: no word can match.
	default:
		var rs []store.Release
		rs, err = s.deps.Store.ReleaseList(ctx, f)
		for _, r := range rs {
			hits = append(hits, store.SearchHit{Release: r})
		}
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(hits) > archivePageSize {
		hits = hits[:archivePageSize]
		last := hits[len(hits)-1].Release
		c := pageCursor{kind: cursorDate, at: last.PublishedAt.UnixMilli(), id: last.ID}
		if ranked {
			c = pageCursor{kind: cursorRank, offset: offset + archivePageSize}
		}
		if c.offset <= maxOffset {
			next = s.cursors.encode(c)
		}
	}
	cards := make([]releaseCard, len(hits))
	for i, h := range hits {
		cards[i] = card(&h.Release, lang)
		if h.Snippet != "" {
			cards[i].Snippet = markSnippet(h.Snippet)
		}
	}
	return cards, next, nil
}

func card(r *store.Release, lang string) releaseCard {
	return releaseCard{
		Title: r.Title, URL: "/releases/" + r.Slug, Lang: r.Language, Dir: ui.TextDir(r.Language),
		Dateline: r.Dateline, Summary: r.Summary, LangName: feeds.LanguageName(r.Language), Date: ui.FormatDate(r.PublishedAt, lang),
	}
}

// markSnippet escapes a snippet's text and turns the store's markers into
// <mark> elements: nothing of the release's text is markup.
func markSnippet(s string) template.HTML {
	e := html.EscapeString(s)
	if strings.Count(e, store.SnippetStart) != strings.Count(e, store.SnippetEnd) {
		e = strings.NewReplacer(store.SnippetStart, "", store.SnippetEnd, "").Replace(e)
	}
	e = strings.NewReplacer(store.SnippetStart, "<mark>", store.SnippetEnd, "</mark>").Replace(e)
	return template.HTML(e) //nolint:gosec // escaped above; only <mark> added
}

// archiveForm fills the filter form with the request's values.
func (s *Site) archiveForm(tax *releases.Taxonomy, lang string, a *archiveQuery, k listingKind) archiveForm {
	f := archiveForm{Action: k.path, From: a.from, To: a.to, Q: a.q}
	if k.home {
		f.Action = "/releases"
	}
	f.Filtered = len(a.filter.Topics)+len(a.filter.Regions)+len(a.filter.Langs) > 0 || a.from != "" || a.to != "" || a.q != ""
	sel := func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	if k.topic == "" {
		for _, t := range tax.Topics {
			f.Topics = append(f.Topics, ui.Option{Value: t.Slug, Label: tax.TopicName(t.Slug, lang), Checked: sel(a.filter.Topics, t.Slug)})
		}
	}
	if k.region == "" {
		for _, g := range tax.Regions {
			label := tax.RegionName(g.Slug, lang)
			if g.Parent != "" {
				label = "— " + label
			}
			f.Regions = append(f.Regions, ui.Option{Value: g.Slug, Label: label, Checked: sel(a.filter.Regions, g.Slug)})
		}
	}
	for _, l := range releaseLangs {
		f.Langs = append(f.Langs, ui.Option{Value: l, Label: feeds.LanguageName(l), Checked: sel(a.filter.Langs, l)})
	}
	return f
}

// releaseLangs are the languages offered by the archive's filter.
var releaseLangs = []string{"en", "fr", "es", "ar"}

// termLinks are every topic and region with their pages and feeds.
func (s *Site) termLinks(tax *releases.Taxonomy, lang string) (topics, regions []termLink) {
	for _, t := range tax.Topics {
		topics = append(topics, termLink{Name: tax.TopicName(t.Slug, lang), Page: "/topics/" + t.Slug,
			Feed: feeds.RSS.URL(feeds.Filter{Topics: []string{t.Slug}})})
	}
	for _, g := range tax.Regions {
		regions = append(regions, termLink{Name: tax.RegionName(g.Slug, lang), Page: "/regions/" + g.Slug,
			Feed: feeds.RSS.URL(feeds.Filter{Regions: []string{g.Slug}})})
	}
	return topics, regions
}

// filterFeeds are the three feeds of a filter.
func (s *Site) filterFeeds(f feeds.Filter) []feedLink {
	return []feedLink{
		{Name: "RSS", Href: feeds.RSS.URL(f), Type: "application/rss+xml"},
		{Name: "Atom", Href: feeds.Atom.URL(f), Type: "application/atom+xml"},
		{Name: "JSON Feed", Href: feeds.JSON.URL(f), Type: "application/feed+json"},
	}
}

// Cursors: "d.<published ms>.<id>" (date order) or "r.<offset>" (rank
// order), then a MAC of it, base64url. The MAC makes a cursor opaque to
// edits: a client can only follow the cursors herald gave.

type cursorKind byte

const (
	cursorDate cursorKind = 'd'
	cursorRank cursorKind = 'r'
)

type pageCursor struct {
	kind   cursorKind
	at, id int64
	offset int
}

// maxOffset bounds how deep ranked results can be paged.
const maxOffset = 10000

type cursorCodec struct{ key []byte }

func newCursorCodec(secret []byte) cursorCodec {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("herald archive cursor v1"))
	return cursorCodec{key: m.Sum(nil)}
}

func (c cursorCodec) mac(payload string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(payload))
	return m.Sum(nil)[:12]
}

func (c cursorCodec) encode(p pageCursor) string {
	payload := fmt.Sprintf("%c.%d.%d", p.kind, p.at, p.id)
	if p.kind == cursorRank {
		payload = fmt.Sprintf("%c.%d", p.kind, p.offset)
	}
	return base64.RawURLEncoding.EncodeToString(append([]byte(payload+"."), c.mac(payload)...))
}

var errCursor = errors.New("bad cursor")

func (c cursorCodec) decode(s string) (pageCursor, error) {
	if len(s) > 128 {
		return pageCursor{}, errCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 14 {
		return pageCursor{}, errCursor
	}
	payload, sum := string(raw[:len(raw)-13]), raw[len(raw)-12:]
	if raw[len(raw)-13] != '.' || !hmac.Equal(sum, c.mac(payload)) {
		return pageCursor{}, errCursor
	}
	parts := strings.Split(payload, ".")
	switch {
	case len(parts) == 3 && parts[0] == "d":
		at, err1 := strconv.ParseInt(parts[1], 10, 64)
		id, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 == nil && err2 == nil {
			return pageCursor{kind: cursorDate, at: at, id: id}, nil
		}
	case len(parts) == 2 && parts[0] == "r":
		n, err := strconv.Atoi(parts[1])
		if err == nil && n >= 0 && n <= maxOffset {
			return pageCursor{kind: cursorRank, offset: n}, nil
		}
	}
	return pageCursor{}, errCursor
}
