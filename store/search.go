package store

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Full-text search of releases (SPEC 10): one API, two implementations
// (engineQueries.search*: SQLite FTS5 with unicode61 remove_diacritics 2,
// PostgreSQL tsvector over the herald_search configuration, 'simple' behind
// unaccent; migrations 0013). The user's text never reaches either engine
// as query syntax: SearchTerms cuts it into words, and each engine gets
// only those words, quoted (FTS5) or as plain text (plainto_tsquery).

// Search limits: the text read from a query, the words kept of it, and the
// length of one word. Anything beyond is ignored, not refused.
const (
	MaxSearchInput = 500
	MaxSearchTerms = 12
	MaxTermRunes   = 64
)

// Snippet markers: a SearchHit's Snippet holds the matched words between
// SnippetStart and SnippetEnd, control characters that no stored text
// contains (release text is cleaned of them), so that a page can escape
// the snippet and then turn the markers into <mark> elements.
const (
	SnippetStart = "\x02"
	SnippetEnd   = "\x03"
)

// SearchTerms extracts the words of a search: runs of letters, digits and
// combining marks, lower-cased, at most MaxSearchTerms distinct ones of at
// most MaxTermRunes runes, read from the first MaxSearchInput bytes. Every
// other character (quotes, *, -, parentheses, operators' punctuation)
// separates words; "AND", "NEAR" are words like any other.
func SearchTerms(q string) []string {
	q, _ = TrimSearch(q)
	q = strings.ToValidUTF8(q, " ")
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	}) {
		if !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // marks alone: nothing an engine indexes
		}
		if utf8.RuneCountInString(w) > MaxTermRunes {
			w = string([]rune(w)[:MaxTermRunes])
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
		if len(out) == MaxSearchTerms {
			break
		}
	}
	return out
}

// TrimSearch cuts q to at most MaxSearchInput bytes, at a word's end (a
// word cut in half would match nothing), and reports whether it cut.
func TrimSearch(q string) (string, bool) {
	if len(q) <= MaxSearchInput {
		return q, false
	}
	n := MaxSearchInput
	for n > 0 && !utf8.RuneStart(q[n]) {
		n-- // do not cut a character in half
	}
	if r, _ := utf8.DecodeRuneInString(q[n:]); unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
		if i := strings.LastIndexFunc(q[:n], func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
		}); i > 0 {
			n = i // the last whole word ends there
		}
	}
	return q[:n], true
}

// SearchOrder orders search results.
type SearchOrder int

// The orders of SearchReleases: by relevance (the search page), or newest
// first (the archive's q filter, which pages with ReleaseFilter.After).
const (
	ByRank SearchOrder = iota
	ByDate
)

// SearchQuery is a full-text search among the releases that Filter selects.
type SearchQuery struct {
	Filter ReleaseFilter // Limit is the page size; After pages ByDate
	Terms  []string      // from SearchTerms; every one must match
	Order  SearchOrder
	Offset int  // ByRank: results skipped
	Snip   bool // fill SearchHit.Snippet
}

// SearchHit is a release found, with the part of its text that matched.
type SearchHit struct {
	Release Release
	// Snippet is plain text around the matched words, which are framed by
	// SnippetStart and SnippetEnd; "" when not asked for.
	Snippet string
}

// searchSQL is one engine's search: the FROM clause, the condition that
// matches (%s: the engine's query, from query), the relevance expression
// (higher is better) and the arguments of its ?s, if any. Snippets are cut
// in Go (snippet.go).
type searchSQL struct {
	from, match, rank string
	rankArgs          func(terms []string) []any
	// query is the operand of match and byDate (SQL with ?s) and its
	// arguments: the terms, and the filter's facets (searchFacets) when
	// it has languages or topics, so that the full-text index itself
	// drops the matches that the filter would.
	query func(terms []string, f *ReleaseFilter) (string, []any)
	// byDate, when set, is the condition (%s: the query) that replaces
	// from+match for a search newest first, on byDateFrom.
	byDate, byDateFrom string
	// window is the statement ranking the newest rankWindow matches, %s
	// the conditions and %s the relevance expression: ranking every
	// match of a word found in half of the releases cost seconds.
	window string
}

