package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"herald/media"
	"herald/releases"
)

// maxUpload caps a media upload's body: the largest file (a PDF) and the
// form's other fields.
const maxUpload = media.MaxPDFBytes + 1<<20

// maxMediaText caps one text field of an upload as it is read; the media
// service then holds it to its own, smaller limits.
const maxMediaText = 16 << 10

// uploadMedia: POST /api/v1/releases/{id}/media, multipart/form-data with
// the file in "file" and optional "alt", "caption" and "credit" (SPEC 10).
// The file is read whole (at most 20 MB), then checked by content; nothing
// is stored unless every check passes.
func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.releases.Get(r.Context(), id); err != nil {
		return err
	}
	up, err := readUpload(w, r)
	if err != nil {
		return err
	}
	m, err := a.media.Add(r.Context(), id, up)
	if err != nil {
		return err
	}
	doc := releases.NewMediaDocument(m, a.baseURL)
	w.Header().Set("Location", doc.URL)
	writeJSON(w, http.StatusCreated, doc)
	return nil
}

// readUpload reads the multipart form of an upload.
func readUpload(w http.ResponseWriter, r *http.Request) (media.Upload, error) {
	var up media.Upload
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, &httpError{status: http.StatusBadRequest, field: "file",
			msg: `send multipart/form-data with the file in the field "file" (and optional "alt", "caption", "credit")`}
	}
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge, field: "file",
		msg: "the upload is too large: images at most 10 MB, PDFs at most 20 MB"}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return up, tooLarge
		}
		if err != nil {
			return up, &httpError{status: http.StatusBadRequest, field: "file", msg: "the multipart body is malformed"}
		}
		name := part.FormName()
		limit := int64(maxMediaText)
		if name == "file" {
			limit = media.MaxPDFBytes
		}
		b, err := io.ReadAll(io.LimitReader(part, limit+1))
		part.Close()
		if errors.As(err, &mbe) {
			return up, tooLarge
		}
		if err != nil {
			return up, &httpError{status: http.StatusBadRequest, field: name, msg: "the multipart body is malformed"}
		}
		if int64(len(b)) > limit {
			if name == "file" {
				return up, tooLarge
			}
			return up, &httpError{status: http.StatusUnprocessableEntity, field: name, msg: name + " is far too long"}
		}
		switch name {
		case "file":
			up.Name, up.Data, up.Sniffed = part.FileName(), b, http.DetectContentType(b)
		case "alt":
			up.Alt = string(b)
		case "caption":
			up.Caption = string(b)
		case "credit":
			up.Credit = string(b)
		}
	}
}

// deleteMedia: DELETE /api/v1/releases/{id}/media/{media_id}.
func (a *API) deleteMedia(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	mid, err := strconv.ParseInt(r.PathValue("media_id"), 10, 64)
	if err != nil || mid <= 0 {
		return &httpError{status: http.StatusNotFound, field: "media_id", msg: "no such media id: " + releases.Clip(r.PathValue("media_id"), 40)}
	}
	if err := a.media.Remove(r.Context(), id, mid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
