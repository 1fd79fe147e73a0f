package ui

import (
	"net/http"
	"net/url"

	"golang.org/x/text/language"
)

// Choosing the language of a public page (SPEC 10): ?lang= (the language
// switcher's links), then the cookie the switcher left, then the browser's
// Accept-Language, then English. Two kinds of page know a language of
// their own: the pages of a mail link know the subscriber's, which wins
// over Accept-Language (RequestLang); a release page knows the release's,
// used only when the browser states no language herald has (VisitorLang).

// LangCookie remembers the language a visitor picked with the switcher.
const LangCookie = "herald_lang"

// langCookieAge is how long the choice is remembered: a year.
const langCookieAge = 365 * 24 * 60 * 60

// langMatcher matches Accept-Language against PageLanguages.
var langMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(PageLanguages))
	for i, l := range PageLanguages {
		tags[i] = language.Make(l.Code)
	}
	return language.NewMatcher(tags)
}()

// chosenLang is the language of ?lang= or of the switcher's cookie, or "".
func chosenLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); IsPageLang(l) {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && IsPageLang(c.Value) {
		return c.Value
	}
	return ""
}

// RequestLang picks the language of a page for r; known is a language the
// visitor chose before (a subscriber's), "" for none.
func RequestLang(r *http.Request, known string) string {
	if l := chosenLang(r); l != "" {
		return l
	}
	if IsPageLang(known) {
		return known
	}
	if l, ok := AcceptLang(r.Header.Get("Accept-Language")); ok {
		return l
	}
	return PageLanguages[0].Code
}

// VisitorLang picks the language of a page for r; fallback (the language
// of what the page shows) serves a browser that asks for none of the page
// languages, before English.
func VisitorLang(r *http.Request, fallback string) string {
	if l := chosenLang(r); l != "" {
		return l
	}
	if l, ok := AcceptLang(r.Header.Get("Accept-Language")); ok {
		return l
	}
	if IsPageLang(fallback) {
		return fallback
	}
	return PageLanguages[0].Code
}

// AcceptLang is the page language that best serves an Accept-Language
// header, as x/text's Matcher weighs q-values, regions and scripts; false
// when the header names none of them (or nothing).
func AcceptLang(header string) (string, bool) {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return "", false
	}
	return PageLanguages[i].Code, true
}

// RememberLang keeps a language chosen with ?lang= in a cookie, so that
// the visitor's next pages are in it too; other requests are untouched.
// Pages answered with it vary by cookie and Accept-Language (see
// VaryLang).
func RememberLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("lang")
	if !IsPageLang(l) {
		return
	}
	if c, err := r.Cookie(LangCookie); err == nil && c.Value == l {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: langCookieAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// VaryLang tells caches that the page depends on the language choice.
func VaryLang(w http.ResponseWriter) {
	w.Header().Add("Vary", "Accept-Language, Cookie")
}

// LangLink is one entry of the language switcher.
type LangLink struct {
	Code, Name, Href string
	Current          bool
}

// LangLinks are the switcher's links: the same page (path and query, a
// token included) with ?lang= set to each language.
func LangLinks(page *url.URL, current string) []LangLink {
	q := page.Query()
	out := make([]LangLink, 0, len(PageLanguages))
	for _, l := range PageLanguages {
		q.Set("lang", l.Code)
		u := url.URL{Path: page.Path, RawQuery: q.Encode()}
		out = append(out, LangLink{Code: l.Code, Name: l.Name, Href: u.String(), Current: l.Code == current})
	}
	return out
}
