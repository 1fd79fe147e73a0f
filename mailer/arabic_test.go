package mailer

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/templates"
)

// TestTemplates_EveryLanguageHasEveryFile: each language directory holds
// every mail template English has, so that no Arabic, French or Spanish
// reader gets an English part in the middle of their mail.
func TestTemplates_EveryLanguageHasEveryFile(t *testing.T) {
	fsys := templates.Embedded()
	names := func(lang string) []string {
		ents, err := fs.ReadDir(fsys, "mail/"+lang)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	en := names("en")
	for _, lang := range loadTemplates(t).Languages() {
		if got := names(lang); !slices.Equal(got, en) {
			t.Errorf("mail/%s has %v, mail/en has %v", lang, got, en)
		}
	}
}

// TestTemplates_Arabic: right-to-left HTML, Arabic dates, an English
// release inside an Arabic mail marked left to right, and the Arabic
// plural forms of the digest's count.
func TestTemplates_Arabic(t *testing.T) {
	tpl := loadTemplates(t)
	r := sampleRelease() // English
	part, err := tpl.Release("ar", r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(part.HTML), `<div lang="en" dir="ltr">`) || !strings.Contains(string(part.HTML), "2 يوليو 2026") {
		t.Errorf("an English release in Arabic mail:\n%s", part.HTML)
	}
	c, err := tpl.Alert(AlertView{Lang: "ar", Release: part, UnsubscribeURL: "https://p.example/u", PreferencesURL: "https://p.example/p"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.HTML, `<html lang="ar" dir="rtl">`) || !strings.Contains(c.HTML, "إلغاء الاشتراك") || !strings.Contains(c.Text, "تغيير تفضيلاتك") {
		t.Errorf("Arabic alert:\n%s", c.HTML)
	}
	for n, want := range map[int]string{1: "بيان جديد واحد", 2: "بيانان جديدان", 3: "3 بيانات جديدة", 10: "10 بيانات جديدة", 11: "11 بيانًا جديدًا", 25: "25 بيانًا جديدًا"} {
		items := make([]*ReleasePart, n)
		for i := range items {
			if items[i], err = tpl.DigestItem("ar", r); err != nil {
				t.Fatal(err)
			}
		}
		d, err := tpl.Digest(DigestView{Lang: "ar", Cadence: "weekly", Since: time.Unix(0, 0), Items: items, UnsubscribeURL: "https://p.example/u"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Subject != "Press Office: "+want || !strings.Contains(d.HTML, "موجزك الأسبوعي: "+want) {
			t.Errorf("%d releases: subject %q", n, d.Subject)
		}
	}
}

func TestDir(t *testing.T) {
	for lang, want := range map[string]string{"ar": "rtl", "ar-EG": "rtl", "fa": "rtl", "en": "ltr", "": "ltr", "fr": "ltr"} {
		if got := Dir(lang); got != want {
			t.Errorf("Dir(%q) = %q", lang, got)
		}
	}
}
