package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"herald/releases"
	"herald/store"
)

var feedFormats = []Format{RSS, Atom, JSON}

func parse(t *testing.T, d *Doc) *gofeed.Feed {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(d.Body))
	if err != nil {
		t.Fatalf("gofeed cannot parse the %s feed: %v\n%s", d.Format, err, d.Body)
	}
	return f
}

func guids(f *gofeed.Feed) []string {
	var out []string
	for _, it := range f.Items {
		out = append(out, it.GUID)
	}
	return out
}

func TestFeeds_EveryFormatParses(t *testing.T) {
	e := newEnv(t)
	older := e.create(t, relSpec{title: "Older release", lang: "fr", topics: []string{"migration", "refugees"},
		regions: []string{"argentina"}, at: t0.Add(-2 * time.Hour),
		contacts: []store.Contact{{Name: "Juliana Rivera", Email: "jrivera@example.org", Phone: "+54 11 0000"}}})
	newer := e.create(t, relSpec{title: "Newer release", body: "First paragraph.\n\nSecond **bold** paragraph.",
		at: t0.Add(-time.Hour)})
	for _, format := range feedFormats {
		t.Run(format.String(), func(t *testing.T) {
			d := e.get(t, format, "")
			f := parse(t, d)
			if f.Title != "Press Office" {
				t.Errorf("title = %q", f.Title)
			}
			if got, want := guids(f), []string{newer.GUID, older.GUID}; !slices.Equal(got, want) {
				t.Fatalf("items = %v, want newest first %v", got, want)
			}
			it := f.Items[1]
			if it.Title != "Older release" || it.Link != testBase+"/releases/older-release" {
				t.Errorf("item title/link = %q %q", it.Title, it.Link)
			}
			if it.PublishedParsed == nil || !it.PublishedParsed.Equal(t0.Add(-2*time.Hour)) {
				t.Errorf("published = %v", it.PublishedParsed)
			}
			if want := []string{"Migration", "Réfugiés", "Argentine"}; !slices.Equal(it.Categories, want) {
				t.Errorf("categories = %q, want the French names %q", it.Categories, want)
			}
			if it.Description != "Body of Older release." {
				t.Errorf("summary = %q", it.Description)
			}
			if c := f.Items[0].Content; !strings.Contains(c, "<strong>bold</strong>") {
				t.Errorf("content %q is not the body's HTML", c)
			}
			if len(it.Authors) == 0 || !strings.Contains(it.Authors[0].Name+it.Authors[0].Email, "jrivera@example.org") &&
				!strings.Contains(it.Authors[0].Name, "Juliana Rivera") {
				t.Errorf("authors = %+v, want the press contact", it.Authors)
			}
			// Both were written at t0 (backdated publication): t0 is the latest change.
			if format != JSON && (f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(t0)) {
				t.Errorf("feed updated = %v, want the latest item change", f.UpdatedParsed)
			}
		})
	}
}

