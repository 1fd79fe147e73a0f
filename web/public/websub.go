package public

import (
	"errors"
	"net/http"

	"herald/releases"
	"herald/web/ui"
	"herald/websub"
)

// maxWebSubBody caps a subscription request (a few URLs and a secret).
const maxWebSubBody = 64 << 10

// websubRequest answers POST /websub (SPEC 9.2, W3C WebSub 5.1): a
// form-encoded subscribe or unsubscribe request, 202 Accepted once it is
// queued for intent verification, 400 naming the field otherwise.
func (s *Site) websubRequest(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxWebSubBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ui.NewError(http.StatusRequestEntityTooLarge, ui.CodeTooLarge, "the request is larger than 64 KiB")
		}
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "the body is not a form (application/x-www-form-urlencoded)")
	}
	req := websub.Request{Mode: r.PostForm.Get("hub.mode"), Topic: r.PostForm.Get("hub.topic"),
		Callback: r.PostForm.Get("hub.callback"), LeaseSeconds: r.PostForm.Get("hub.lease_seconds"), Secret: r.PostForm.Get("hub.secret")}
	err := s.deps.Hub.Submit(r.Context(), req)
	var ve *releases.ValidationError
	if errors.As(err, &ve) {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, ve.Error())
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte("202 accepted: the callback will be asked to confirm\n"))
	return nil
}
