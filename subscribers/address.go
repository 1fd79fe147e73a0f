package subscribers

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"herald/store"
)

// Address limits (RFC 5321 4.5.3.1: 64 octets of local part, 254 of path,
// 63 of a domain label).
const (
	MaxAddress = 254
	MaxLocal   = 64
	maxLabel   = 63
)

const (
	msgNotAddress = "is not an email address such as name@example.org"
	msgBadDomain  = "has a domain that cannot receive mail: it needs a dot, labels of letters, digits and inner hyphens, and no IP address or localhost"
)

// NormalizeAddress checks an email address with net/mail and returns its
// normalized form (SPEC 2 and 11): surrounding spaces trimmed, the domain
// converted to ASCII (IDNA: "Bücher.de" becomes "xn--bcher-kva.de") and
// lower-cased; the local part keeps its case as first given (uniqueness
// ignores it: see AddressKey). Only a bare address is taken: no display
// name, no quoted local part, no control characters or line breaks (the
// address goes into a To: header), and a domain that could receive mail
// (not localhost, no IP literal, no single label, no label with a leading
// or trailing hyphen).
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
		return "", invalid("email", msgNotAddress)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 {
		return "", invalid("email", msgNotAddress)
	}
	local, given := a.Address[:at], a.Address[at+1:]
	if len(local) > MaxLocal {
		return "", invalid("email", "has more than %d characters before the @", MaxLocal)
	}
	// A quoted local part ("a b"@x) comes back unquoted from net/mail and
	// would not survive a mail header as is; refuse what does not round-trip.
	if local+"@"+given != s {
		return "", invalid("email", "is not a plain address such as name@example.org")
	}
	domain, ok := asciiDomain(given)
	if !ok {
		return "", invalid("email", msgBadDomain)
	}
	norm := local + "@" + domain
	if len(norm) > MaxAddress {
		return "", invalid("email", "is longer than %d characters", MaxAddress)
	}
	return norm, nil
}

// asciiDomain converts a domain to its lower-case ASCII form (IDNA UTS 46
// lookup profile) and refuses domains that no mail can reach: a single
// label (no dot), localhost, an IP address or literal, empty labels, labels
// longer than 63 octets or with a leading or trailing hyphen, characters
// other than letters, digits and hyphens, and a numeric top-level label.
func asciiDomain(d string) (string, bool) {
	if strings.HasPrefix(d, "[") {
		return "", false // [192.0.2.1] and [IPv6:...]
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil || a == "" {
		return "", false
	}
	a = strings.ToLower(strings.TrimSuffix(a, "."))
	labels := strings.Split(a, ".")
	if len(labels) < 2 || len(a) > 253 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" { // 192.0.2.1, or a TLD of digits
		return "", false
	}
	if tld == "localhost" || a == "localhost" {
		return "", false
	}
	return a, true
}

// AddressKey is the form in which two addresses are compared (SPEC 11):
// the normalized address lower-cased, local part included. Uniqueness, the
// suppression list and the mail limit all use it.
func AddressKey(normalized string) string { return store.AddressKey(normalized) }

// HashAddress is the suppression-list key of a normalized address: the hex
// SHA-256 of its AddressKey, so that an erased address is recognized in
// any capitals without being kept.
func HashAddress(normalized string) string {
	return hashHex(AddressKey(normalized))
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// suppressionHashes are the hashes under which an address may be on the
// suppression list: that of its key, and that of the form herald stored
// before addresses were compared case-insensitively (local part as given,
// domain lower-cased but not converted to ASCII), so that entries made
// then still count for the address typed the same way.
func suppressionHashes(raw, normalized string) []string {
	h := HashAddress(normalized)
	raw = strings.TrimSpace(raw)
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return []string{h}
	}
	if old := hashHex(raw[:at] + "@" + strings.ToLower(raw[at+1:])); old != h {
		return []string{h, old}
	}
	return []string{h}
}
