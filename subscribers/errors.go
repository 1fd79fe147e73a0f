package subscribers

import (
	"errors"
	"fmt"

	"herald/store"
)

// Sentinel errors. ErrNotFound and ErrConflict are the store's, so errors.Is
// works across layers and the API maps them to 404 and 409.
var (
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
	// ErrBadToken means a token is malformed, forged, or made for another
	// purpose (HTTP 400).
	ErrBadToken = errors.New("subscribers: invalid link")
	// ErrTokenExpired means a confirmation token is genuine but too old
	// (HTTP 410).
	ErrTokenExpired = errors.New("subscribers: link expired")
	// ErrGone means a genuine token names a subscriber who was erased, or a
	// confirmation that no longer applies (they unsubscribed since; HTTP 410).
	ErrGone = errors.New("subscribers: subscription no longer exists")
	// ErrBadCSV means an import file cannot be read as herald's CSV at all
	// (no header with an email column); row problems are reported per row.
	ErrBadCSV = errors.New("subscribers: not a subscriber CSV")
)

// ValidationError reports an invalid field; the API answers 422 with it and
// the pages show Msg next to the field.
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

// conflictError is an ErrConflict that names the field (409 in the API).
type conflictError struct {
	field, msg string
}

func (e *conflictError) Error() string        { return e.field + ": " + e.msg }
func (e *conflictError) Unwrap() error        { return ErrConflict }
func (e *conflictError) InvalidField() string { return e.field }

func errorsIsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
