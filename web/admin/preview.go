package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"herald/releases"
	"herald/store"
	"herald/web/ui"
)

// Previews of an unsaved release: the public page and the alert mail, made
// by the same code that serves the page and composes the mail. They are
// kept in memory for a while under a random id bound to the session, and
// shown in frames (the mail's HTML needs its inline styles, which the
// console's own CSP forbids).

// previewCSP is the policy of a framed preview: inline styles allowed
// (HTML mail), no script at all, framed only by the console itself.
const previewCSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; " +
	"frame-ancestors 'self'; form-action 'none'; base-uri 'none'"

// previewTTL is how long a preview can be shown.
const previewTTL = 30 * time.Minute

// newPreviewID is a random, unguessable preview id.
func newPreviewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// makePreview renders the release that in would make and stores the page
// and the mail.
func (a *Console) makePreview(ctx context.Context, sess *session, id int64, in releases.Input) (*previewLinks, error) {
	rel, err := a.deps.Releases.Preview(ctx, id, in)
	if err != nil {
		return nil, err
	}
	page, err := a.deps.Pages.ReleasePage(ctx, &rel)
	if err != nil {
		return nil, err
	}
	content, err := a.deps.Mail.Preview(ctx, rel)
	if err != nil {
		return nil, err
	}
	// Kept in the database: the frames may be served by another instance.
	pid, now := newPreviewID(), a.now()
	err = a.deps.DB.PutPreview(ctx, store.Preview{ID: pid, Session: sess.ID, Page: page, Mail: []byte(content.HTML), CreatedAt: now},
		now.Add(-previewTTL))
	if err != nil {
		return nil, err
	}
	base := "/admin/preview/" + pid
	return &previewLinks{Page: base + "/page", Mail: base + "/mail", Subject: content.Subject, Text: content.Text}, nil
}

// previewJSON is the answer of POST /admin/preview.
type previewJSON struct {
	Page    string            `json:"page,omitempty"`
	Mail    string            `json:"mail,omitempty"`
	Subject string            `json:"subject,omitempty"`
	Text    string            `json:"text,omitempty"`
	Errors  []previewFieldErr `json:"errors,omitempty"`
}

type previewFieldErr struct {
	Field string `json:"field"`
	Error string `json:"error"`
}

// preview: POST /admin/preview, the editor's script asking for a preview
// of the form as it is (id names the release being edited, 0 for new).
func (a *Console) preview(w http.ResponseWriter, r *http.Request, sess *session) error {
	id, _ := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	f := readFields(r)
	in, err := f.input(id == 0)
	var links *previewLinks
	if err == nil {
		links, err = a.makePreview(r.Context(), sess, id, in)
	}
	if errors.Is(err, releases.ErrNotFound) {
		return ui.NotFound("This release")
	}
	if err != nil {
		rf := releaseForm{Errors: map[string]string{}}
		if !rf.setError(err) {
			return err
		}
		out := previewJSON{}
		for _, e := range rf.ErrorList {
			out.Errors = append(out.Errors, previewFieldErr{Field: e.Field, Error: e.Label + ": " + e.Msg})
		}
		ui.WriteJSON(w, http.StatusUnprocessableEntity, out)
		return nil
	}
	ui.WriteJSON(w, http.StatusOK, previewJSON{Page: links.Page, Mail: links.Mail, Subject: links.Subject, Text: links.Text})
	return nil
}

// previewPage answers the editor's Preview button without script: the
// editor again, with the preview below it (nothing is saved).
func (a *Console) previewPage(w http.ResponseWriter, r *http.Request, sess *session, id int64, f editorFields, in releases.Input) error {
	rf, err := a.form(r, id, f)
	if err != nil {
		return err
	}
	v := editorView{Page: a.page(sess, "Preview", "releases"), Form: rf}
	status := http.StatusOK
	links, err := a.makePreview(r.Context(), sess, id, in)
	if err != nil {
		if !v.Form.setError(err) {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	v.Preview = links
	w.Header().Set("Content-Security-Policy", adminFrameCSP)
	return a.pages.Render(w, status, "release.html", v)
}

// previewPart: GET /admin/preview/{id}/{page|mail}, a framed preview.
func (a *Console) previewPart(w http.ResponseWriter, r *http.Request, sess *session) error {
	pv, err := a.deps.DB.GetPreview(r.Context(), r.PathValue("id"), sess.ID, a.now().Add(-previewTTL))
	if errors.Is(err, store.ErrNotFound) {
		return ui.NotFound("This preview")
	}
	if err != nil {
		return err
	}
	var body []byte
	switch r.PathValue("part") {
	case "page":
		body = pv.Page
	case "mail":
		body = pv.Mail
	default:
		return ui.NotFound("This preview")
	}
	h := w.Header()
	h.Set("Content-Security-Policy", previewCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(body)
	return nil
}
