package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"time"

	gfeeds "github.com/gorilla/feeds"
)

// Namespaces herald's feeds use beyond their format's own.
const (
	nsAtom = "http://www.w3.org/2005/Atom"
	nsDC   = "http://purl.org/dc/elements/1.1/"
)

// The RSS document is gorilla/feeds' RSS 2.0 (content:encoded included),
// extended by embedding: every category of an item with its taxonomy as
// domain, the item's language (dc:language), atom:link rel="self" (RSS Best
// Practices) and rel="hub" (WebSub, SPEC 9.2) on the channel and xml:base on
// the root.
type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	*gfeeds.RssFeedXml
	NSAtom  string      `xml:"xmlns:atom,attr"`
	NSDC    string      `xml:"xmlns:dc,attr"`
	Base    string      `xml:"xml:base,attr,omitempty"`
	Channel *rssChannel `xml:"channel"`
}

// FeedXml lets gorilla/feeds write the document (feeds.XmlFeed).
func (d *rssDoc) FeedXml() any { return d }

type rssChannel struct {
	XMLName xml.Name `xml:"channel"`
	*gfeeds.RssFeed
	Links []atomLink `xml:"atom:link"` // self, and the WebSub hub
	Items []*rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	XMLName xml.Name `xml:"item"`
	*gfeeds.RssItem
	Categories []rssCategory `xml:"category"`
	Language   string        `xml:"dc:language,omitempty"`
}

type rssCategory struct {
	Domain string `xml:"domain,attr,omitempty"`
	Name   string `xml:",chardata"`
}

func (ch *channel) rss(st site) ([]byte, error) {
	base := (&gfeeds.Rss{Feed: ch.gorilla(st)}).RssFeed()
	base.Language = ch.lang
	base.Generator = "herald"
	base.ManagingEditor = "" // RSS wants an address there, and herald's site has none
	c := &rssChannel{RssFeed: base, Links: []atomLink{{Href: ch.self, Rel: "self", Type: RSS.mime()}, {Href: st.hub(), Rel: "hub"}}}
	for i, it := range base.Items {
		e := &ch.items[i]
		it.Description = htmlEscaped(e.summary)
		it.Author = rssAuthor(e.contacts)
		x := &rssItem{RssItem: it, Language: e.lang}
		for _, cat := range e.categories {
			x.Categories = append(x.Categories, rssCategory{Domain: cat.scheme, Name: cat.label})
		}
		c.Items = append(c.Items, x)
	}
	base.Items = nil
	root := base.FeedXml().(*gfeeds.RssFeedXml)
	root.Channel = nil
	return writeXML(&rssDoc{RssFeedXml: root, NSAtom: nsAtom, NSDC: nsDC, Base: ch.home, Channel: c})
}

// The Atom document is gorilla/feeds' Atom 1.0, extended by embedding:
// xml:lang and xml:base on the feed, self and alternate links, a generator,
// and per entry its xml:lang, published time, categories (term = slug,
// label = human name) and the press contacts as authors.
type atomDoc struct {
	XMLName xml.Name `xml:"feed"`
	*gfeeds.AtomFeed
	Lang      string            `xml:"xml:lang,attr,omitempty"`
	Base      string            `xml:"xml:base,attr,omitempty"`
	Links     []gfeeds.AtomLink `xml:"link"`
	Generator atomGenerator     `xml:"generator"`
	Entries   []*atomEntry      `xml:"entry"`
}

// FeedXml lets gorilla/feeds write the document (feeds.XmlFeed).
func (d *atomDoc) FeedXml() any { return d }

type atomGenerator struct {
	URI  string `xml:"uri,attr,omitempty"`
	Name string `xml:",chardata"`
}

