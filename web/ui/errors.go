package ui

import (
	"errors"
	"log/slog"
	"net/http"

	"herald/feeds"
	"herald/store"
	"herald/subscribers"
)

// The error adapter of web, as api/errors.go is the API's: handlers return
// their error, Resolve alone maps it to a status and words meant for the
// client, and a Responder of the handler's part of the site (a public
// page, the console, a feed's plain text, JSON) writes the answer. Internal
// text never reaches a client: whatever Resolve does not know becomes a
// 500, logged with its cause.

// Codes of Error: stable names of what went wrong, which pages translate.
const (
	CodeBadRequest = "bad_request" // 400: an unreadable form or query
	CodeBadLink    = "bad_link"    // 400: a malformed or forged token (SPEC 3)
	CodeForbidden  = "forbidden"   // 403
	CodeNotFound   = "not_found"   // 404
	CodeExpired    = "expired"     // 410: an expired confirmation link
	CodeGone       = "gone"        // 410: a subscription that ended
	CodeTooLarge   = "too_large"   // 413
	CodeInvalid    = "invalid"     // 422: a field's value
	CodeTooMany    = "too_many"    // 429
	CodeInternal   = "internal"    // 500
)

// Error is the answer to a failed request that the client may be told
// about.
type Error struct {
	Status int
	Code   string // one of the Code constants
	Msg    string // English words for the client; never internal text
	Field  string // the form or JSON field at fault, "" for none
	Lang   string // the page's language when the handler knows it (see WithLang)
}

func (e *Error) Error() string { return e.Msg }

// NewError is an error with its status, code and words for the client.
func NewError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Msg: msg}
}

// NotFound is a 404 naming what is missing ("This release").
func NotFound(what string) error {
	return NewError(http.StatusNotFound, CodeNotFound, what+" was not found.")
}

// langError carries the language the answer is to be written in.
type langError struct {
	lang string
	err  error
}

func (e *langError) Error() string { return e.err.Error() }
func (e *langError) Unwrap() error { return e.err }

// WithLang asks for err to be answered in lang (a subscriber's language,
// which only the handler knows); "" leaves err as it is.
func WithLang(lang string, err error) error {
	if lang == "" || err == nil {
		return err
	}
	return &langError{lang: lang, err: err}
}

// fieldError is implemented by the domain packages' validation errors.
type fieldError interface {
	error
	InvalidField() string
}

// Resolve maps err to what the client is told. The second result reports
// an internal error (500), which the caller logs.
func Resolve(err error) (*Error, bool) {
	var (
		e   *Error
		mbe *http.MaxBytesError
		qe  *feeds.QueryError
		fe  fieldError
		out Error
	)
	switch {
	case errors.As(err, &e):
		out = *e
	case errors.As(err, &mbe):
		out = Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Msg: "The form is larger than 1 MiB."}
	case errors.Is(err, subscribers.ErrBadToken):
		out = Error{Status: http.StatusBadRequest, Code: CodeBadLink, Msg: "This link is not valid.", Field: "token"}
	case errors.Is(err, subscribers.ErrTokenExpired):
		out = Error{Status: http.StatusGone, Code: CodeExpired, Msg: "This link has expired.", Field: "token"}
	case errors.Is(err, subscribers.ErrGone):
		out = Error{Status: http.StatusGone, Code: CodeGone, Msg: "This link no longer applies.", Field: "token"}
	case errors.As(err, &qe) && qe.Unknown:
		out = Error{Status: http.StatusNotFound, Code: CodeNotFound, Msg: qe.Msg}
	case errors.As(err, &qe):
		out = Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Msg: qe.Msg}
	case errors.As(err, &fe):
		out = Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Msg: fe.Error(), Field: fe.InvalidField()}
	case errors.Is(err, store.ErrNotFound):
		out = Error{Status: http.StatusNotFound, Code: CodeNotFound, Msg: "This item does not exist (any more)."}
	default:
		out = Error{Status: http.StatusInternalServerError, Code: CodeInternal, Msg: "Something went wrong. The details are in the server log."}
	}
	var le *langError
	if errors.As(err, &le) && out.Lang == "" {
		out.Lang = le.lang
	}
	return &out, out.Status >= http.StatusInternalServerError
}

// HandlerFunc is a handler that returns its error to the adapter instead
// of answering it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Responder writes a resolved error in the form of its part of the site.
type Responder func(w http.ResponseWriter, r *http.Request, e *Error)

// Errors is the adapter: it turns HandlerFuncs into http.HandlerFuncs.
type Errors struct {
	log *slog.Logger
}

// NewErrors logs internal errors to log.
func NewErrors(log *slog.Logger) *Errors { return &Errors{log: log} }

// Handle adapts fn: an error it returns is answered by Fail with show.
func (x *Errors) Handle(show Responder, fn HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			x.Fail(w, r, show, err)
		}
	}
}

// Fail answers err through show, after logging it when it is internal.
func (x *Errors) Fail(w http.ResponseWriter, r *http.Request, show Responder, err error) {
	e, internal := Resolve(err)
	if internal {
		x.log.Error("request failed", "method", r.Method, "route", r.Pattern, "path", r.URL.Path, "err", err)
	}
	show(w, r, e)
}

// JSON is the Responder of JSON requests and of the console's script:
// {"error","field"}.
func JSON(w http.ResponseWriter, r *http.Request, e *Error) {
	WriteJSONError(w, e.Status, e.Msg, e.Field)
}
