package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"herald/releases"
	"herald/staff"
	"herald/store"
)

// rule is what a route needs (SPEC 7.1): a minimum role, and optionally a
// function that raises it after looking at the request: an editor may
// change drafts, but changing a live release, or publishing, needs a
// publisher. The check runs before the handler, so a refused call changes
// nothing.
type rule struct {
	min   staff.Role
	raise func(r *http.Request, p staff.Principal) (staff.Role, error)
}

func minRole(r staff.Role) rule { return rule{min: r} }

// need is the role the request needs.
func (ru rule) need(r *http.Request, p staff.Principal) (staff.Role, error) {
	if ru.raise == nil {
		return ru.min, nil
	}
	got, err := ru.raise(r, p)
	if err != nil {
		return ru.min, err
	}
	return max(ru.min, got), nil
}

// peekBody reads the request body (at most MaxBody) and puts it back for
// the handler.
func peekBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > MaxBody {
		return nil, &http.MaxBytesError{Limit: MaxBody}
	}
	return body, nil
}

// wantsLive reports whether a release body asks for a live status. When
// the status is left out, defaultLive says what happens (a new release is
// published unless it says "draft"). A body that is not JSON is left to
// the handler, which refuses it.
func wantsLive(body []byte, defaultLive bool) bool {
	var in struct {
		Status *string `json:"status"`
	}
	if json.Unmarshal(body, &in) != nil {
		return false
	}
	if in.Status == nil {
		return defaultLive
	}
	return strings.ToLower(strings.TrimSpace(*in.Status)) != releases.StatusDraft
}

// releaseCreateRule: editors create drafts; publishing (the default when
// no status is given) or scheduling needs a publisher.
var releaseCreateRule = rule{min: staff.Editor, raise: func(r *http.Request, _ staff.Principal) (staff.Role, error) {
	body, err := peekBody(r)
	if err != nil {
		return staff.Editor, err
	}
	if wantsLive(body, true) {
		return staff.Publisher, nil
	}
	return staff.Editor, nil
}}

// releaseChangeRule: editors edit and delete drafts; a release that is
// published or scheduled, or an edit that publishes, needs a publisher.
func (a *API) releaseChangeRule() rule {
	return rule{min: staff.Editor, raise: func(r *http.Request, _ staff.Principal) (staff.Role, error) {
		id, err := pathID(r)
		if err != nil {
			return staff.Editor, nil // the handler answers 404
		}
		rel, err := a.releases.Get(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return staff.Editor, nil
		}
		if err != nil {
			return staff.Editor, err
		}
		if rel.Status != releases.StatusDraft {
			return staff.Publisher, nil
		}
		if r.Method == http.MethodPatch {
			body, err := peekBody(r)
			if err != nil {
				return staff.Editor, err
			}
			if wantsLive(body, false) {
				return staff.Publisher, nil
			}
		}
		return staff.Editor, nil
	}}
}

// alertRule: sending an alert needs a publisher; an editor may count the
// recipients (dry run) and send a test copy to their own address.
var alertRule = rule{min: staff.Editor, raise: func(r *http.Request, p staff.Principal) (staff.Role, error) {
	body, err := peekBody(r)
	if err != nil {
		return staff.Editor, err
	}
	var in alertRequest
	if json.Unmarshal(body, &in) != nil {
		return staff.Publisher, nil
	}
	to := strings.TrimSpace(in.TestTo)
	switch {
	case to != "" && p.Email != "" && strings.EqualFold(to, p.Email):
		return staff.Editor, nil
	case to == "" && in.DryRun:
		return staff.Editor, nil
	}
	return staff.Publisher, nil
}}
