package store

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// snippetWords is how many words a snippet shows.
const snippetWords = 28

// snippet returns the part of text (a release's body as plain text) of at
// most snippetWords words that holds the most distinct terms, each match
// framed by SnippetStart and SnippetEnd as written in text, with "…" where
// text goes on. Words are compared as the engines index them: lower-cased
// and without accents or other combining marks (FTS5's remove_diacritics,
// PostgreSQL's unaccent), whole words only. "" when no term is in text.
//
// Both engines' own snippet functions (FTS5 snippet, ts_headline) read
// each row's text again inside the database: a third of a ranked search's
// time at 100,000 releases. The text is already here.
func snippet(text string, terms []string) string {
	want := make(map[string]int, len(terms))
	for i, t := range terms {
		want[foldWord(t)] = i
	}
	var f folder
	type word struct {
		start, end int
		term       int // index in terms, -1: no term
	}
	var words []word
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i + n
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if !isWordRune(r) {
				break
			}
			j += n
		}
		t, ok := want[string(f.fold(text[i:j]))] // no copy: a map lookup by bytes
		if !ok {
			t = -1
		}
		words = append(words, word{i, j, t})
		i = j
	}
	// The window of snippetWords words with the most distinct terms (the
	// first such), found by sliding it over the words once.
	best, bestN := -1, 0
	seen := make([]int, len(terms))
	distinct := 0
	for i := range words {
		if t := words[i].term; t >= 0 {
			if seen[t]++; seen[t] == 1 {
				distinct++
			}
		}
		if k := i - snippetWords; k >= 0 {
			if t := words[k].term; t >= 0 {
				if seen[t]--; seen[t] == 0 {
					distinct--
				}
			}
		}
		if distinct > bestN {
			best, bestN = max(0, i-snippetWords+1), distinct
		}
	}
	if best < 0 {
		return ""
	}
	// Start a few words before the first match in the window, when there
	// is more text after it to show instead.
	first := best
	for first < len(words) && words[first].term < 0 {
		first++
	}
	const lead = 4
	best = max(best, min(first-lead, len(words)-snippetWords))
	last := min(len(words), best+snippetWords)
	var b strings.Builder
	if best > 0 {
		b.WriteString("…")
	}
	at := words[best].start
	for _, w := range words[best:last] {
		b.WriteString(text[at:w.start])
		if w.term >= 0 {
			b.WriteString(SnippetStart + text[w.start:w.end] + SnippetEnd)
		} else {
			b.WriteString(text[w.start:w.end])
		}
		at = w.end
	}
	if last < len(words) {
		b.WriteString(" …")
	} else {
		b.WriteString(strings.TrimRightFunc(text[at:], unicode.IsSpace))
	}
	return b.String()
}

// isWordRune is what SearchTerms keeps of a word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// foldWord lower-cases w and drops its combining marks (é is e, the
// harakat of Arabic go), as both engines do before comparing words.
func foldWord(w string) string {
	var f folder
	return string(f.fold(w))
}

// folder folds words into a buffer it reuses: a snippet folds every word
// of a release's text, and a new string for each was most of its time.
type folder struct{ out []byte }

// fold returns w folded as foldWord does, valid until the next call. Each
// rune is replaced by its canonical decomposition (NFD's, one rune at a
// time: the order of the marks does not matter, they are all dropped).
func (f *folder) fold(w string) []byte {
	f.out = f.out[:0]
	for i := 0; i < len(w); {
		if c := w[i]; c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			f.out = append(f.out, c)
			i++
			continue
		}
		p := norm.NFD.PropertiesString(w[i:])
		d := p.Decomposition()
		if d == nil {
			r, n := utf8.DecodeRuneInString(w[i:])
			f.keep(r)
			i += n
			continue
		}
		for j := 0; j < len(d); {
			r, n := utf8.DecodeRune(d[j:])
			f.keep(r)
			j += n
		}
		i += max(p.Size(), 1)
	}
	return f.out
}

// keep appends r lower-cased, unless it is a combining mark.
func (f *folder) keep(r rune) {
	if !unicode.Is(unicode.Mn, r) {
		f.out = utf8.AppendRune(f.out, unicode.ToLower(r))
	}
}
