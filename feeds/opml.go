package feeds

import (
	"encoding/xml"
	"strings"

	"herald/releases"
)

// opmlDoc is an OPML 2.0 subscription list (http://opml.org/spec2.opml):
// the feed of all releases, then a folder of topic feeds and a folder of
// region feeds, each named by its human name.
type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Head    opmlHead      `xml:"head"`
	Body    []opmlOutline `xml:"body>outline"`
}

// FeedXml lets gorilla/feeds write the document (feeds.XmlFeed).
func (d *opmlDoc) FeedXml() any { return d }

type opmlHead struct {
	Title string `xml:"title"`
	Docs  string `xml:"docs"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr,omitempty"`
	Type     string        `xml:"type,attr,omitempty"`
	XMLURL   string        `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string        `xml:"htmlUrl,attr,omitempty"`
	Language string        `xml:"language,attr,omitempty"`
	Outlines []opmlOutline `xml:"outline"`
}

// opml lists one RSS feed per topic and per region (and the feed of every
// release), restricted to f's languages when it names some; names are in
// f's language when it names exactly one.
func opml(st site, f Filter, tax *releases.Taxonomy) ([]byte, error) {
	langs := Filter{Langs: f.Langs}
	lang := f.lang()
	feed := func(text string, topics, regions []string) opmlOutline {
		sub := Filter{Topics: topics, Regions: regions, Langs: f.Langs}
		title := st.name
		if names := sub.names(tax); len(names) > 0 {
			title += " — " + strings.Join(names, ", ")
		}
		return opmlOutline{
			Text: xmlText(text), Title: xmlText(title), Type: "rss", Language: lang,
			XMLURL:  withQuery(st.baseURL+RSS.Path(), sub.Query()),
			HTMLURL: st.baseURL + "/",
		}
	}
	allTitle := st.name
	if names := langs.names(tax); len(names) > 0 {
		allTitle += " — " + strings.Join(names, ", ")
	}
	all := feed(allTitle, nil, nil)
	topics := opmlOutline{Text: folderName(lang, "topics")}
	for _, t := range tax.Topics {
		topics.Outlines = append(topics.Outlines, feed(tax.TopicName(t.Slug, lang), []string{t.Slug}, nil))
	}
	regions := opmlOutline{Text: folderName(lang, "regions")}
	for _, r := range tax.Regions {
		regions.Outlines = append(regions.Outlines, feed(tax.RegionName(r.Slug, lang), nil, []string{r.Slug}))
	}
	return writeXML(&opmlDoc{
		Version: "2.0",
		Head:    opmlHead{Title: xmlText(st.name + " — " + folderName(lang, "feeds")), Docs: "http://opml.org/spec2.opml"},
		Body:    []opmlOutline{all, topics, regions},
	})
}

// folderName names the OPML folders in the languages of the built-in
// taxonomy, English otherwise.
func folderName(lang, key string) string {
	names := map[string]map[string]string{
		"fr": {"topics": "Thèmes", "regions": "Régions", "feeds": "flux"},
		"es": {"topics": "Temas", "regions": "Regiones", "feeds": "canales"},
		"ar": {"topics": "المواضيع", "regions": "المناطق", "feeds": "الخلاصات"},
	}
	if n, ok := names[lang][key]; ok {
		return n
	}
	return map[string]string{"topics": "Topics", "regions": "Regions", "feeds": "feeds"}[key]
}