func TestFeeds_RSSGuidAndSelfLink(t *testing.T) {
	e := newEnv(t)
	r := e.create(t, relSpec{title: "A release", topics: []string{"migration"}, regions: []string{"americas"}, lang: "es"})
	d := e.get(t, RSS, "topic=migration&region=americas&lang=es")
	f, err := (&rss.Parser{}).Parse(bytes.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	it := f.Items[0]
	if it.GUID == nil || it.GUID.Value != r.GUID || it.GUID.IsPermalink != "false" {
		t.Errorf("guid = %+v, want %s isPermaLink=false", it.GUID, r.GUID)
	}
	if f.Language != "es" || it.DublinCoreExt == nil || !slices.Equal(it.DublinCoreExt.Language, []string{"es"}) {
		t.Errorf("language: channel %q, item %+v", f.Language, it.DublinCoreExt)
	}
	if !strings.Contains(f.Title, "Press Office — Migración, Américas, español") {
		t.Errorf("title = %q, want it to name the filter", f.Title)
	}
	self := f.Extensions["atom"]["link"][0].Attrs
	if self["rel"] != "self" || self["href"] != testBase+"/feed.rss?topic=migration&region=americas&lang=es" {
		t.Errorf("atom:link = %v", self)
	}
}

func TestFeeds_AtomIDsLanguageAndLinks(t *testing.T) {
	e := newEnv(t)
	r := e.create(t, relSpec{title: "Un communiqué", lang: "fr", regions: []string{"france"}})
	d := e.get(t, Atom, "region=europe")
	f, err := (&atom.Parser{}).Parse(bytes.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "Press Office — Europe" || f.ID != testBase+"/feed.atom?region=europe" {
		t.Errorf("feed title/id = %q %q", f.Title, f.ID)
	}
	rels := map[string]string{}
	for _, l := range f.Links {
		rels[l.Rel] = l.Href
	}
	if rels["self"] != testBase+"/feed.atom?region=europe" || rels["alternate"] != testBase+"/" {
		t.Errorf("links = %v", rels)
	}
	en := f.Entries[0]
	if en.ID != r.GUID || en.Published == "" || en.Updated == "" {
		t.Errorf("entry id/published/updated = %q %q %q", en.ID, en.Published, en.Updated)
	}
	if en.Categories[1].Term != "france" || en.Categories[1].Label != "France" {
		t.Errorf("categories = %+v", en.Categories)
	}
	// gofeed does not keep an entry's xml:lang; read it with encoding/xml.
	var doc struct {
		Entries []struct {
			Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(d.Body, &doc); err != nil || len(doc.Entries) != 1 || doc.Entries[0].Lang != "fr" {
		t.Errorf("entry xml:lang = %+v (%v), want fr", doc.Entries, err)
	}
}

func TestFeeds_JSONFeedRequiredFields(t *testing.T) {
	e := newEnv(t)
	for _, q := range []string{"topic=children", ""} { // an empty feed first: items must still be there
		if q == "" {
			e.create(t, relSpec{title: "Children", topics: []string{"children"}, lang: "es"})
		}
		d := e.get(t, JSON, q)
		var doc map[string]any
		if err := json.Unmarshal(d.Body, &doc); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if doc["version"] != "https://jsonfeed.org/version/1.1" || doc["title"] == "" || doc["feed_url"] == nil {
			t.Errorf("version/title/feed_url = %v %v %v", doc["version"], doc["title"], doc["feed_url"])
		}
		items, ok := doc["items"].([]any)
		if !ok {
			t.Fatalf("items = %#v, want an array (required, even empty)", doc["items"])
		}
		for _, x := range items {
			it := x.(map[string]any)
			if it["id"] == "" || (it["content_html"] == nil && it["content_text"] == nil) || it["language"] != "es" {
				t.Errorf("item lacks id, content or language: %v", it)
			}
		}
	}
}

func TestFeeds_Filters(t *testing.T) {
	e := newEnv(t)
	mk := func(title string, topics, regions []string, lang string, h int) string {
		return e.create(t, relSpec{title: title, topics: topics, regions: regions, lang: lang, at: t0.Add(-time.Duration(h) * time.Hour)}).GUID
	}
	arg := mk("argentina", []string{"migration"}, []string{"argentina"}, "en", 1)
	amer := mk("americas", []string{"refugees"}, []string{"americas"}, "es", 2)
	glob := mk("global", []string{"migration"}, nil, "fr", 3)
	mali := mk("mali", []string{"emergencies"}, []string{"mali"}, "fr", 4)
	multi := mk("multi", []string{"children", "gender"}, []string{"mali", "brazil"}, "en", 5)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"all", "", []string{arg, amer, glob, mali, multi}},
		{"one topic", "topic=migration", []string{arg, glob}},
		{"topics any of", "topic=refugees,emergencies", []string{amer, mali}},
		{"repeated parameter", "topic=refugees&topic=emergencies", []string{amer, mali}},
		{"region includes descendants and global", "region=americas", []string{arg, amer, glob, multi}},
		{"country excludes its parent region's own releases", "region=argentina", []string{arg, glob}},
		{"regions any of", "region=argentina,mali", []string{arg, glob, mali, multi}},
		{"lang any of", "lang=fr,es", []string{amer, glob, mali}},
		{"lang tag normalized", "lang=FR-ca", []string{glob, mali}},
		{"filters combine", "topic=migration&region=africa&lang=fr", []string{glob}},
		{"limit", "limit=2", []string{arg, amer}},
		{"unused language", "lang=de", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, format := range feedFormats {
				if got := guids(parse(t, e.get(t, format, tt.query))); !slices.Equal(got, tt.want) {
					t.Errorf("%s?%s = %v, want %v", format.Path(), tt.query, got, tt.want)
				}
			}
		})
	}
}

func TestParseFilter(t *testing.T) {
	tax := goldenTaxonomy()
	tests := []struct {
		name, query, canonical string
		unknown, bad           bool
	}{
		{name: "empty", query: "", canonical: ""},
		{name: "normalized", query: "region=argentina,americas&topic=Migration&topic=migration,&lang=fr,EN&limit=50",
			canonical: "topic=migration&region=americas,argentina&lang=en,fr"},
		{name: "blank values ignored", query: "topic=&region=%20&limit=", canonical: ""},
		{name: "other parameters ignored", query: "utm_source=x&limit=200", canonical: "limit=200"},
		{name: "limit 1", query: "limit=1", canonical: "limit=1"},
		{name: "unknown topic", query: "topic=migration,nope", unknown: true},
		{name: "unknown region", query: "region=atlantis", unknown: true},
		{name: "unknown language", query: "lang=zz", unknown: true},
		{name: "malformed language", query: "lang=english", unknown: true},
		{name: "limit zero", query: "limit=0", bad: true},
		{name: "limit over 200", query: "limit=201", bad: true},
		{name: "limit negative", query: "limit=-5", bad: true},
		{name: "limit not a number", query: "limit=ten", bad: true},
		{name: "limit float", query: "limit=1.5", bad: true},
		{name: "malformed query", query: "topic=%zz", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.query, tax)
			var qe *QueryError
			switch {
			case tt.unknown || tt.bad:
				if !errors.As(err, &qe) || qe.Unknown != tt.unknown || qe.Msg == "" {
					t.Fatalf("err = %#v, want a QueryError with Unknown=%v", err, tt.unknown)
				}
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			case f.Query() != tt.canonical:
				t.Errorf("canonical query = %q, want %q", f.Query(), tt.canonical)
			}
		})
	}
}

