package api

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"herald/releases"
	"herald/store"
)

func (a *API) releaseJSON(r store.Release) releases.Document {
	return releases.NewDocument(r, a.baseURL, a.now())
}

func (a *API) createRelease(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeRelease(w, r)
	if err != nil {
		return err
	}
	rel, err := a.releases.Create(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/releases/"+strconv.FormatInt(rel.ID, 10))
	writeJSON(w, http.StatusCreated, a.releaseJSON(rel))
	return nil
}

func (a *API) patchRelease(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in, err := decodeRelease(w, r)
	if err != nil {
		return err
	}
	rel, err := a.releases.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.releaseJSON(rel))
	return nil
}

func (a *API) getRelease(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rel, err := a.releases.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.releaseJSON(rel))
	return nil
}

func (a *API) deleteRelease(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.releases.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type releaseList struct {
	Items      []releases.Document `json:"items"`
	NextCursor string              `json:"next_cursor"`
}

func (a *API) listReleases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lq := releases.ListQuery{
		Topics:  releases.SplitList(q.Get("topic")),
		Regions: releases.SplitList(q.Get("region")),
		Langs:   releases.SplitList(q.Get("lang")),
		Status:  strings.TrimSpace(q.Get("status")),
	}
	var err error
	if lq.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return err
	}
	if c := q.Get("cursor"); c != "" {
		cur, err := releases.DecodeCursor(c)
		if err != nil {
			return badRequest("cursor", "cursor is malformed; pass next_cursor from a previous page")
		}
		lq.After = &cur
	}
	page, err := a.releases.List(r.Context(), lq)
	if err != nil {
		return err
	}
	out := releaseList{Items: make([]releases.Document, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, rel := range page.Items {
		out.Items = append(out.Items, a.releaseJSON(rel))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseLimit reads a list limit: 1-200, default 50.
func parseLimit(s string) (int, error) {
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, badRequest("limit", "limit must be a whole number from 1 to 200")
	}
	return n, nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &httpError{status: http.StatusNotFound, field: "id", msg: "no such id: " + releases.Clip(r.PathValue("id"), 40)}
	}
	return id, nil
}

// readBody reads a request body of at most MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

func decodeRelease(w http.ResponseWriter, r *http.Request) (releases.Input, error) {
	body, err := readBody(w, r)
	if err != nil {
		return releases.Input{}, err
	}
	return releases.DecodeInput(body)
}
