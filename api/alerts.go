package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"herald/dispatch"
)

type alertRequest struct {
	Audience string `json:"audience"`
	DryRun   bool   `json:"dry_run"`
	TestTo   string `json:"test_to"`
}

type alertResponse struct {
	AlertID    string         `json:"alert_id"`
	Recipients int            `json:"recipients"`
	DryRun     bool           `json:"dry_run"`
	ByCadence  map[string]int `json:"by_cadence"`
	ByLanguage map[string]int `json:"by_language"`
}

// createAlert: POST /api/v1/releases/{id}/alert (SPEC 3). 202 with how many
// messages were newly queued (or would be, for a dry run).
func (a *API) createAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in alertRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := a.dispatch.Alert(r.Context(), dispatch.AlertRequest{
		ReleaseID: id, Audience: in.Audience, DryRun: in.DryRun, TestTo: in.TestTo,
	})
	if errors.Is(err, dispatch.ErrNotLive) {
		return &httpError{status: http.StatusConflict, field: "release",
			msg: "release " + strconv.FormatInt(id, 10) + " is not live (a draft, or under embargo); only live releases can be alerted"}
	}
	if err != nil {
		return err
	}
	out := alertResponse{Recipients: res.Recipients, DryRun: in.DryRun, ByCadence: res.ByCadence, ByLanguage: res.ByLanguage}
	if res.AlertID != 0 {
		out.AlertID = strconv.FormatInt(res.AlertID, 10)
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

func (a *API) getAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := a.dispatch.AlertStatus(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dispatch.NewAlertDocument(al))
	return nil
}

type digestRequest struct {
	DryRun bool `json:"dry_run"`
}

type digestResponse struct {
	RunID      string `json:"run_id"`
	Recipients int    `json:"recipients"`
	DryRun     bool   `json:"dry_run"`
}

// runDigest: POST /api/v1/digests/{cadence}/run.
func (a *API) runDigest(w http.ResponseWriter, r *http.Request) error {
	cadence := r.PathValue("cadence")
	if cadence != dispatch.CadenceDaily && cadence != dispatch.CadenceWeekly {
		return &httpError{status: http.StatusNotFound, field: "cadence", msg: `no such digest: use "daily" or "weekly"`}
	}
	var in digestRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := a.dispatch.RunDigest(r.Context(), dispatch.DigestRequest{Cadence: cadence, DryRun: in.DryRun})
	if err != nil {
		return err
	}
	out := digestResponse{Recipients: res.Recipients, DryRun: in.DryRun}
	if res.RunID != 0 {
		out.RunID = strconv.FormatInt(res.RunID, 10)
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// decodeJSON reads an optional JSON object body (an empty body keeps the
// defaults) of at most MaxBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &httpError{status: http.StatusUnprocessableEntity, field: te.Field, msg: te.Field + " has the wrong type"}
		}
		return badRequest("", "request body is not a valid JSON object")
	}
	return nil
}
