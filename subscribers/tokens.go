package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// Purpose is what a token lets its holder do; it is signed into the token,
// so a token made for one purpose is refused for another.
type Purpose byte

// Token purposes.
const (
	PurposeConfirm     Purpose = 'c'
	PurposeUnsubscribe Purpose = 'u'
	PurposePreferences Purpose = 'p'
)

// ConfirmTTL is how long a confirmation link works (SPEC 3: 7 days).
const ConfirmTTL = 7 * 24 * time.Hour

// macSize is the length kept of the HMAC-SHA256 (128 bits).
const macSize = 16

// tokenDomain separates herald's link MACs from any other use of the key.
const tokenDomain = "herald link token v1\x00"

// Tokens makes and checks the signed tokens of links in mail (SPEC 3). A
// token is base64url(purpose | uvarint id | [uvarint expiry, confirm only] |
// HMAC-SHA256(secret, domain | those bytes)[:16]): about 30 characters, safe
// in a URL, naming its purpose and subscriber so that it cannot be turned
// to another use or another subscriber. Checking needs no database: a
// forged token fails the constant-time MAC comparison. Unsubscribe and
// preferences tokens never expire, so that links in old mail keep working;
// ids are never reused, so they keep naming the same subscriber.
type Tokens struct {
	key     []byte
	baseURL string
	now     func() time.Time
}

// NewTokens returns a token maker keyed with secret; links start with
// baseURL (HERALD_BASE_URL).
func NewTokens(secret []byte, baseURL string, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: append([]byte(nil), secret...), baseURL: strings.TrimRight(baseURL, "/"), now: now}
}

var b64 = base64.RawURLEncoding.Strict()

// Make returns a token for purpose and subscriber id. Confirmation tokens
// carry their expiry, ConfirmTTL from now.
func (t *Tokens) Make(p Purpose, id int64) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+macSize)
	buf = append(buf, byte(p))
	buf = binary.AppendUvarint(buf, uint64(id))
	if p == PurposeConfirm {
		buf = binary.AppendUvarint(buf, uint64(t.now().Add(ConfirmTTL).Unix()))
	}
	buf = append(buf, t.mac(buf)...)
	return b64.EncodeToString(buf)
}

func (t *Tokens) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(tokenDomain))
	m.Write(payload)
	return m.Sum(nil)[:macSize]
}

// maxToken bounds what is decoded at all.
const maxToken = 64

// Verify checks a token made for purpose and returns the subscriber id it
// names: ErrBadToken when it is malformed, forged or made for another
// purpose, ErrTokenExpired for a genuine confirmation token past its expiry.
func (t *Tokens) Verify(p Purpose, token string) (int64, error) {
	if len(token) == 0 || len(token) > maxToken {
		return 0, ErrBadToken
	}
	raw, err := b64.DecodeString(token)
	if err != nil || len(raw) < 2+macSize {
		return 0, ErrBadToken
	}
	payload, sig := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	if !hmac.Equal(sig, t.mac(payload)) {
		return 0, ErrBadToken
	}
	if Purpose(payload[0]) != p {
		return 0, ErrBadToken
	}
	rest := payload[1:]
	id, n := binary.Uvarint(rest)
	if n <= 0 || id == 0 || id > 1<<62 {
		return 0, ErrBadToken
	}
	rest = rest[n:]
	if p == PurposeConfirm {
		exp, n := binary.Uvarint(rest)
		if n <= 0 {
			return 0, ErrBadToken
		}
		rest = rest[n:]
		if t.now().Unix() > int64(exp) {
			return 0, ErrTokenExpired
		}
	}
	if len(rest) != 0 {
		return 0, ErrBadToken
	}
	return int64(id), nil
}

// ConfirmURL is the link of a confirmation mail: the page with the button.
func (t *Tokens) ConfirmURL(id int64) string {
	return t.baseURL + "/confirm?token=" + t.Make(PurposeConfirm, id)
}

// UnsubscribeURL is the unsubscribe link of every mail to subscriber id,
// also used in List-Unsubscribe (RFC 8058). It never expires.
func (t *Tokens) UnsubscribeURL(id int64) string {
	return t.baseURL + "/unsubscribe?token=" + t.Make(PurposeUnsubscribe, id)
}

// PreferencesURL is the preference-centre link of every mail to subscriber
// id. It never expires.
func (t *Tokens) PreferencesURL(id int64) string {
	return t.baseURL + "/preferences?token=" + t.Make(PurposePreferences, id)
}