// rankWindow is how many of the newest matches a ranked search ranks.
const rankWindow = 1000

// sqliteSearch: FTS5 over the releases table (content='releases'), BM25
// with a word of the title worth ten of the body and a summary's four.
var sqliteSearch = searchSQL{
	// CROSS JOIN keeps the index outermost: SQLite would otherwise walk
	// releases by date and run the full-text query once per row. The
	// filters are read from a narrow covering index (migration 0013).
	from:  "releases_fts CROSS JOIN releases r INDEXED BY releases_search_filter ON r.id = releases_fts.rowid",
	match: "releases_fts MATCH %s",
	// The facets column weighs nothing: no user's word is looked for there.
	rank: "-bm25(releases_fts, 10.0, 4.0, 1.0, 0.0)",
	// Newest first: the matching ids form a set, and releases are walked
	// by date until a page is full (a common word fills it at once, a rare
	// one has a small set). Left to itself SQLite looks every match up in
	// releases and sorts them: 0.3 s for a word in 60,000 releases.
	byDate:     "r.id IN (SELECT rowid FROM releases_fts WHERE releases_fts MATCH %s)",
	byDateFrom: "releases r INDEXED BY releases_published",
	// FTS5 yields matches by rowid, newest last, so the window is read
	// backwards without sorting and BM25 runs for its rows only.
	window: `SELECT id FROM (SELECT r.id AS id, r.published_at AS published_at, %[2]s AS score FROM ` +
		`releases_fts CROSS JOIN releases r INDEXED BY releases_search_filter ON r.id = releases_fts.rowid ` +
		`WHERE %[1]s ORDER BY releases_fts.rowid DESC LIMIT ` + strconv.Itoa(rankWindow) + `) ORDER BY score DESC, published_at DESC, id DESC`,
	// Each word is one quoted FTS5 string, the strings ANDed and looked
	// for in the text columns only: no word can be an operator, a column
	// filter or a prefix query, nor match a facet. Each facet is a quoted
	// string in the facets column ("LANGes" is the one token langes; a
	// topic's hyphens cut it into a phrase whose first token, such as
	// topichuman, only that facet has): any of the filter's languages,
	// and any of its topics.
	query: func(terms []string, f *ReleaseFilter) (string, []any) {
		q := "{title summary search_text} : (" + strings.Join(mapStrings(terms, fts5String), " ") + ")"
		for _, group := range filterFacets(f) {
			q += " AND search_facets : (" + strings.Join(mapStrings(group, fts5String), " OR ") + ")"
		}
		return "?", []any{q}
	},
}

// fts5String quotes s as one FTS5 string (a phrase of its tokens).
func fts5String(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// mapStrings returns f of each of vals.
func mapStrings(vals []string, f func(string) string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = f(v)
	}
	return out
}

// postgresSearch: the generated search_vector under a GIN index; ts_rank
// normalized by the document's length.
var postgresSearch = searchSQL{
	from:     "releases r",
	match:    "r.search_vector @@ %s",
	rank:     "ts_rank(r.search_vector, plainto_tsquery('herald_search', ?), 1)",
	rankArgs: func(terms []string) []any { return []any{plainWords(terms)} },
	window: `SELECT id FROM (SELECT r.id, r.published_at, r.search_vector FROM releases r WHERE %[1]s ` +
		`ORDER BY r.id DESC LIMIT ` + strconv.Itoa(rankWindow) + `) r ORDER BY %[2]s DESC, r.published_at DESC, r.id DESC`,
	// The facets are lexemes of their own ("LANGes", "TOPICchildren":
	// array_to_tsvector keeps them as written, while every lexeme of a
	// text or a search is lower-cased, so no search can match one), ANDed
	// to the words as a tsquery written here: any of the languages, and
	// any of the topics.
	query: func(terms []string, f *ReleaseFilter) (string, []any) {
		words := plainWords(terms)
		groups := filterFacets(f)
		if len(groups) == 0 {
			return "plainto_tsquery('herald_search', ?)", []any{words}
		}
		ands := make([]string, len(groups))
		for i, group := range groups {
			ands[i] = "(" + strings.Join(mapStrings(group, tsqueryLexeme), " | ") + ")"
		}
		return "(plainto_tsquery('herald_search', ?) && CAST(? AS tsquery))", []any{words, strings.Join(ands, " & ")}
	},
}