func TestFeeds_IDsSurviveEdits(t *testing.T) {
	e := newEnv(t)
	r := e.create(t, relSpec{title: "Original title"})
	before := parse(t, e.get(t, Atom, "")).Items[0]
	title, slug := "Edited title", "edited-slug"
	e.clock.Set(t0.Add(time.Hour))
	if _, err := e.rel.Update(context.Background(), r.ID, releases.Input{Title: &title, Slug: &slug}); err != nil {
		t.Fatal(err)
	}
	for _, format := range feedFormats {
		after := parse(t, e.get(t, format, "")).Items[0]
		if after.GUID != before.GUID || after.GUID != r.GUID {
			t.Errorf("%s: id changed across an edit: %q -> %q", format, before.GUID, after.GUID)
		}
		if after.Title != title || after.Link != testBase+"/releases/edited-slug" {
			t.Errorf("%s: edit not shown: %q %q", format, after.Title, after.Link)
		}
	}
}

func TestFeeds_EmbargoAndDraftNeverShow(t *testing.T) {
	e := newEnv(t)
	e.create(t, relSpec{title: "Live one", at: t0.Add(-time.Minute)})
	docs := map[Format]*Doc{}
	for _, format := range append(feedFormats, OPML) {
		docs[format] = e.get(t, format, "")
	}
	embargoed := e.create(t, relSpec{title: "Embargoed", at: t0.Add(10 * time.Minute)})
	e.create(t, relSpec{title: "Draft", status: "draft"})
	for format, before := range docs {
		after := e.get(t, format, "")
		if after.ETag != before.ETag || after.GzipETag != before.GzipETag || !after.LastModified.Equal(before.LastModified) {
			t.Errorf("%s: ETag or Last-Modified changed before anything went live", format)
		}
		if bytes.Contains(after.Body, []byte("Embargoed")) || bytes.Contains(after.Body, []byte("Draft")) {
			t.Errorf("%s lists an embargoed or draft release", format)
		}
	}
	e.clock.Set(t0.Add(10 * time.Minute))
	if n, err := e.rel.PublishDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("PublishDue = %d, %v", n, err)
	}
	for _, format := range feedFormats {
		after := e.get(t, format, "")
		if after.ETag == docs[format].ETag {
			t.Errorf("%s: ETag unchanged after the embargo ended", format)
		}
		if got := guids(parse(t, after)); len(got) != 2 || got[0] != embargoed.GUID {
			t.Errorf("%s items = %v, want the released embargo first", format, got)
		}
		if !after.LastModified.Equal(t0.Add(10 * time.Minute)) {
			t.Errorf("%s Last-Modified = %v", format, after.LastModified)
		}
	}
}

