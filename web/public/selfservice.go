package public

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"herald/subscribers"
	"herald/web/ui"
)

// A subscriber's own data (SPEC 11): "Download my data" and "Delete me" on
// the preferences page, through the signed preferences token only.

// downloadData handles GET /preferences/data: the subscriber's record,
// consent and messages as a JSON file.
func (s *Site) downloadData(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	data, err := s.deps.Subscribers.ExportData(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="my-data-%d.json"`, data.Subscriber.ID))
	ui.WriteJSON(w, http.StatusOK, data)
	return nil
}

type deleteView struct {
	Page   ui.PageMeta
	Action string
	Email  string
	Back   string
}

// deletePage handles GET /preferences/delete: the confirming button. A GET
// erases nothing (mail scanners open links).
func (s *Site) deletePage(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposePreferences, tok)
	if err != nil {
		return err
	}
	lang := pageLang(r, sub.Language)
	v := deleteView{Page: s.page(w, r, lang, ui.T(lang, "sub_delete_title")), Action: "/preferences/delete?token=" + url.QueryEscape(tok),
		Email: sub.Email, Back: "/preferences?token=" + url.QueryEscape(tok)}
	return s.pages.Render(w, http.StatusOK, "delete.html", v)
}

// deleteMe handles POST /preferences/delete: the same erasure as staff's
// DELETE /api/v1/subscribers/{id}. Erasing twice says the same.
func (s *Site) deleteMe(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	lang := pageLang(r, "")
	err := s.deps.Subscribers.EraseByToken(r.Context(), r.URL.Query().Get("token"))
	if err != nil && !errors.Is(err, subscribers.ErrGone) {
		return err
	}
	if ui.WantsJSON(r) {
		ui.WriteJSON(w, http.StatusOK, map[string]string{"status": "erased"})
		return nil
	}
	return s.message(w, r, http.StatusOK, lang, "sub_deleted_title", "sub_deleted", []linkView{s.subscribeLink(lang)}, "")
}

// challenge handles GET /subscribe/challenge: a fresh proof-of-work
// challenge in the ALTCHA format (SPEC 11), never cached.
func (s *Site) challenge(w http.ResponseWriter, r *http.Request) error {
	c, err := s.deps.Subscribers.NewChallenge()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	ui.WriteJSON(w, http.StatusOK, c)
	return nil
}