// plainWords are the terms as plainto_tsquery reads them: plain words,
// ANDed, and no operator.
func plainWords(terms []string) string { return strings.Join(terms, " ") }

// tsqueryLexeme quotes s as one lexeme of a tsquery, taken as written.
func tsqueryLexeme(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// The facets of a language and of a topic: "LANGen", "TOPICchildren".
// Migration 0019's PostgreSQL file writes them the same way.
func langFacet(l string) string  { return "LANG" + l }
func topicFacet(t string) string { return "TOPIC" + t }

// searchFacets is what a release's search_facets column holds: its
// language and its topics as "LANGen TOPICchildren TOPICmigration"
// (topics sorted), which the full-text index of each engine indexes
// beside the text.
func searchFacets(language string, topics []string) string {
	facets := append([]string{langFacet(language)}, mapStrings(slices.Sorted(slices.Values(topics)), topicFacet)...)
	return strings.Join(facets, " ")
}

// filterFacets are the facets that a search's filter asks for, one group
// per condition, any facet of a group passing it: the languages, then the
// topics. Regions are not facets: a region filter takes in descendants and
// global releases, which only the SQL condition knows.
func filterFacets(f *ReleaseFilter) [][]string {
	var groups [][]string
	if len(f.Langs) > 0 {
		groups = append(groups, mapStrings(f.Langs, langFacet))
	}
	if len(f.Topics) > 0 {
		groups = append(groups, mapStrings(f.Topics, topicFacet))
	}
	return groups
}

// SearchReleases returns the releases of q.Filter that contain every term,
// ranked or newest first. No term: no result.
func (db *DB) SearchReleases(ctx context.Context, q SearchQuery) ([]SearchHit, error) {
	if len(q.Terms) == 0 {
		return nil, nil
	}
	sqlText, args, err := db.searchStatement(q)
	if err != nil {
		return nil, err
	}
	ids, err := scanIDs(db.read.QueryContext(ctx, sqlText, args...))
	if err != nil {
		return nil, fmt.Errorf("store: search releases: %w", err)
	}
	rs, err := db.ReleasesByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("store: search releases: %w", err)
	}
	hits := make([]SearchHit, len(rs))
	for i := range rs {
		hits[i].Release = rs[i]
	}
	if q.Snip {
		for i := range hits {
			r := &hits[i].Release
			if hits[i].Snippet = snippet(SearchText(r.BodyHTML), q.Terms); hits[i].Snippet == "" {
				hits[i].Snippet = snippet(r.Summary, q.Terms)
			}
		}
	}
	return hits, nil
}

