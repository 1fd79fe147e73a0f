package store

import (
	"strings"
	"testing"
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
