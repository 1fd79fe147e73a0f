package mailer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// textWidth is the width plain-text parts are wrapped to. Words longer than
// it (links) are never broken, so that they stay clickable.
const textWidth = 72

// HTMLToText turns sanitized release HTML into readable plain text for the
// text/plain part: paragraphs wrapped, list items with "- ", quotes with "> ",
// table cells separated by " | ", and every link written out after its text
// as "text <https://...>". Dispatch calls it once per release and language
// (see Templates.Release), never per recipient.
func HTMLToText(s string) string {
	c := &textConv{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			c.flush()
			return strings.TrimSpace(strings.Join(c.blocks, "\n\n")) + "\n"
		case html.TextToken:
			c.text(string(z.Text()))
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			var attrs map[string]string
			if tt == html.SelfClosingTagToken || string(name) == "a" || string(name) == "img" {
				attrs = readAttrs(z)
			}
			c.start(string(name), attrs)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.end(string(name))
		}
	}
}

func readAttrs(z *html.Tokenizer) map[string]string {
	m := map[string]string{}
	for {
		k, v, more := z.TagAttr()
		m[string(k)] = string(v)
		if !more {
			return m
		}
	}
}

type textConv struct {
	blocks  []string
	cur     strings.Builder
	prefix  []string // "> " per open blockquote
	lists   []int    // per open list: 0 for ul, next number for ol
	item    string   // marker of the current list item
	pre     int
	href    []string
	linkBuf []int // cur.Len() when each <a> opened
	row     []string
	rows    []string
	inCell  bool
	skip    int // inside script/style (never present after sanitizing; be safe)
}

func (c *textConv) text(s string) {
	if c.skip > 0 {
		return
	}
	if c.pre > 0 {
		c.cur.WriteString(s)
		return
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if s != "" && c.cur.Len() > 0 {
			c.space()
		}
		return
	}
	if s[0] == ' ' || s[0] == '\n' || s[0] == '\t' {
		c.space()
	}
	c.cur.WriteString(strings.Join(fields, " "))
	last := s[len(s)-1]
	if last == ' ' || last == '\n' || last == '\t' {
		c.space()
	}
}

func (c *textConv) space() {
	str := c.cur.String()
	if len(str) > 0 && str[len(str)-1] != ' ' && str[len(str)-1] != '\n' {
		c.cur.WriteByte(' ')
	}
}

func (c *textConv) start(tag string, attrs map[string]string) {
	switch tag {
	case "script", "style", "head", "title":
		c.skip++
	case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "figure", "section", "article", "dl", "dt", "dd":
		c.flush()
	case "br":
		c.cur.WriteString("\n")
	case "hr":
		c.flush()
		c.blocks = append(c.blocks, strings.Repeat("-", 20))
	case "blockquote":
		c.flush()
		c.prefix = append(c.prefix, "> ")
	case "ul":
		c.flush()
		c.lists = append(c.lists, 0)
	case "ol":
		c.flush()
		c.lists = append(c.lists, 1)
	case "li":
		c.flush()
		c.item = "- "
		if n := len(c.lists); n > 0 && c.lists[n-1] > 0 {
			c.item = itoa(c.lists[n-1]) + ". "
			c.lists[n-1]++
		}
	case "pre":
		c.flush()
		c.pre++
	case "tr":
		c.row = c.row[:0]
	case "td", "th":
		c.cur.Reset()
		c.inCell = true
	case "a":
		c.href = append(c.href, attrs["href"])
		c.linkBuf = append(c.linkBuf, c.cur.Len())
	case "img":
		if alt := strings.TrimSpace(attrs["alt"]); alt != "" {
			c.text(" [" + alt + "] ")
		}
	}
}

