package admin

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"herald/media"
	"herald/releases"
	"herald/staff"
	"herald/store"
	"herald/web/ui"
)

// maxMediaForm caps a posted upload form: the largest file (a PDF) and
// the other fields.
const maxMediaForm = media.MaxPDFBytes + 1<<20

// mediaRow is a medium in the editor's list.
type mediaRow struct {
	ID                  int64
	Kind, Name, Type    string
	Thumb               string // display copy, for an image
	Href                string // the file as uploaded
	Alt, Caption        string
	Credit, Size        string
	Width, Height       int
	Lead, First, Last   bool
	MoveAction, Removal string
}

// mediaRows are a release's media for the editor.
func mediaRows(r *store.Release) []mediaRow {
	lead := releases.LeadImage(r)
	out := make([]mediaRow, 0, len(r.Media))
	base := "/admin/releases/" + strconv.FormatInt(r.ID, 10) + "/media/"
	for i, m := range r.Media {
		row := mediaRow{ID: m.ID, Kind: m.Kind, Name: m.Name, Type: m.Type, Href: releases.MediaPath(m.Key), Alt: m.Alt,
			Caption: m.Caption, Credit: m.Credit, Size: media.FileSize(m.Bytes), Width: m.Width, Height: m.Height,
			Lead: lead != nil && lead.ID == m.ID, First: i == 0, Last: i == len(r.Media)-1,
			MoveAction: base + strconv.FormatInt(m.ID, 10) + "/move", Removal: base + strconv.FormatInt(m.ID, 10) + "/delete"}
		if m.Kind == releases.MediaImage {
			row.Thumb = releases.MediaPath(m.DisplayKey)
		}
		out = append(out, row)
	}
	return out
}

// mediaRule: media change what a release shows, so they need what saving
// it does: an editor for a draft, a publisher for any other release.
func (a *Console) mediaRule(r *http.Request, _ *session) (staff.Role, error) {
	id, err := releaseID(r)
	if err != nil {
		return staff.Editor, nil // the handler answers 404
	}
	rel, err := a.deps.Releases.Get(r.Context(), id)
	if err != nil || rel.Status == releases.StatusDraft {
		return staff.Editor, nil
	}
	return staff.Publisher, nil
}

// uploadMedia: POST /admin/releases/{id}/media, the editor's upload form
// (multipart, works without script). A refused file shows the editor again
// with the reason; nothing is stored.
func (a *Console) uploadMedia(w http.ResponseWriter, r *http.Request, sess *session) error {
	id, err := releaseID(r)
	if err != nil {
		return err
	}
	up := media.Upload{Alt: r.PostForm.Get("alt"), Caption: r.PostForm.Get("caption"), Credit: r.PostForm.Get("credit")}
	if r.MultipartForm != nil && len(r.MultipartForm.File["file"]) > 0 {
		fh := r.MultipartForm.File["file"][0]
		f, err := fh.Open()
		if err != nil {
			return err
		}
		up.Data, err = io.ReadAll(io.LimitReader(f, media.MaxPDFBytes+1))
		f.Close()
		if err != nil {
			return err
		}
		up.Name, up.Sniffed = fh.Filename, http.DetectContentType(up.Data)
	}
	_, err = a.deps.Media.Add(r.Context(), id, up)
	var fe interface{ InvalidField() string }
	if errors.As(err, &fe) && !errors.Is(err, store.ErrNotFound) {
		msg := err.Error()
		var ve *releases.ValidationError
		if errors.As(err, &ve) {
			msg = ve.Msg
		} else if _, m, ok := strings.Cut(msg, ": "); ok {
			msg = m
		}
		return a.editorWithError(w, r, sess, http.StatusUnprocessableEntity, "The file was not added: "+msg+".")
	}
	if err != nil {
		return mediaNotFound(err)
	}
	http.Redirect(w, r, "/admin/releases/"+strconv.FormatInt(id, 10)+"?done=media-added#media", http.StatusSeeOther)
	return nil
}

func mediaNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ui.NotFound("This release or file")
	}
	return err
}

func mediaID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("media_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, ui.NotFound("This file")
	}
	return id, nil
}

// moveMedia: POST /admin/releases/{id}/media/{media_id}/move with
// direction=up|down. The first image is the lead image.
func (a *Console) moveMedia(w http.ResponseWriter, r *http.Request, _ *session) error {
	id, err := releaseID(r)
	if err != nil {
		return err
	}
	mid, err := mediaID(r)
	if err != nil {
		return err
	}
	delta := 1
	if r.PostForm.Get("direction") == "up" {
		delta = -1
	}
	if err := a.deps.Media.Move(r.Context(), id, mid, delta); err != nil {
		return mediaNotFound(err)
	}
	http.Redirect(w, r, "/admin/releases/"+strconv.FormatInt(id, 10)+"?done=media-moved#media", http.StatusSeeOther)
	return nil
}

// removeMedia: POST /admin/releases/{id}/media/{media_id}/delete.
func (a *Console) removeMedia(w http.ResponseWriter, r *http.Request, _ *session) error {
	id, err := releaseID(r)
	if err != nil {
		return err
	}
	mid, err := mediaID(r)
	if err != nil {
		return err
	}
	if err := a.deps.Media.Remove(r.Context(), id, mid); err != nil {
		return mediaNotFound(err)
	}
	http.Redirect(w, r, "/admin/releases/"+strconv.FormatInt(id, 10)+"?done=media-removed#media", http.StatusSeeOther)
	return nil
}

// editorWithError shows a stored release's editor with a problem at the top.
func (a *Console) editorWithError(w http.ResponseWriter, r *http.Request, sess *session, status int, msg string) error {
	rel, err := a.getRelease(r)
	if err != nil {
		return err
	}
	rf, err := a.form(r, rel.ID, fieldsOf(&rel, a.opts.Timezone))
	if err != nil {
		return err
	}
	v := a.editorView(sess, &rel, rf)
	v.Page.Error = msg
	w.Header().Set("Content-Security-Policy", adminFrameCSP)
	return a.pages.Render(w, status, "release.html", v)
}