// searchStatement is the SQL of a search and its arguments.
func (db *DB) searchStatement(q SearchQuery) (string, []any, error) {
	s := db.e.q.search
	where, args, err := q.Filter.where()
	if err != nil {
		return "", nil, err
	}
	// The facets narrow what the index yields; the filter's own
	// conditions still decide (a facet is a prefilter, never the rule).
	operand, queryArgs := s.query(q.Terms, &q.Filter)
	args = append(queryArgs, args...)
	// Ids only: a common word matches tens of thousands of releases, and
	// sorting them with their text would cost far more than ranking them.
	var sqlText string
	switch {
	case q.Order == ByRank:
		where = append([]string{fmt.Sprintf(s.match, operand)}, where...)
		sqlText = fmt.Sprintf(s.window, strings.Join(where, " AND "), s.rank)
		if s.rankArgs != nil {
			args = append(args, s.rankArgs(q.Terms)...)
		}
	case s.byDate != "":
		where = append([]string{fmt.Sprintf(s.byDate, operand)}, where...)
		sqlText = "SELECT r.id FROM " + s.byDateFrom + " WHERE " + strings.Join(where, " AND ") + " ORDER BY r.published_at DESC, r.id DESC"
	default:
		where = append([]string{fmt.Sprintf(s.match, operand)}, where...)
		sqlText = "SELECT r.id FROM " + s.from + " WHERE " + strings.Join(where, " AND ") + " ORDER BY r.published_at DESC, r.id DESC"
	}
	if q.Filter.Limit > 0 {
		sqlText += " LIMIT " + strconv.Itoa(q.Filter.Limit)
	}
	if q.Order == ByRank && q.Offset > 0 {
		sqlText += " OFFSET " + strconv.Itoa(q.Offset)
	}
	return sqlText, args, nil
}

// SearchText is the plain text of a release's sanitized HTML body, which
// search indexes: tags become spaces, character references are decoded,
// control characters (the snippet markers among them) removed, runs of
// space collapsed.
func SearchText(bodyHTML string) string {
	var b strings.Builder
	b.Grow(len(bodyHTML))
	for i := 0; i < len(bodyHTML); {
		c := bodyHTML[i]
		if c == '<' {
			end := strings.IndexByte(bodyHTML[i:], '>')
			if end < 0 {
				break
			}
			b.WriteByte(' ')
			i += end + 1
			continue
		}
		b.WriteByte(c)
		i++
	}
	text := html.UnescapeString(b.String())
	return strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// migrateSearchText is migration 0013's step in Go: the search text of the
// releases stored before it (the triggers or the generated column index it).
func migrateSearchText(ctx context.Context, tx *sql.Tx, e *engine) error {
	type row struct {
		id   int64
		body string
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, body_html FROM releases ORDER BY id")
	if err != nil {
		return fmt.Errorf("read releases: %w", err)
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.body); err != nil {
			rows.Close()
			return fmt.Errorf("read releases: %w", err)
		}
		todo = append(todo, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read releases: %w", err)
	}
	for _, r := range todo {
		if _, err := tx.ExecContext(ctx, e.bind("UPDATE releases SET search_text = ? WHERE id = ?"), SearchText(r.body), r.id); err != nil {
			return fmt.Errorf("search text of release %d: %w", r.id, err)
		}
	}
	return nil
}

// migrateSearchFacets is migration 0019's step in Go: the facets of the
// releases stored before it that the SQL file left without (all of them on
// SQLite, none on PostgreSQL), one row at a time, so that no statement
// keeps a journal of the whole table.
func migrateSearchFacets(ctx context.Context, tx *sql.Tx, e *engine) error {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.language, t.topic FROM releases r
		LEFT JOIN release_topics t ON t.release_id = r.id WHERE r.search_facets = '' ORDER BY r.id`)
	if err != nil {
		return fmt.Errorf("read releases: %w", err)
	}
	type release struct {
		id       int64
		language string
		topics   []string
	}
	var todo []release
	for rows.Next() {
		var id int64
		var language string
		var topic sql.NullString
		if err := rows.Scan(&id, &language, &topic); err != nil {
			rows.Close()
			return fmt.Errorf("read releases: %w", err)
		}
		if len(todo) == 0 || todo[len(todo)-1].id != id {
			todo = append(todo, release{id: id, language: language})
		}
		if topic.Valid {
			last := &todo[len(todo)-1]
			last.topics = append(last.topics, topic.String)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read releases: %w", err)
	}
	update := e.bind("UPDATE releases SET search_facets = ? WHERE id = ?")
	for _, r := range todo {
		if _, err := tx.ExecContext(ctx, update, searchFacets(r.language, r.topics), r.id); err != nil {
			return fmt.Errorf("search facets of release %d: %w", r.id, err)
		}
	}
	return nil
}
