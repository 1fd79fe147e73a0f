package mailer

import (
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/templates"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
}

func sampleRelease() ReleaseView {
	return ReleaseView{ID: 7, Title: "Camps Prepare for the Cyclone Season", Summary: "Drills are under way.", Dateline: "Cox's Bazar",
		PublishedAt: time.Date(2026, 7, 2, 10, 0, 0, 0, time.UTC), Language: "en", URL: "https://press.example.org/releases/camps",
		BodyHTML: `<p>Slope stabilization and <a href="https://example.org/drills">early-warning drills</a> are under way.</p>`}
}

func TestTemplates_Override(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mail", "fr", "confirm.txt"),
		`{{define "subject"}}Merci de confirmer{{end}}{{define "content"}}Lien : {{.Notice.ConfirmURL}}{{end}}`)
	tpl, err := LoadTemplates(templates.Overlay(dir), TemplateOptions{SiteName: "Press Office", OverrideDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tpl.Notice(KindConfirm, NoticeData{Language: "fr", ConfirmURL: "https://x.example/c"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "Merci de confirmer" || !strings.Contains(c.Text, "Lien : https://x.example/c") {
		t.Fatalf("override not used: %q\n%s", c.Subject, c.Text)
	}
	if !strings.Contains(c.HTML, "Confirmer mon abonnement") {
		t.Errorf("the embedded French HTML stays in use:\n%s", c.HTML)
	}
	en, _ := tpl.Notice(KindConfirm, NoticeData{Language: "en", ConfirmURL: "https://x.example/c"})
	if en.Subject != "Confirm your subscription to Press Office" {
		t.Errorf("English changed: %q", en.Subject)
	}
}

func TestTemplates_BrokenOverrideNamesFile(t *testing.T) {
	tests := []struct {
		name, file, body, want string
	}{
		{"does not parse", "mail/en/alert.html", `{{define "content"}}{{.Release.HTML}{{end}}`, "alert.html"},
		{"unknown field", "mail/es/digest.txt", `{{define "subject"}}{{.NoSuchField}}{{end}}{{define "content"}}x{{end}}`, "mail/es/digest.txt"},
		{"unknown field in html", "mail/fr/manage.html", `{{define "content"}}{{.Notice.Nope}}{{end}}`, "mail/fr/manage.html"},
		{"bad layout", "mail/fr/layout.txt", `{{template "content" .}`, "layout.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, filepath.FromSlash(tt.file)), tt.body)
			_, err := LoadTemplates(templates.Overlay(dir), TemplateOptions{SiteName: "S", OverrideDir: dir})
			if err == nil {
				t.Fatal("a broken override must stop startup")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %s", err, tt.want)
			}
		})
	}
	t.Run("full path of the override", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "mail", "en", "release.html")
		writeFile(t, p, `{{if}}`)
		_, err := LoadTemplates(templates.Overlay(dir), TemplateOptions{SiteName: "S", OverrideDir: dir})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("error %v, want it to name %s", err, p)
		}
	})
}

func TestTemplates_LanguageFallback(t *testing.T) {
	tpl := loadTemplates(t)
	tests := []struct{ lang, want string }{
		{"fr", "Lire en ligne"}, {"fr-CA", "Lire en ligne"}, {"ES", "Leer en línea"}, {"de", "Read it online"}, {"", "Read it online"},
		{"ar", "اقرأ البيان على الموقع"}, {"ar-EG", "اقرأ البيان على الموقع"},
	}
	for _, tt := range tests {
		p, err := tpl.Release(tt.lang, sampleRelease())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(p.HTML), tt.want) || !strings.Contains(p.Text, strings.TrimSpace(tt.want)) {
			t.Errorf("lang %q: want %q in\n%s", tt.lang, tt.want, p.HTML)
		}
	}
	if got := tpl.Languages(); strings.Join(got, ",") != "en,ar,es,fr" {
		t.Errorf("languages %v", got)
	}
}

