package feeds

import (
	"html"
	"strconv"
	"strings"
	"time"

	gfeeds "github.com/gorilla/feeds"

	"herald/releases"
	"herald/store"
)

// Format is one of the documents herald serves for a filter.
type Format uint8

// The feed formats (SPEC 3).
const (
	RSS  Format = iota + 1 // RSS 2.0, /feed.rss
	Atom                   // Atom 1.0 (RFC 4287), /feed.atom
	JSON                   // JSON Feed 1.1, /feed.json
	OPML                   // OPML 2.0 list of feeds, /feeds.opml
)

// ContentType is the media type the format is served with, with its charset.
func (f Format) ContentType() string {
	switch f {
	case RSS:
		return "application/rss+xml; charset=utf-8"
	case Atom:
		return "application/atom+xml; charset=utf-8"
	case JSON:
		return "application/feed+json; charset=utf-8"
	case OPML:
		return "text/x-opml; charset=utf-8"
	}
	return "application/octet-stream"
}

// Path is the route of the format.
func (f Format) Path() string {
	switch f {
	case RSS:
		return "/feed.rss"
	case Atom:
		return "/feed.atom"
	case JSON:
		return "/feed.json"
	case OPML:
		return "/feeds.opml"
	}
	return "/"
}

// String names the format for logs.
func (f Format) String() string {
	switch f {
	case RSS:
		return "rss"
	case Atom:
		return "atom"
	case JSON:
		return "json"
	case OPML:
		return "opml"
	}
	return "unknown"
}

// epoch stands for "never" where Atom requires a time and a feed has no
// item: a constant, so that an empty feed's bytes (and ETag) do not change.
var epoch = time.Unix(0, 0).UTC()

// site is what every document says about herald itself.
type site struct {
	name    string // HERALD_SITE_NAME
	baseURL string // HERALD_BASE_URL, no trailing slash
}

// hub is the URL of herald's WebSub hub (SPEC 9.2).
func (st site) hub() string { return st.baseURL + HubPath }

// HubPath is where herald's WebSub hub answers.
const HubPath = "/websub"

// channel is a feed before it is written in a format: every text already
// made safe for XML.
type channel struct {
	title, description string
	home, self, id     string // id: the self URL without the limit
	lang               string // "" unless the filter asks for one language
	updated            time.Time
	items              []entry
}

// entry is one release in a feed.
type entry struct {
	id, url, title, summary, content, lang string
	published, updated                     time.Time
	categories                             []category
	contacts                               []store.Contact
	image                                  *gfeeds.Enclosure // the lead image (SPEC 10), or nil
}

// category is a topic or a region of a release: its slug (term), the
// taxonomy it belongs to (scheme) and its human name (label) in the
// release's language.
type category struct {
	term, scheme, label string
}

// newChannel assembles the feed of f's releases in format.
func newChannel(st site, format Format, f Filter, tax *releases.Taxonomy, rs []store.Release) channel {
	title := st.name
	if names := f.names(tax); len(names) > 0 {
		title += " — " + strings.Join(names, ", ")
	}
	id := withQuery(st.baseURL+format.Path(), Filter{Topics: f.Topics, Regions: f.Regions, Langs: f.Langs}.Query())
	ch := channel{
		title:       xmlText(title),
		description: xmlText("Press releases of " + title),
		home:        st.baseURL + "/",
		self:        withQuery(st.baseURL+format.Path(), f.Query()),
		id:          id,
		lang:        f.lang(),
		items:       make([]entry, 0, len(rs)),
	}
	for i := range rs {
		e := newEntry(st, tax, &rs[i])
		if e.updated.After(ch.updated) {
			ch.updated = e.updated
		}
		ch.items = append(ch.items, e)
	}
	return ch
}

func withQuery(u, q string) string {
	if q == "" {
		return u
	}
	return u + "?" + q
}

func newEntry(st site, tax *releases.Taxonomy, r *store.Release) entry {
	e := entry{
		id:        r.GUID,
		url:       releases.CanonicalURL(*r, st.baseURL),
		title:     xmlText(r.Title),
		summary:   xmlText(r.Summary),
		content:   xmlText(r.BodyHTML),
		lang:      r.Language,
		published: r.PublishedAt.UTC(),
		updated:   r.UpdatedAt.UTC(),
	}
	// An embargoed release is often written long before it is published;
	// its entry must not look older than its publication.
	if e.published.After(e.updated) {
		e.updated = e.published
	}
	for _, t := range r.Topics {
		e.categories = append(e.categories, category{term: t, scheme: st.baseURL + "/topics",
			label: xmlText(tax.TopicName(t, r.Language))})
	}
	for _, g := range r.Regions {
		e.categories = append(e.categories, category{term: g, scheme: st.baseURL + "/regions",
			label: xmlText(tax.RegionName(g, r.Language))})
	}
	for _, c := range r.Contacts {
		e.contacts = append(e.contacts, store.Contact{Name: xmlText(c.Name), Email: xmlText(c.Email), Phone: xmlText(c.Phone)})
	}
	// The lead image's display copy: RSS <enclosure>, Atom <link
	// rel="enclosure">, JSON Feed "image" (gorilla/feeds writes all three).
	if m := releases.LeadImage(r); m != nil {
		e.image = &gfeeds.Enclosure{Url: st.baseURL + releases.MediaPath(m.DisplayKey),
			Length: strconv.FormatInt(m.DisplayBytes, 10), Type: m.DisplayType}
	}
	return e
}

// gorilla is the channel as a gorilla/feeds Feed, the common model its RSS,
// Atom and JSON writers start from; the format files then add what that
// model cannot say.
func (ch *channel) gorilla(st site) *gfeeds.Feed {
	f := &gfeeds.Feed{
		Title:       ch.title,
		Link:        &gfeeds.Link{Href: ch.home},
		Description: ch.description,
		Author:      &gfeeds.Author{Name: xmlText(st.name)},
		Updated:     ch.updated,
		Id:          ch.id,
	}
	for i := range ch.items {
		e := &ch.items[i]
		f.Add(&gfeeds.Item{
			Title:       e.title,
			Link:        &gfeeds.Link{Href: e.url},
			Description: e.summary,
			Id:          e.id,
			IsPermaLink: "false", // a urn:uuid, not a URL
			Created:     e.published,
			Updated:     e.updated,
			Content:     e.content,
			Enclosure:   e.image,
		})
	}
	return f
}

// rssAuthor is RSS 2.0's <author>: an email address, then the name in
// parentheses. Only a contact with an address can be one.
func rssAuthor(cs []store.Contact) string {
	for _, c := range cs {
		if c.Email != "" {
			if c.Name != "" {
				return c.Email + " (" + c.Name + ")"
			}
			return c.Email
		}
	}
	return ""
}

// htmlEscaped is plain text made into HTML, for RSS <description>, which
// readers treat as HTML: "<script>" in a summary must stay text there.
func htmlEscaped(s string) string { return html.EscapeString(s) }
