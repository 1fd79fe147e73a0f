package feeds

import (
	"strings"
	"unicode/utf8"
)

// xmlText makes s safe to put in any feed: invalid UTF-8 is repaired (each
// bad byte sequence becomes U+FFFD), and every character outside XML 1.0's
// Char production (C0 controls other than tab, LF and CR; lone surrogates;
// U+FFFE and U+FFFF) is removed. encoding/xml would turn such characters into
// U+FFFD in text and not at all in CDATA, where they would break the
// document; JSON allows them but readers choke on them, so every format gets
// the same text.
func xmlText(s string) string {
	if cleanXML(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if isXMLChar(r) {
			return r
		}
		return -1
	}, s)
}

// cleanXML reports whether s is valid UTF-8 made only of XML characters, so
// that the common case allocates nothing.
func cleanXML(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

// isXMLChar is XML 1.0's Char production (section 2.2).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}