func TestTemplates_AlertAndDigest(t *testing.T) {
	tpl := loadTemplates(t)
	r := sampleRelease()
	r.Title = "Title <b>bold</b> & \"quoted\"\r\nsecond line"
	part, err := tpl.Release("en", r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tpl.Alert(AlertView{Lang: "en", Release: part, UnsubscribeURL: "https://p.example/unsubscribe?token=u&x=1", PreferencesURL: "https://p.example/preferences?token=p"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != `Title <b>bold</b> & "quoted" second line` {
		t.Errorf("subject %q", c.Subject)
	}
	if strings.Contains(c.HTML, "<b>bold</b>") || !strings.Contains(c.HTML, "&lt;b&gt;bold&lt;/b&gt;") {
		t.Errorf("the title must be escaped in HTML")
	}
	if !strings.Contains(c.HTML, `href="https://p.example/unsubscribe?token=u&amp;x=1"`) {
		t.Errorf("unsubscribe link missing or badly escaped")
	}
	if !strings.Contains(c.Text, "early-warning drills") || !strings.Contains(c.Text, "<https://example.org/drills>") {
		t.Errorf("links must be written out in text:\n%s", c.Text)
	}
	if c.UnsubscribeURL == "" {
		t.Error("alert content must carry the unsubscribe URL for the headers")
	}
	item, _ := tpl.DigestItem("es", sampleRelease())
	d, err := tpl.Digest(DigestView{Lang: "es", Cadence: "daily", Items: []*ReleasePart{item, item, item}, UnsubscribeURL: "https://p.example/u"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "Press Office: 3 comunicados nuevos" {
		t.Errorf("digest subject %q", d.Subject)
	}
	if strings.Count(d.Text, "https://press.example.org/releases/camps") != 3 || !strings.Contains(d.Text, "2 de julio de 2026") {
		t.Errorf("digest text:\n%s", d.Text)
	}
	if _, err := tpl.Digest(DigestView{Lang: "en"}); err != ErrSkip {
		t.Errorf("an empty digest must be skipped, got %v", err)
	}
}

// BenchmarkAlert_SharedPart is the per-recipient cost when the release is
// rendered once per language and reused (what dispatch does).
func BenchmarkAlert_SharedPart(b *testing.B) {
	tpl := loadTemplates(b)
	r := benchRelease()
	part, err := tpl.Release("en", r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := tpl.Alert(AlertView{Lang: "en", Release: part, UnsubscribeURL: "https://p.example/unsubscribe?token=abcdefghijklmnop",
			PreferencesURL: "https://p.example/preferences?token=abcdefghijklmnop"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlert_Unshared renders the release again for every recipient.
func BenchmarkAlert_Unshared(b *testing.B) {
	tpl := loadTemplates(b)
	r := benchRelease()
	b.ReportAllocs()
	for b.Loop() {
		part, err := tpl.Release("en", r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tpl.Alert(AlertView{Lang: "en", Release: part, UnsubscribeURL: "https://p.example/unsubscribe?token=abcdefghijklmnop",
			PreferencesURL: "https://p.example/preferences?token=abcdefghijklmnop"}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRelease is a release of about 8 KB of HTML (a long press release).
func benchRelease() ReleaseView {
	r := sampleRelease()
	var b strings.Builder
	for i := 0; i < 24; i++ {
		b.WriteString(`<p>The organization and the UN Refugee Agency welcome the adoption by Latin American countries of a <a href="https://example.org/road-map">road map</a> to facilitate the integration of refugees and migrants; the numbers exceed 4 million.</p>`)
	}
	r.BodyHTML = template.HTML(b.String())
	return r
}

func TestTemplates_AlertFrameMatchesFullRender(t *testing.T) {
	tpl := loadTemplates(t)
	for _, lang := range []string{"en", "fr", "es"} {
		part, err := tpl.Release(lang, sampleRelease())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []AlertView{
			{Lang: lang, Release: part, UnsubscribeURL: "https://p.example/unsubscribe?token=a.b_c-d&x=1", PreferencesURL: "https://p.example/preferences?token=zz"},
			{Lang: lang, Release: part, UnsubscribeURL: "https://p.example/unsubscribe?token=other"},
		} {
			got, err := tpl.Alert(v) // cached frame
			if err != nil {
				t.Fatal(err)
			}
			_, set := tpl.lang(lang)
			h, x, err := tpl.renderAlert(lang, set, part, v.UnsubscribeURL, v.PreferencesURL)
			if err != nil {
				t.Fatal(err)
			}
			if got.HTML != h || got.Text != x {
				t.Fatalf("%s: the cached frame differs from a full render", lang)
			}
		}
	}
}

func TestTemplates_DigestFrameMatchesFullRender(t *testing.T) {
	tpl := loadTemplates(t)
	for _, lang := range []string{"en", "fr", "es"} {
		a, err := tpl.DigestItem(lang, sampleRelease())
		if err != nil {
			t.Fatal(err)
		}
		r := sampleRelease()
		r.Title = "A second entry & more"
		b, err := tpl.DigestItem(lang, r)
		if err != nil {
			t.Fatal(err)
		}
		since := time.Date(2026, 7, 5, 7, 0, 0, 0, time.UTC)
		for _, v := range []DigestView{
			{Lang: lang, Cadence: "daily", Since: since, Items: []*ReleasePart{a, b}, UnsubscribeURL: "https://p.example/unsubscribe?token=a&x=1", PreferencesURL: "https://p.example/preferences?token=zz"},
			{Lang: lang, Cadence: "daily", Since: since, Items: []*ReleasePart{a, b}, UnsubscribeURL: "https://p.example/unsubscribe?token=other", PreferencesURL: "https://p.example/preferences?token=yy"},
			{Lang: lang, Cadence: "weekly", Since: since, Items: []*ReleasePart{b}, UnsubscribeURL: "https://p.example/unsubscribe?token=third"},
		} {
			got, err := tpl.Digest(v) // cached frame after the first
			if err != nil {
				t.Fatal(err)
			}
			_, set := tpl.lang(lang)
			want, err := tpl.renderDigest(lang, set, v)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("%s: the cached digest differs from a full render", lang)
			}
		}
	}
}
