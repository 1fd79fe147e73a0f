package ui

import (
	"fmt"
	"time"
)

// DateView is a time as shown (Text, in the page's language) and as
// machine-readable (ISO, for <time datetime>).
type DateView struct {
	ISO, Text string
}

// monthNames are the months in the languages of herald's pages.
var monthNames = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"ar": {"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
}

// FormatDate writes a publication time the way the language does, in UTC:
// "2 March 2026, 09:00 UTC", "2 mars 2026", "2 de marzo de 2026",
// "2 مارس 2026، 09:00 UTC", and ISO dates for other languages.
func FormatDate(t time.Time, lang string) DateView {
	t = t.UTC()
	v := DateView{ISO: t.Format(time.RFC3339)}
	clock := t.Format("15:04") + " UTC"
	m, ok := monthNames[lang]
	switch {
	case !ok:
		v.Text = t.Format("2006-01-02") + " " + clock
	case lang == "es":
		v.Text = fmt.Sprintf("%d de %s de %d, %s", t.Day(), m[t.Month()-1], t.Year(), clock)
	case lang == "ar":
		v.Text = fmt.Sprintf("%d %s %d، %s", t.Day(), m[t.Month()-1], t.Year(), clock)
	default:
		v.Text = fmt.Sprintf("%d %s %d, %s", t.Day(), m[t.Month()-1], t.Year(), clock)
	}
	return v
}

// ContentDir is the dir attribute of text in lang inside a page that may
// be in another language: "rtl" or "ltr".
func ContentDir(lang string) string {
	if d := TextDir(lang); d != "" {
		return d
	}
	return "ltr"
}

// TextDir is "rtl" for languages written right to left, else "".
func TextDir(lang string) string {
	switch lang {
	case "ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb":
		return "rtl"
	}
	return ""
}
