package ui

import (
	"fmt"
	"maps"
)

// The words of the public pages: one catalog per language (i18n_en.go,
// i18n_fr.go, i18n_es.go, i18n_ar.go), with English as the fallback. Keys
// are stable; pages call {{t .Page.Lang "key"}}, code calls T(lang, key).
// i18n_test.go holds every language to every key, and every key to a use.

// PageLanguage is a language the public pages are written in.
type PageLanguage struct {
	Code string // BCP 47 primary subtag: "en", "ar"
	Name string // its name in its own words: "Français", "العربية"
}

// PageLanguages are the languages of the public pages (SPEC 10), English
// first: the fallback, and the Accept-Language matcher's default.
var PageLanguages = []PageLanguage{
	{"en", "English"}, {"fr", "Français"}, {"es", "Español"}, {"ar", "العربية"},
}

// messages is the catalog: language -> key -> words. Other files of this
// package add their keys with addMessages (see i18n_newsroom.go).
var messages = map[string]map[string]string{
	"en": messagesEN,
	"fr": messagesFR,
	"es": messagesES,
	"ar": messagesAR,
}

// addMessages merges more keys of one language into the catalog: the hook
// through which a file of pages keeps its words next to its feature
// (called from package-level initialization). A key defined twice is a
// programming error, found at startup.
func addMessages(lang string, m map[string]string) {
	cat, ok := messages[lang]
	if !ok {
		cat = map[string]string{}
		messages[lang] = cat
	}
	for k := range m {
		if _, dup := cat[k]; dup {
			panic(fmt.Sprintf("ui: message %q of %q is defined twice", k, lang))
		}
	}
	maps.Copy(cat, m)
}

// IsPageLang reports whether the public pages exist in lang.
func IsPageLang(lang string) bool {
	for _, l := range PageLanguages {
		if l.Code == lang {
			return true
		}
	}
	return false
}

// T translates key into lang, falling back to English, then to the key.
func T(lang, key string) string {
	if m, ok := messages[lang]; ok {
		if s, ok := m[key]; ok {
			return s
		}
	}
	if s, ok := messages["en"][key]; ok {
		return s
	}
	return key
}
