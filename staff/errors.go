package staff

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ValidationError reports an invalid field (422 from the API).
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// InvalidField names the field, for the API's error mapper.
func (e *ValidationError) InvalidField() string { return e.Field }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Sentinel errors.
var (
	// ErrForbidden means the principal's role does not allow it (403).
	ErrForbidden = errors.New("your role does not allow this")
	// ErrBadLogin means a wrong address or password, or a disabled
	// account: the caller is not told which.
	ErrBadLogin = errors.New("wrong email address or password")
	// ErrBadToken means a bearer token that is unknown, revoked, or
	// belongs to a disabled member.
	ErrBadToken = errors.New("unknown, revoked or disabled token")
	// ErrLinkInvalid, ErrLinkUsed and ErrLinkExpired are the states of a
	// set-password link that cannot be used.
	ErrLinkInvalid = errors.New("this link is not valid: copy the whole link from the mail")
	ErrLinkUsed    = errors.New("this link was used already: ask for a new one")
	ErrLinkExpired = errors.New("this link has expired (links work for 72 hours): ask for a new one")
)

// clip shortens s for an error message, keeping valid UTF-8.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		return "(invalid UTF-8)"
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
