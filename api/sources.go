package api

import (
	"net/http"

	"herald/sources"
)

// Ingest sources (SPEC 9.1).

func (a *API) createSource(w http.ResponseWriter, r *http.Request) error {
	var in sources.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	src, err := a.sources.Create(r.Context(), in)
	if err != nil {
		return err
	}
	d := sources.NewDocument(src)
	w.Header().Set("Location", "/api/v1/sources/"+d.ID)
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.sources.List(r.Context())
	if err != nil {
		return err
	}
	items := make([]sources.Document, 0, len(ss))
	for _, s := range ss {
		items = append(items, sources.NewDocument(s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	src, err := a.sources.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sources.NewDocument(src))
	return nil
}

func (a *API) patchSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in sources.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	src, err := a.sources.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sources.NewDocument(src))
	return nil
}

func (a *API) deleteSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.sources.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) runSource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	run, err := a.sources.RunNow(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

func (a *API) listSourceRuns(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	runs, err := a.sources.Runs(r.Context(), id, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": runs})
	return nil
}
