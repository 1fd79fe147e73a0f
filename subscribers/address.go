package subscribers

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Address limits (RFC 5321 4.5.3.1: 64 octets of local part, 254 of path).
const (
	MaxAddress = 254
	MaxLocal   = 64
)

// NormalizeAddress checks an email address with net/mail and returns its
// normalized form (SPEC 2): surrounding spaces trimmed and the domain
// lower-cased; the local part keeps its case, which RFC 5321 leaves to the
// receiving server. Only a bare address is taken: no display name, no
// quoted local part, no control characters or line breaks (the address goes
// into a To: header).
func NormalizeAddress(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid("email", "is not valid UTF-8 text")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("email", "is required")
	}
	if len(s) > MaxAddress {
		return "", invalid("email", "is longer than %d characters", MaxAddress)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", invalid("email", "must be one address without spaces, such as name@example.org")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" {
		return "", invalid("email", "is not an email address such as name@example.org")
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 {
		return "", invalid("email", "is not an email address such as name@example.org")
	}
	local, domain := a.Address[:at], strings.ToLower(a.Address[at+1:])
	if len(local) > MaxLocal {
		return "", invalid("email", "has more than %d characters before the @", MaxLocal)
	}
	norm := local + "@" + domain
	// A quoted local part ("a b"@x) comes back unquoted from net/mail and
	// would not survive a mail header as is; refuse what does not round-trip.
	if !strings.EqualFold(norm, s) {
		return "", invalid("email", "is not a plain address such as name@example.org")
	}
	return norm, nil
}

// HashAddress is the suppression-list key of a normalized address: the hex
// SHA-256, so that an erased address is recognized without being kept.
func HashAddress(normalized string) string {
	sum := sha256.Sum256([]byte(normalized))
	return hex.EncodeToString(sum[:])
}
