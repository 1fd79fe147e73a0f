package media

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lengths of the texts of a medium, in characters.
const (
	MaxAlt     = 500
	MaxCaption = 1000
	MaxCredit  = 200
	maxName    = 120
)

// cleanText checks one of alt, caption and credit: valid UTF-8, one line
// (CR, LF and tabs become spaces, as in titles), no other control
// character, at most max characters. Markup is text: pages escape it.
func cleanText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "is not valid UTF-8 text")
	}
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0 {
		return "", invalid(field, "must not contain control characters")
	}
	s = strings.Join(strings.Fields(s), " ")
	if n := utf8.RuneCountInString(s); n > max {
		return "", invalid(field, "has %d characters: at most %d", n, max)
	}
	return s, nil
}

// cleanName keeps the last element of an uploaded file's name, without
// control characters, quotes or path separators, at most maxName
// characters, ending in ext (the type's own). It is shown as a PDF's
// name and offered as its download name, never used as a path.
func cleanName(name, ext string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "")
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == '/' || r == '\\' || r == ';' {
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	stem := strings.TrimSuffix(name, path.Ext(name))
	if stem == "" || stem == "." || stem == "/" {
		stem = "file"
	}
	if r := []rune(stem); len(r) > maxName {
		stem = string(r[:maxName])
	}
	return stem + "." + ext
}

// FileSize writes a size for people: "820 KB", "3.4 MB".
func FileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1_000_000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1_000_000, 'f', 1, 64) + " MB"
}
