package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"herald/media"
	"herald/releases"
	"herald/staff"
	"herald/store"
)

// errorBody is every error response (SPEC 3): {"error": "...", "field": "..."}.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field"` // "" when no single field is at fault
}

// httpError is an error with an explicit status, for request-level problems
// found by the API itself (bad query parameters, wrong content type).
type httpError struct {
	status int
	field  string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(field, msg string) error {
	return &httpError{status: http.StatusBadRequest, field: field, msg: msg}
}

// fieldError is implemented by the domain packages' validation errors.
type fieldError interface {
	error
	InvalidField() string
}

// writeError maps an error to its status and JSON body. Only messages
// written for clients reach them; anything else is logged and answered 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var fe fieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		writeJSON(w, he.status, errorBody{Error: he.msg, Field: he.field})
	case errors.As(err, &mbe):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body is larger than 1 MiB"})
	case errors.Is(err, staff.ErrForbidden):
		writeJSON(w, http.StatusForbidden, errorBody{Error: err.Error()})
	case errors.Is(err, releases.ErrMalformed):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "request body is not a valid JSON object"})
	case errors.As(err, &fe) && errors.Is(err, media.ErrTooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fe.Error(), Field: fe.InvalidField()})
	case errors.As(err, &fe) && errors.Is(err, media.ErrUnsupported):
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: fe.Error(), Field: fe.InvalidField()})
	case errors.As(err, &fe) && errors.Is(err, store.ErrConflict):
		writeJSON(w, http.StatusConflict, errorBody{Error: fe.Error(), Field: fe.InvalidField()})
	case errors.As(err, &fe):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fe.Error(), Field: fe.InvalidField()})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not found"})
	case errors.Is(err, store.ErrConflict):
		writeJSON(w, http.StatusConflict, errorBody{Error: "already exists"})
	case store.IsUnavailable(err):
		a.log.Warn("api request failed: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the database is unavailable; try again shortly"})
	default:
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error; see the server log"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) error {
	return &httpError{status: http.StatusNotFound, msg: "no such API route: " + r.Method + " " + r.URL.Path}
}
