package feeds

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"herald/releases"
	"herald/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenTaxonomy is a small fixed taxonomy: two topics, a region with a
// child, with French names.
func goldenTaxonomy() *releases.Taxonomy {
	return releases.NewTaxonomy(
		[]store.Term{
			{Slug: "migration", Name: "Migration", Names: map[string]string{"fr": "Migration"}},
			{Slug: "human-trafficking", Name: "Human Trafficking", Names: map[string]string{"fr": "Traite des êtres humains"}},
		},
		[]store.Term{
			{Slug: "americas", Name: "Americas", Names: map[string]string{"fr": "Amériques"}},
			{Slug: "argentina", Name: "Argentina", Names: map[string]string{"fr": "Argentine"}, Parent: "americas"},
		})
}

// goldenReleases are two releases with fixed ids and times, one of them
// hostile: characters XML 1.0 forbids, invalid UTF-8, "]]>", markup in
// plain-text fields, right-to-left text and emoji.
func goldenReleases() []store.Release {
	at := time.Date(2026, 7, 5, 9, 30, 0, 0, time.UTC)
	return []store.Release{
		{
			ID: 2, GUID: "urn:uuid:00000000-0000-4000-8000-000000000002", Slug: "hostile",
			Title:    "Ampersand & <script>alert(1)</script> ]]> \x0b\x1f\x00 bell\x07 \xff\xfe end \uFFFE",
			Summary:  "Summary with ]]> & <b>tags</b> \x0c and عربى 🎉",
			BodyHTML: "<p>Body ]]> &amp; \x1f\x0b with <a href=\"/releases/other\">a relative link</a> — עברית 😀</p>",
			Language: "ar", Topics: []string{"human-trafficking"}, Regions: []string{},
			Contacts:    []store.Contact{{Name: "Media Desk", Email: "media@example.org", Phone: "+41 22 000"}},
			Status:      "published",
			PublishedAt: at, UpdatedAt: at.Add(2 * time.Hour),
		},
		{
			ID: 1, GUID: "urn:uuid:00000000-0000-4000-8000-000000000001", Slug: "road-map",
			Title: "Road map for the integration of Venezuelans", Summary: "Countries adopted a road map.",
			BodyHTML: "<p>Countries adopted a <strong>road map</strong>.</p>", Dateline: "Buenos Aires",
			Language: "fr", Topics: []string{"migration"}, Regions: []string{"argentina"},
			Status:      "published",
			PublishedAt: at.Add(-24 * time.Hour), UpdatedAt: at.Add(-48 * time.Hour),
		},
	}
}

func TestGolden_EachFormat(t *testing.T) {
	st := site{name: "Press Office", baseURL: testBase}
	tax := goldenTaxonomy()
	f := Filter{Topics: []string{"human-trafficking", "migration"}, Regions: []string{"americas"}, Limit: 10}
	for _, format := range []Format{RSS, Atom, JSON, OPML} {
		t.Run(format.String(), func(t *testing.T) {
			var got []byte
			var err error
			if format == OPML {
				got, err = opml(st, Filter{}, tax)
			} else {
				ch := newChannel(st, format, f, tax, goldenReleases())
				switch format {
				case RSS:
					got, err = ch.rss(st)
				case Atom:
					got, err = ch.atom(st)
				case JSON:
					got, err = ch.json(st)
				}
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			checkGolden(t, format.String()+".golden", got)
			if !cleanXML(string(got)) {
				t.Errorf("output holds characters outside XML 1.0")
			}
			if format == OPML {
				return
			}
			parsed, err := gofeed.NewParser().ParseString(string(got))
			if err != nil {
				t.Fatalf("gofeed cannot parse the %s feed: %v", format, err)
			}
			if len(parsed.Items) != 2 {
				t.Fatalf("items = %d, want 2", len(parsed.Items))
			}
			title := parsed.Items[0].Title
			for _, want := range []string{"Ampersand & <script>alert(1)</script> ]]>", " bell \uFFFD end", "\uFFFD"} {
				if !strings.Contains(title, want) {
					t.Errorf("title %q lacks %q", title, want)
				}
			}
			if strings.ContainsAny(title, "\x00\x07\x0b\x1f\uFFFE") {
				t.Errorf("title %q keeps characters XML forbids", title)
			}
			// "]]>" may come back as "]]&gt;", the same HTML text.
			if c := parsed.Items[0].Content; !strings.Contains(c, "Body ]]") || !strings.Contains(c, "עברית 😀") {
				t.Errorf("content %q lost text", c)
			}
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./feeds -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./feeds -run Golden -update and review the diff\ngot:\n%s", name, got)
	}
}

func TestXMLText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello, world", "Hello, world"},
		{"keeps tab and newlines", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"strips C0 controls", "a\x00b\x07c\x0bd\x0ce\x1ff", "abcdef"},
		{"keeps markup for the encoder", "]]> & <script>", "]]> & <script>"},
		{"repairs invalid UTF-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"strips noncharacters", "a\uFFFEb\uFFFFc", "abc"},
		{"encoded surrogate is invalid UTF-8", "a\xed\xa0\x80b", "a\uFFFDb"},
		{"keeps RTL and emoji", "مرحبا עברית 🎉", "مرحبا עברית 🎉"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := xmlText(tt.in); got != tt.want {
				t.Errorf("xmlText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