type atomEntry struct {
	XMLName xml.Name `xml:"entry"`
	*gfeeds.AtomEntry
	Lang       string               `xml:"xml:lang,attr,omitempty"`
	Categories []atomCategory       `xml:"category"`
	Authors    []*gfeeds.AtomAuthor `xml:"author"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

func (ch *channel) atom(st site) ([]byte, error) {
	base := (&gfeeds.Atom{Feed: ch.gorilla(st)}).AtomFeed()
	if ch.updated.IsZero() {
		base.Updated = epoch.Format(time.RFC3339) // required even when empty
	}
	base.Id = ch.id // gorilla/feeds would use the home page
	base.Link = nil
	base.Author.Uri = ch.home
	d := &atomDoc{AtomFeed: base, Lang: ch.lang, Base: ch.home,
		Links: []gfeeds.AtomLink{
			{Href: ch.self, Rel: "self", Type: Atom.mime()},
			{Href: st.hub(), Rel: "hub"},
			{Href: ch.home, Rel: "alternate", Type: "text/html"},
		},
		Generator: atomGenerator{Name: "herald"},
	}
	for i, x := range base.Entries {
		e := &ch.items[i]
		x.Published = e.published.Format(time.RFC3339)
		if x.Summary != nil {
			x.Summary.Type = "text" // herald's summaries are plain text
		}
		x.Author = nil
		y := &atomEntry{AtomEntry: x, Lang: e.lang}
		for _, cat := range e.categories {
			y.Categories = append(y.Categories, atomCategory{Term: cat.term, Scheme: cat.scheme, Label: cat.label})
		}
		for _, c := range e.contacts {
			if c.Name != "" || c.Email != "" {
				y.Authors = append(y.Authors, &gfeeds.AtomAuthor{AtomPerson: gfeeds.AtomPerson{Name: c.Name, Email: c.Email}})
			}
		}
		d.Entries = append(d.Entries, y)
	}
	base.Entries = nil
	return writeXML(d)
}

// The JSON Feed document is gorilla/feeds' JSON Feed 1.1 with items always
// present (the spec requires the array, even empty), the feed's url and
// language, and per item its language, tags and the press contacts.
type jsonDoc struct {
	*gfeeds.JSONFeed
	Items []*jsonItem `json:"items"`
}

type jsonItem struct {
	*gfeeds.JSONItem
	Language string `json:"language,omitempty"`
}

func (ch *channel) json(st site) ([]byte, error) {
	base := (&gfeeds.JSON{Feed: ch.gorilla(st)}).JSONFeed()
	base.FeedUrl = ch.self
	base.Language = ch.lang
	base.Hubs = []*gfeeds.JSONHub{{Type: "WebSub", Url: st.hub()}}
	d := &jsonDoc{JSONFeed: base, Items: make([]*jsonItem, 0, len(base.Items))}
	for i, it := range base.Items {
		e := &ch.items[i]
		for _, cat := range e.categories {
			it.Tags = append(it.Tags, cat.label)
		}
		it.Author, it.Authors = nil, nil
		for _, c := range e.contacts {
			a := &gfeeds.JSONAuthor{Name: c.Name}
			if c.Email != "" {
				a.Url = "mailto:" + c.Email
			}
			if a.Name == "" {
				a.Name = c.Email
			}
			if a.Name != "" {
				it.Authors = append(it.Authors, a)
			}
		}
		d.Items = append(d.Items, &jsonItem{JSONItem: it, Language: e.lang})
	}
	base.Items = nil
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("feeds: write json feed: %w", err)
	}
	return buf.Bytes(), nil
}

// mime is the media type without parameters, for type attributes.
func (f Format) mime() string {
	switch f {
	case RSS:
		return "application/rss+xml"
	case Atom:
		return "application/atom+xml"
	case JSON:
		return "application/feed+json"
	}
	return "text/x-opml"
}

// writeXML writes an XML document through gorilla/feeds (XML declaration,
// indented elements) and ends it with a newline.
func writeXML(doc gfeeds.XmlFeed) ([]byte, error) {
	var buf bytes.Buffer
	if err := gfeeds.WriteXML(doc, &buf); err != nil {
		return nil, fmt.Errorf("feeds: write xml: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
