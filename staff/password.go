package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules (SPEC 7.2): at least MinPassword characters.
const (
	MinPassword = 12
	MaxPassword = 256
)

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), cheap
// enough for a login per request burst on a small server.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// CheckPassword enforces the password rules.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return invalid("password", "the password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPassword:
		return invalid("password", "the password is too short: use at least %d characters", MinPassword)
	case len(pw) > MaxPassword:
		return invalid("password", "the password is too long: at most %d bytes", MaxPassword)
	case oneRune(pw):
		return invalid("password", "the password is one character repeated: choose a real password")
	}
	return nil
}

// HashPassword hashes pw with argon2id into the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$key).
func HashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// dummyHash is verified against when there is no account, so that an
// unknown address takes as long as a wrong password.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2B3bZ7p1xH0m9YyR9c5m8lq0b2b9b4n7cQe8zGq2t1E"

// VerifyPassword reports whether pw matches hash (an empty hash, an
// account without a password yet, never matches).
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// oneRune reports whether s is one character repeated ("aaaaaaaaaaaa").
func oneRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(first)) == ""
}
