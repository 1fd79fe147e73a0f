package api

import (
	"net/http"

	"herald/webhooks"
)

// Outgoing webhooks (SPEC 9.3).

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhooks.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	doc, err := a.webhooks.Create(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+doc.ID)
	writeJSON(w, http.StatusCreated, doc) // the only answer that shows the secret
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.webhooks.List(r.Context())
	if err != nil {
		return err
	}
	items := make([]webhooks.Document, 0, len(hs))
	for _, h := range hs {
		items = append(items, webhooks.NewDocument(h))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	h, err := a.webhooks.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhooks.NewDocument(h))
	return nil
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in webhooks.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	h, err := a.webhooks.Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhooks.NewDocument(h))
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.webhooks.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	page, err := a.webhooks.Deliveries(r.Context(), id, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
