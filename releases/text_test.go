package releases

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Road map adopted", "Road map adopted"},
		{"crlf collapse", "Road\r\nmap\n\nadopted", "Road map adopted"},
		{"tabs", "a\t\tb", "a b"},
		{"trim", "  a  ", "a"},
		{"control removed", "a\x00b\x07c\x1bd\x7fe", "abcde"},
		{"c1 removed", "a\u0085b\u009bc", "a bc"},
		{"bidi override removed", "a\u202eb", "ab"},
		{"invalid utf8 repaired", "caf\xe9", "caf\uFFFD"},
		{"unicode kept", "Côte d’Ivoire — 北京 🙂", "Côte d’Ivoire — 北京 🙂"},
		{"line separator", "a\u2028b", "a b"},
		{"header injection", "Title\r\nBcc: x@example.org", "Title Bcc: x@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OneLine(tt.in)
			if got != tt.want {
				t.Fatalf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.ContainsAny(got, "\r\n\t") || !utf8.ValidString(got) {
				t.Fatalf("OneLine(%q) = %q is not one valid line", tt.in, got)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct {
		name, in, want string
		max            int
	}{
		{"basic", "Latin American Countries Agree on Road Map", "latin-american-countries-agree-on-road-map", 100},
		{"accents", "Haïti : des déplacés reçoivent de l'aide", "haiti-des-deplaces-recoivent-de-l-aide", 100},
		{"spanish", "Campaña contra la trata", "campana-contra-la-trata", 100},
		{"punctuation runs", "A -- B!!! (C)", "a-b-c", 100},
		{"non latin gives empty", "اليمن", "", 100},
		{"cut at word", "alpha beta gamma delta", "alpha-beta", 12},
		{"eszett", "Straße", "strasse", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Slugify(tt.in, tt.max); got != tt.want {
				t.Fatalf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("short", 10); got != "short" {
		t.Fatalf("got %q", got)
	}
	long := strings.Repeat("word ", 100)
	got := Truncate(long, 50)
	if n := utf8.RuneCountInString(got); n > 50 || !strings.HasSuffix(got, "…") {
		t.Fatalf("Truncate = %q (%d runes)", got, n)
	}
}

func TestFirstParagraph(t *testing.T) {
	h := "<h2>Heading</h2><p>First <strong>para</strong>\ngraph.</p><p>Second.</p>"
	if got := FirstParagraph(h); got != "First para graph." {
		t.Fatalf("got %q", got)
	}
	if got := FirstParagraph("<p>First <em>one</em>.</p><p>Two</p>"); got != "First one." {
		t.Fatalf("got %q", got)
	}
	if got := FirstParagraph("<ul><li>only</li><li>items</li></ul>"); got != "only items" {
		t.Fatalf("no paragraph: got %q", got)
	}
}
