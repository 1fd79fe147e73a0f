package store

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func TestSnippet(t *testing.T) {
	long := strings.Repeat("filler words here ", 20)
	for _, tc := range []struct {
		name, text string
		terms      []string
		want       string
	}{
		{"accents and case as written", "L'équipe a organisé l'ÉVACUATION de 300 personnes.", []string{"evacuation"},
			"L'équipe a organisé l'\x02ÉVACUATION\x03 de 300 personnes."},
		{"whole words only", "Evacuations and evacuation.", []string{"evacuation"}, "Evacuations and \x02evacuation\x03."},
		{"arabic with hamza", "أعلنت المنظمة عن إجلاء العائلات", []string{"إجلاء"}, "أعلنت المنظمة عن \x02إجلاء\x03 العائلات"},
		{"no term", "Nothing to see.", []string{"flood"}, ""},
		{"window with both terms, text cut on both sides", long + "the drought came " + long + "drought and floods together " + long,
			[]string{"drought", "floods"},
			"…here filler words here \x02drought\x03 and \x02floods\x03 together filler words here filler words here filler words here filler words here filler words here filler words here filler words …"},
	} {
		if got := snippet(tc.text, tc.terms); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// BenchmarkSnippet cuts the snippet of a release's text of about 1,700
// characters, as a search page does for each of its 21 results.
func BenchmarkSnippet(b *testing.B) {
	for _, c := range []struct{ name, text, term string }{
		{"fr", strings.Repeat("L'Organisation a mené l'évacuation des réfugiés vers les centres de santé de la région. ", 20), "santé"},
		{"ar", strings.Repeat("أعلنت المنظمة عن إجلاء العائلات من المناطق المتضررة بالفيضانات في الإقليم. ", 20), "إجلاء"},
		{"en", strings.Repeat("The Organization led the Evacuation of families to shelters in the region. ", 20), "evacuation"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if snippet(c.text, []string{c.term}) == "" {
					b.Fatal("no snippet")
				}
			}
		})
	}
}

// fold decomposes rune by rune; it must agree with a whole-word NFD (then
// marks dropped, lower-cased), which the first version used.
func TestFoldMatchesNFD(t *testing.T) {
	nfdFold := func(w string) string {
		var b strings.Builder
		for _, r := range norm.NFD.String(w) {
			if !unicode.Is(unicode.Mn, r) {
				b.WriteRune(unicode.ToLower(r))
			}
		}
		return b.String()
	}
	for _, w := range []string{"Évacuation", "RÉFUGIÉS", "santé", "Señora", "Ærø", "São", "Việt", "ǅemal",
		"إجلاء", "مُهاجِرون", "Ἀθῆναι", "Ωμέγα", "ﬁnance", "İstanbul", "e\u0301te\u0301", "x\u0323\u0302"} {
		var f folder
		if got, want := string(f.fold(w)), nfdFold(w); got != want {
			t.Errorf("fold(%q) = %q, NFD fold %q", w, got, want)
		}
	}
	// Hangul syllables are the one difference: NFD splits them into jamo
	// by rule, fold keeps them whole. Terms and text fold alike, so a
	// Korean word still finds itself.
	if got := snippet("서울 한국어 뉴스", []string{"한국어"}); got != "서울 \x02한국어\x03 뉴스" {
		t.Errorf("Korean snippet %q", got)
	}
}
