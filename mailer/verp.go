package mailer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"herald/store"
)

// VERP is the envelope sender of SPEC 8.2: bounces+TOKEN@domain for the
// base address bounces@domain, TOKEN naming the outbox row and signed, so
// that a bounce returned to it names the message it is about and a forged
// one is told apart. The token uses only digits, lower-case letters and
// "-": some servers lower-case local parts, and it survives that.
type VERP struct {
	local, domain string
	secret        []byte
}

// NewVERP makes the VERP of a base address such as bounces@news.example.org;
// secret is herald's link secret. It returns nil for an empty address.
func NewVERP(base string, secret []byte) *VERP {
	i := strings.LastIndexByte(base, '@')
	if i <= 0 || i == len(base)-1 {
		return nil
	}
	return &VERP{local: base[:i], domain: base[i+1:], secret: secret}
}

// tokenMAC is the signature part of a token: 64 bits of HMAC-SHA256.
func (v *VERP) tokenMAC(id int64) string {
	h := hmac.New(sha256.New, v.secret)
	h.Write([]byte("herald verp\x00"))
	h.Write([]byte(strconv.FormatInt(id, 10)))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Address is the envelope sender of outbox row id.
func (v *VERP) Address(id int64) string {
	return v.local + "+" + strconv.FormatInt(id, 36) + "-" + v.tokenMAC(id) + "@" + v.domain
}

// Parse returns the outbox row an address names, if it is one of Address's
// with a valid signature (any letter case). ok is false for any other
// address, a forged token included.
func (v *VERP) Parse(addr string) (id int64, ok bool) {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || addr[i+1:] != strings.ToLower(v.domain) {
		return 0, false
	}
	local, found := strings.CutPrefix(addr[:i], strings.ToLower(v.local)+"+")
	if !found {
		return 0, false
	}
	idPart, mac, found := strings.Cut(local, "-")
	if !found {
		return 0, false
	}
	id, err := strconv.ParseInt(idPart, 36, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 36) != idPart {
		return 0, false
	}
	if !hmac.Equal([]byte(mac), []byte(v.tokenMAC(id))) {
		return 0, false
	}
	return id, true
}

// MessageOutboxID returns the outbox row a Message-ID of herald's names
// ("<id>.<hash>.herald@domain", with or without angle brackets); ok is
// false for any other form. The caller checks it with MessageIDMatches.
func MessageOutboxID(msgID string) (int64, bool) {
	msgID = strings.Trim(strings.TrimSpace(msgID), "<>")
	local, _, found := strings.Cut(msgID, "@")
	if !found {
		return 0, false
	}
	idPart, rest, found := strings.Cut(local, ".")
	if !found || !strings.HasSuffix(rest, ".herald") {
		return 0, false
	}
	id, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// MessageID is the Message-ID herald gives outbox row m on domain.
func MessageID(m store.OutboxMessage, domain string) string { return messageID(m, domain) }

// MessageIDMatches reports whether msgID is the Message-ID herald gave row
// m (on any domain): its hash part depends on the row's idempotency key
// and creation time, which a stranger cannot know, so a forged
// Message-ID naming some row does not match it.
func MessageIDMatches(msgID string, m store.OutboxMessage) bool {
	msgID = strings.ToLower(strings.Trim(strings.TrimSpace(msgID), "<>"))
	want := messageID(m, "")
	return strings.HasPrefix(msgID, want) && len(msgID) > len(want)
}
