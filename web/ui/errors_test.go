package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/subscribers"
)

func TestResolve(t *testing.T) {
	for _, tt := range []struct {
		name     string
		err      error
		status   int
		code     string
		field    string
		internal bool
	}{
		{"own", NewError(http.StatusForbidden, CodeForbidden, "no"), 403, CodeForbidden, "", false},
		{"not found", fmt.Errorf("store: get release 3: %w", store.ErrNotFound), 404, CodeNotFound, "", false},
		{"too large", &http.MaxBytesError{Limit: 10}, 413, CodeTooLarge, "", false},
		{"bad token", subscribers.ErrBadToken, 400, CodeBadLink, "token", false},
		{"expired", subscribers.ErrTokenExpired, 410, CodeExpired, "token", false},
		{"gone", subscribers.ErrGone, 410, CodeGone, "token", false},
		{"unknown feed term", &feeds.QueryError{Msg: "unknown topic", Unknown: true}, 404, CodeNotFound, "", false},
		{"bad feed query", &feeds.QueryError{Msg: "bad limit"}, 400, CodeBadRequest, "", false},
		{"invalid", &releases.ValidationError{Field: "title", Msg: "is required"}, 422, CodeInvalid, "title", false},
		{"internal", errors.New("store: database is locked at /srv/herald.db"), 500, CodeInternal, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, internal := Resolve(tt.err)
			if e.Status != tt.status || e.Code != tt.code || e.Field != tt.field || internal != tt.internal {
				t.Fatalf("Resolve = %+v, %v", e, internal)
			}
			if internal && strings.Contains(e.Msg, "herald.db") {
				t.Fatalf("internal text reaches the client: %q", e.Msg)
			}
		})
	}
}

func TestResolve_WithLang(t *testing.T) {
	e, _ := Resolve(WithLang("fr", fmt.Errorf("confirm: %w", subscribers.ErrGone)))
	if e.Lang != "fr" || e.Status != http.StatusGone {
		t.Fatalf("Resolve = %+v", e)
	}
}

func TestErrors_LogsOnlyInternal(t *testing.T) {
	var logged strings.Builder
	x := NewErrors(slog.New(slog.NewTextHandler(&logged, nil)))
	h := x.Handle(JSON, func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path == "/missing" {
			return NotFound("This thing")
		}
		return errors.New("secret detail")
	})
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/missing", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "This thing was not found.") || logged.Len() != 0 {
		t.Fatalf("404: %d %s, log %q", rec.Code, rec.Body, logged.String())
	}
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret detail") || !strings.Contains(logged.String(), "secret detail") {
		t.Fatalf("500: %d %s, log %q", rec.Code, rec.Body, logged.String())
	}
}