func (c *textConv) end(tag string) {
	switch tag {
	case "script", "style", "head", "title":
		if c.skip > 0 {
			c.skip--
		}
	case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figure", "section", "article", "dt", "dd":
		c.flush()
	case "blockquote":
		c.flush()
		if len(c.prefix) > 0 {
			c.prefix = c.prefix[:len(c.prefix)-1]
		}
	case "ul", "ol":
		c.flush()
		if len(c.lists) > 0 {
			c.lists = c.lists[:len(c.lists)-1]
		}
	case "pre":
		c.flush()
		if c.pre > 0 {
			c.pre--
		}
	case "td", "th":
		c.row = append(c.row, strings.TrimSpace(c.cur.String()))
		c.cur.Reset()
		c.inCell = false
	case "tr":
		if len(c.row) > 0 {
			c.rows = append(c.rows, strings.Join(c.row, " | "))
		}
		c.row = c.row[:0]
	case "table":
		c.cur.Reset()
		if len(c.rows) > 0 {
			c.blocks = append(c.blocks, prefixLines(strings.Join(c.rows, "\n"), strings.Join(c.prefix, "")))
		}
		c.rows = c.rows[:0]
	case "a":
		n := len(c.href)
		if n == 0 {
			return
		}
		href, at := c.href[n-1], c.linkBuf[n-1]
		c.href, c.linkBuf = c.href[:n-1], c.linkBuf[:n-1]
		label := strings.TrimSpace(c.cur.String()[min(at, c.cur.Len()):])
		if href == "" || strings.HasPrefix(href, "#") || href == label || "mailto:"+label == href {
			return
		}
		c.cur.WriteString(" <" + href + ">")
	}
}

// flush ends the current block, wrapping it with the list marker and quote
// prefixes.
func (c *textConv) flush() {
	s := c.cur.String()
	c.cur.Reset()
	if c.inCell {
		return
	}
	if c.pre == 0 {
		s = strings.TrimSpace(s)
	} else {
		s = strings.Trim(s, "\n")
	}
	if s == "" {
		return
	}
	prefix := strings.Join(c.prefix, "")
	var out string
	switch {
	case c.pre > 0:
		out = prefixLines(s, prefix)
	case c.item != "":
		out = Wrap(s, textWidth, prefix+c.item, prefix+strings.Repeat(" ", utf8.RuneCountInString(c.item)))
		c.item = ""
	default:
		out = Wrap(s, textWidth, prefix, prefix)
	}
	// List items follow each other without a blank line between them.
	if len(c.lists) > 0 && len(c.blocks) > 0 && isItem(out, prefix) && isItem(c.blocks[len(c.blocks)-1], prefix) {
		c.blocks[len(c.blocks)-1] += "\n" + out
		return
	}
	c.blocks = append(c.blocks, out)
}

func isItem(s, prefix string) bool {
	s = strings.TrimPrefix(s, prefix)
	if strings.HasPrefix(s, "- ") {
		return true
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && strings.HasPrefix(s[i:], ". ")
}

func prefixLines(s, prefix string) string {
	if prefix == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

// Wrap wraps s to width runes per line, keeping its hard line breaks; the
// first line starts with first and the next ones with rest. A word longer
// than the width (a URL) gets a line of its own and is never cut.
func Wrap(s string, width int, first, rest string) string {
	var b strings.Builder
	for li, line := range strings.Split(s, "\n") {
		if li > 0 {
			b.WriteByte('\n')
		}
		prefix := first
		if li > 0 {
			prefix = rest
		}
		b.WriteString(prefix)
		col := utf8.RuneCountInString(prefix)
		start := col
		for _, w := range strings.Fields(line) {
			n := utf8.RuneCountInString(w)
			if col > start && col+1+n > width {
				b.WriteByte('\n')
				b.WriteString(rest)
				col = utf8.RuneCountInString(rest)
				start = col
			} else if col > start {
				b.WriteByte(' ')
				col++
			}
			b.WriteString(w)
			col += n
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// foldLines breaks lines longer than limit bytes at a space, so that a body
// can travel as 8bit (RFC 5322 allows at most 998 octets per line). It
// reports false when a line could not be folded (one enormous word): the
// message then goes quoted-printable.
func foldLines(s string, limit int) (string, bool) {
	if !hasLongLine(s, limit) {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/limit)
	ok := true
	for len(s) > 0 {
		nl := strings.IndexByte(s, '\n')
		line := s
		if nl >= 0 {
			line = s[:nl+1]
		}
		s = s[len(line):]
		for len(line) > limit {
			cut := strings.LastIndexByte(line[:limit], ' ')
			if cut <= 0 {
				ok = false
				break
			}
			b.WriteString(line[:cut])
			b.WriteByte('\n')
			line = line[cut+1:]
		}
		b.WriteString(line)
	}
	return b.String(), ok
}

func hasLongLine(s string, limit int) bool {
	for len(s) > limit {
		nl := strings.IndexByte(s, '\n')
		if nl < 0 || nl > limit {
			return true
		}
		s = s[nl+1:]
	}
	return false
}
