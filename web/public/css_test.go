package public

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"herald/templates"
)

// publicCSS are the stylesheets of the public pages.
var publicCSS = []string{"static/herald.css", "static/subscribe.css"}

// physical finds declarations tied to the left or right side of the
// screen: properties (margin-left, border-right, left:), values (float:
// left, text-align: right, clear: left).
var physical = regexp.MustCompile(`(?i)(^|[;{\s])([a-z-]*(left|right)[a-z-]*)\s*:|(float|clear|text-align|resize)\s*:\s*(left|right)`)

// fourSides finds margin, padding, inset and border-width shorthands with
// four values: their second and fourth are the right and left sides.
var fourSides = regexp.MustCompile(`(?i)(^|[;{\s])(margin|padding|inset|border-width|border-color|border-style)\s*:\s*([^;}]+)`)

// TestPublicCSS_LogicalProperties holds the public stylesheets to CSS
// logical properties (margin-inline-start, inset-inline-start,
// text-align: start...), so that Arabic pages are the mirror image of the
// others (SPEC 10).
func TestPublicCSS_LogicalProperties(t *testing.T) {
	for _, name := range publicCSS {
		b, err := fs.ReadFile(templates.Embedded(), name)
		if err != nil {
			t.Fatal(err)
		}
		css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
		for _, m := range physical.FindAllString(css, -1) {
			t.Errorf("%s: physical declaration %q; use the logical property", name, strings.TrimSpace(m))
		}
		for _, m := range fourSides.FindAllStringSubmatch(css, -1) {
			if vals := strings.Fields(m[3]); len(vals) == 4 && vals[1] != vals[3] {
				t.Errorf("%s: %s: %s sets left and right apart; use %s-inline", name, m[2], m[3], m[2])
			}
		}
	}
}

func TestPublicCSS_PatternsFindPhysicalProperties(t *testing.T) {
	for _, bad := range []string{"a { margin-left: 1px }", ".x{left:0}", "p { text-align: right; }", "i { float: left }", "b { border-right: 0 }"} {
		if !physical.MatchString(bad) {
			t.Errorf("%q not found", bad)
		}
	}
	for _, good := range []string{"a { margin-inline-start: 1px }", ".x{inset-inline-start:0}", "p { text-align: start; }", "q { border-inline-end: 0 }"} {
		if physical.MatchString(good) {
			t.Errorf("%q found", good)
		}
	}
	if m := fourSides.FindStringSubmatch("i { margin: 0 .35rem 0 0; }"); m == nil || len(strings.Fields(m[3])) != 4 {
		t.Errorf("four-value margin not found: %v", m)
	}
}
