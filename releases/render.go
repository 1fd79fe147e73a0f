package releases

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	xhtml "golang.org/x/net/html"
)

// renderer turns release bodies into sanitized HTML. It is safe for
// concurrent use.
type renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

func newRenderer() *renderer {
	// Raw HTML inside Markdown is let through goldmark and then sanitized like
	// an HTML body, so that <sup> or a table works and <script> never does.
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.Typographer),
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.RequireNoFollowOnFullyQualifiedLinks(false)
	p.AllowURLSchemes("http", "https", "mailto", "tel")
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).OnElements("p", "span", "div", "table", "td", "th")
	return &renderer{md: md, policy: p}
}

// HTML renders a body of the given format ("markdown" or "html") to
// sanitized HTML: no script, style, event handlers or javascript: URLs.
func (r *renderer) HTML(body, format string) (string, error) {
	src := body
	if format == FormatMarkdown {
		var buf bytes.Buffer
		if err := r.md.Convert([]byte(body), &buf); err != nil {
			return "", fmt.Errorf("releases: render markdown: %w", err)
		}
		src = buf.String()
	}
	return strings.TrimSpace(r.policy.Sanitize(src)), nil
}

// FirstParagraph returns the text of the first non-empty paragraph of
// sanitized HTML (or, when it has no <p>, of the whole), whitespace
// collapsed; used to derive a summary.
func FirstParagraph(h string) string {
	z := xhtml.NewTokenizer(strings.NewReader(h))
	var para, all strings.Builder
	inP := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return OneLine(all.String())
		case xhtml.TextToken:
			if inP > 0 {
				para.Write(z.Text())
			}
			all.Write(z.Text())
			all.WriteByte(' ')
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p":
				inP++
			case "br":
				para.WriteByte(' ')
			}
		case xhtml.EndTagToken:
			if name, _ := z.TagName(); string(name) == "p" && inP > 0 {
				inP--
				if text := OneLine(para.String()); inP == 0 && text != "" {
					return text
				}
			}
		}
	}
}
