package feeds

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"herald/releases"
)

// Feed limits (SPEC 3): limit is 1-200, 50 when absent.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Filter selects the releases of a feed (SPEC 3). Every list is sorted and
// without duplicates, so that equal filters are equal values and share one
// cache entry however the query spelled them.
type Filter struct {
	Topics  []string // any of them
	Regions []string // any of them or their descendants; global releases too
	Langs   []string // any of them
	Limit   int
}

// QueryError is a feed query herald cannot answer: an unknown topic, region
// or language (Unknown: the feed does not exist, HTTP 404) or a malformed
// value such as a bad limit (HTTP 400). Msg is written for the client.
type QueryError struct {
	Param   string
	Msg     string
	Unknown bool
}

func (e *QueryError) Error() string { return e.Msg }

// ParseFilter reads a feed query string: topic, region and lang take
// comma-separated values and may be repeated; limit is 1-200. Other
// parameters are ignored. Slugs are checked against tax.
func ParseFilter(rawQuery string, tax *releases.Taxonomy) (Filter, error) {
	f := Filter{Limit: DefaultLimit}
	if rawQuery == "" {
		return f, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return f, &QueryError{Msg: "malformed query string"}
	}
	if f.Topics, err = termList(q["topic"], "topic", func(s string) bool { _, ok := tax.Topic(s); return ok }); err != nil {
		return f, err
	}
	if f.Regions, err = termList(q["region"], "region", func(s string) bool { _, ok := tax.Region(s); return ok }); err != nil {
		return f, err
	}
	if f.Langs, err = langList(q["lang"]); err != nil {
		return f, err
	}
	if vals := q["limit"]; len(vals) > 0 {
		if f.Limit, err = parseLimit(vals); err != nil {
			return f, err
		}
	}
	return f, nil
}

func termList(vals []string, param string, known func(string) bool) ([]string, error) {
	var out []string
	for _, v := range vals {
		for _, s := range releases.SplitList(v) {
			s = strings.ToLower(s)
			if !known(s) {
				return nil, &QueryError{Param: param, Unknown: true,
					Msg: fmt.Sprintf("unknown %s %q", param, releases.Clip(s, 60))}
			}
			out = append(out, s)
		}
	}
	return sortedSet(out), nil
}

func langList(vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		for _, s := range releases.SplitList(v) {
			l, err := releases.NormalizeLanguage(s)
			if err != nil {
				return nil, &QueryError{Param: "lang", Unknown: true,
					Msg: fmt.Sprintf("unknown language %q", releases.Clip(s, 60))}
			}
			out = append(out, l)
		}
	}
	return sortedSet(out), nil
}

func parseLimit(vals []string) (int, error) {
	v := strings.TrimSpace(vals[len(vals)-1])
	if v == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, &QueryError{Param: "limit",
			Msg: fmt.Sprintf("limit must be a whole number from 1 to %d, got %q", MaxLimit, releases.Clip(v, 20))}
	}
	return n, nil
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// Query is the canonical query string of f: parameters in a fixed order,
// values sorted, the default limit left out. It is "" for the unfiltered
// feed, and names the cache entry and the feed's self link.
func (f Filter) Query() string {
	var b strings.Builder
	add := func(name, value string) {
		if value == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		b.WriteByte('=')
		// Commas separate values and need no escaping in a query (RFC 3986).
		b.WriteString(strings.ReplaceAll(url.QueryEscape(value), "%2C", ","))
	}
	add("topic", strings.Join(f.Topics, ","))
	add("region", strings.Join(f.Regions, ","))
	add("lang", strings.Join(f.Langs, ","))
	if f.Limit != 0 && f.Limit != DefaultLimit {
		add("limit", strconv.Itoa(f.Limit))
	}
	return b.String()
}

// lang is the one language the filter asks for, or "".
func (f Filter) lang() string {
	if len(f.Langs) == 1 {
		return f.Langs[0]
	}
	return ""
}

// names are the human names of what the filter selects, in the filter's
// language when it asks for exactly one: "Migration", "Americas",
// "français". Empty for the unfiltered feed.
func (f Filter) names(tax *releases.Taxonomy) []string {
	lang := f.lang()
	var out []string
	for _, t := range f.Topics {
		out = append(out, tax.TopicName(t, lang))
	}
	for _, r := range f.Regions {
		out = append(out, tax.RegionName(r, lang))
	}
	for _, l := range f.Langs {
		out = append(out, LanguageName(l))
	}
	return out
}

// LanguageName is a language's name in that language ("français"), or its
// code when herald does not know it.
func LanguageName(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	if n := display.Self.Name(tag); n != "" {
		return n
	}
	return code
}

// Lists reports whether a release with these topics, regions and language
// belongs in the feed of f (SPEC 2: a feed is a subscription you poll),
// whatever its position: herald's one matching rule, plus the language.
func (f Filter) Lists(tax *releases.Taxonomy, topics, regions []string, lang string) bool {
	if len(f.Langs) > 0 && !slices.Contains(f.Langs, lang) {
		return false
	}
	return tax.Matches(releases.Prefs{Topics: f.Topics, Regions: f.Regions}, topics, regions)
}

// FormatOf names the feed format served at path ("/feed.rss", ...).
func FormatOf(path string) (Format, bool) {
	for _, f := range []Format{RSS, Atom, JSON} {
		if f.Path() == path {
			return f, true
		}
	}
	return 0, false
}