func TestFeeds_OPMLListsEveryTopicAndRegion(t *testing.T) {
	e := newEnv(t)
	d := e.get(t, OPML, "")
	var doc opmlDoc
	if err := xml.Unmarshal(d.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.0" || len(doc.Body) != 3 {
		t.Fatalf("version %q, %d top outlines", doc.Version, len(doc.Body))
	}
	topics, regions := doc.Body[1].Outlines, doc.Body[2].Outlines
	if len(topics) != len(releases.DefaultTopics()) || len(regions) != len(releases.DefaultRegions()) {
		t.Fatalf("%d topic and %d region feeds", len(topics), len(regions))
	}
	for _, o := range append(append([]opmlOutline{doc.Body[0]}, topics...), regions...) {
		if o.Text == "" || o.Type != "rss" || !strings.HasPrefix(o.XMLURL, testBase+"/feed.rss") {
			t.Errorf("outline %+v", o)
			continue
		}
		q := strings.TrimPrefix(strings.TrimPrefix(o.XMLURL, testBase+"/feed.rss"), "?")
		if _, err := e.feeds.Get(context.Background(), RSS, q); err != nil {
			t.Errorf("listed feed %s does not work: %v", o.XMLURL, err)
		}
	}
	if topics[1].Text != "Human Trafficking" || regions[1].Text != "Argentina" {
		t.Errorf("names = %q, %q, want human names", topics[1].Text, regions[1].Text)
	}
	fr := e.get(t, OPML, "lang=fr&topic=migration")
	if !bytes.Contains(fr.Body, []byte(`text="Traite des êtres humains"`)) || !bytes.Contains(fr.Body, []byte("lang=fr")) {
		t.Errorf("French OPML lacks French names or lang=fr feeds")
	}
}

func TestFeeds_GzipMatchesBody(t *testing.T) {
	e := newEnv(t)
	e.create(t, relSpec{title: "Compressed"})
	d := e.get(t, RSS, "")
	zr, err := gzip.NewReader(bytes.NewReader(d.Gzip))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, d.Body) {
		t.Fatalf("gzip body does not decompress to the plain body (%v)", err)
	}
	if d.ETag == d.GzipETag || !strings.HasPrefix(d.ETag, `"`) || !strings.HasSuffix(d.GzipETag, `"`) {
		t.Errorf("etags %s %s", d.ETag, d.GzipETag)
	}
}

func TestFeeds_HostileReleasesStayWellFormed(t *testing.T) {
	e := newEnv(t)
	hostile := []relSpec{
		{title: "Closing ]]> inside & <script>alert(1)</script>", body: "<p>]]> &amp; <script>x()</script> <b onclick=\"x()\">b</b></p>"},
		{title: "Controls \x0b and \x1f and \x00 here", body: "Body with \x0b vertical tab and \x1f unit separator.", contacts: []store.Contact{{Name: "A & B <c>", Email: "a@example.org"}}},
		{title: "عربى RTL \u200fmark and emoji 🎉🇦🇷", lang: "ar", body: "نص عربي 😀 ]]>"},
		{title: "Invalid \xff\xfe UTF-8", body: "bytes \xc3\x28 here"},
	}
	for _, h := range hostile {
		h.body = strings.ReplaceAll(h.body, "\n", " ")
		e.create(t, h)
	}
	for _, format := range feedFormats {
		d := e.get(t, format, "")
		if !cleanXML(string(d.Body)) {
			t.Errorf("%s holds characters outside XML 1.0", format)
		}
		if format != JSON {
			dec := xml.NewDecoder(bytes.NewReader(d.Body))
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s is not well-formed XML: %v", format, err)
				}
			}
		}
		f := parse(t, d)
		if len(f.Items) != len(hostile) {
			t.Fatalf("%s: %d items, want %d", format, len(f.Items), len(hostile))
		}
		titles := strings.Join(func() []string {
			var s []string
			for _, it := range f.Items {
				s = append(s, it.Title)
			}
			return s
		}(), "|")
		for _, want := range []string{"Closing ]]> inside & <script>alert(1)</script>", "Controls and and here", "emoji 🎉🇦🇷", "Invalid \uFFFD UTF-8"} {
			if !strings.Contains(titles, want) {
				t.Errorf("%s titles %q lack %q", format, titles, want)
			}
		}
		if bytes.Contains(d.Body, []byte("<script>x()")) || bytes.Contains(d.Body, []byte("onclick")) {
			t.Errorf("%s carries unsanitized HTML", format)
		}
	}
}
