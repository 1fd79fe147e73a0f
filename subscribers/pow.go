package subscribers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Proof of work against signup bots (SPEC 11), in the format of ALTCHA
// (altcha.org), written on crypto/sha256 and crypto/hmac:
//
//   - GET /subscribe/challenge gives {"algorithm":"SHA-256","challenge",
//     "maxnumber","salt","signature"}, where salt is random hex followed by
//     "?expires=<unix seconds>", challenge = hex SHA-256(salt + number) for
//     a secret random number from 0 to maxnumber, and signature = hex
//     HMAC-SHA256(key, challenge).
//   - The browser finds number by trying 0, 1, 2, ... and posts, in the
//     field altcha, base64 of the JSON {"algorithm","challenge","number",
//     "salt","signature"}.
//   - herald checks the expiry, the hash and the signature, then takes the
//     challenge once: it is remembered in the database until it expires, so
//     that no instance accepts it again.

// Proof-of-work parameters: with MaxNumber 20,000 a solver tries 10,000
// hashes on average (the form's script does 50,000 in 0.7 s on a busy
// server core), so a phone stays well under a second.
const (
	POWAlgorithm = "SHA-256"
	POWMaxNumber = 20_000
	POWLifetime  = 10 * time.Minute
	// maxPOWPayload caps the altcha field (a solution is ~300 bytes).
	maxPOWPayload = 2048
)

// Challenge is what GET /subscribe/challenge answers.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// POWSolution is the decoded altcha field.
type POWSolution struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    int64  `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// powKey is the HMAC key of challenges, derived from the link secret so
// that a challenge signature is never a valid link token or the reverse.
func powKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("herald proof-of-work v1"))
	return m.Sum(nil)
}

func (s *Service) sign(challenge string) string {
	m := hmac.New(sha256.New, s.powKey)
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

// POWRequired reports whether POST /subscribe needs a proof of work
// (HERALD_SIGNUP_POW).
func (s *Service) POWRequired() bool { return s.pow }

// NewChallenge makes a proof-of-work challenge, valid for POWLifetime.
func (s *Service) NewChallenge() (Challenge, error) {
	var salt [12]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return Challenge{}, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(POWMaxNumber+1))
	if err != nil {
		return Challenge{}, err
	}
	saltStr := hex.EncodeToString(salt[:]) + "?expires=" + strconv.FormatInt(s.now().Add(POWLifetime).Unix(), 10)
	sum := sha256.Sum256([]byte(saltStr + n.String()))
	ch := hex.EncodeToString(sum[:])
	return Challenge{Algorithm: POWAlgorithm, Challenge: ch, MaxNumber: POWMaxNumber, Salt: saltStr, Signature: s.sign(ch)}, nil
}

// VerifyPOW checks an altcha field and takes its challenge (single use).
// Every refusal is a ValidationError on the field altcha.
func (s *Service) VerifyPOW(ctx context.Context, payload string) error {
	payload = strings.TrimSpace(payload)
	if payload == "" {
		return invalid("altcha", "is missing: the form's anti-robot check runs in your browser's JavaScript; get a challenge from GET /subscribe/challenge and solve it")
	}
	if len(payload) > maxPOWPayload {
		return invalid("altcha", "is not a proof-of-work solution")
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(payload); err != nil {
			return invalid("altcha", "is not base64 of a proof-of-work solution")
		}
	}
	var sol POWSolution
	if err := json.Unmarshal(raw, &sol); err != nil {
		return invalid("altcha", "is not a proof-of-work solution")
	}
	if sol.Algorithm != POWAlgorithm {
		return invalid("altcha", "uses algorithm %q; only %s is accepted", quoted(sol.Algorithm), POWAlgorithm)
	}
	expires, ok := saltExpiry(sol.Salt)
	if !ok {
		return invalid("altcha", "is not a challenge of this site")
	}
	now := s.now()
	if !now.Before(expires) {
		return invalid("altcha", "has expired: send the form again")
	}
	sum := sha256.Sum256([]byte(sol.Salt + strconv.FormatInt(sol.Number, 10)))
	if sol.Number < 0 || !hmac.Equal([]byte(hex.EncodeToString(sum[:])), []byte(sol.Challenge)) ||
		!hmac.Equal([]byte(s.sign(sol.Challenge)), []byte(sol.Signature)) {
		return invalid("altcha", "is not a valid solution of a challenge of this site")
	}
	fresh, err := s.db.UseChallenge(ctx, sol.Challenge, expires, now)
	if err != nil {
		return err
	}
	if !fresh {
		return invalid("altcha", "was already used: send the form again")
	}
	return nil
}

// quoted shortens a client's value for an error message.
func quoted(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// saltExpiry reads the expires parameter of a salt ("hex?expires=unix").
func saltExpiry(salt string) (time.Time, bool) {
	_, query, ok := strings.Cut(salt, "?")
	if !ok {
		return time.Time{}, false
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}
