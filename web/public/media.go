package public

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"time"

	"herald/media"
	"herald/releases"
	"herald/store"
)

// MediaFiles hands out media files; *media.Service is one.
type MediaFiles interface {
	Open(ctx context.Context, key string) (media.File, error)
}

// mediaCacheControl: a media file's name is random and its bytes never
// change (a new upload gets a new name), so caches may keep it for good.
const mediaCacheControl = "public, max-age=31536000, immutable"

// mediaCSP forbids everything to a served file: an image or a PDF opened
// on its own runs nothing in herald's origin.
const mediaCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

// mediaFile: GET /media/{key}, an uploaded file or its display copy, with
// its own type (never sniffed), an ETag (its name: the bytes behind a name
// never change) and, for a PDF, a download disposition with a safe name.
func (s *Site) mediaFile(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	f, err := s.deps.Media.Open(r.Context(), key)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("Cache-Control", mediaCacheControl)
	h.Set("ETag", `"`+key+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", mediaCSP)
	if f.Kind == releases.MediaPDF {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	}
	// ServeContent answers If-None-Match (304), HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Data))
	return nil
}

// imageView is a release's lead image on its page and in Open Graph.
type imageView struct {
	Src           string // site-relative, for <img>
	AbsURL        string // absolute, for og:image
	Type          string
	Width, Height int
	Alt           string
	Caption       string
	Credit        string
}

// attachmentView is a PDF listed under a release.
type attachmentView struct {
	Href, Name, Size string
}

// mediaViews are the lead image and the attachments of r (SPEC 10).
func (s *Site) mediaViews(r *store.Release) (*imageView, []attachmentView) {
	var lead *imageView
	if m := releases.LeadImage(r); m != nil {
		path := releases.MediaPath(m.DisplayKey)
		lead = &imageView{Src: path, AbsURL: s.absolute(path), Type: m.DisplayType, Width: m.DisplayWidth, Height: m.DisplayHeight,
			Alt: m.Alt, Caption: m.Caption, Credit: m.Credit}
	}
	var atts []attachmentView
	for _, m := range releases.Attachments(r) {
		atts = append(atts, attachmentView{Href: releases.MediaPath(m.Key), Name: m.Name, Size: media.FileSize(m.Bytes)})
	}
	return lead, atts
}

func (s *Site) absolute(path string) string {
	b := s.opts.BaseURL
	for len(b) > 0 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	return b + path
}
