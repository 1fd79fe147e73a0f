// Package media owns the images and PDFs of releases (SPEC 10): what an
// upload may be (its type judged by its content, its size, an image's
// pixels, a PDF's scripts), the display copy of an image at most 1200 px
// wide, the text that goes with it (alt, caption, credit), and their order.
// The bytes are kept by the store (files on SQLite, rows on PostgreSQL:
// store/media_blobs.go). It never imports net/http: the API and the
// console turn requests into Uploads.
package media

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"herald/audit"
	"herald/releases"
	"herald/store"
)

// Errors of a refused upload, beside *releases.ValidationError (a value
// that is not acceptable: 422). Both name the field.
var (
	// ErrTooLarge: the file is over its type's limit (413).
	ErrTooLarge = errors.New("file too large")
	// ErrUnsupported: the content is none of the types taken (415).
	ErrUnsupported = errors.New("unsupported media type")
)

// refusal is an ErrTooLarge or ErrUnsupported that names the field.
type refusal struct {
	field, msg string
	kind       error
}

func (e *refusal) Error() string        { return e.field + ": " + e.msg }
func (e *refusal) InvalidField() string { return e.field }
func (e *refusal) Unwrap() error        { return e.kind }

func invalid(field, format string, args ...any) error {
	return &releases.ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Service adds, orders and removes media and hands out their files.
type Service struct {
	db    *store.DB
	rel   *releases.Service
	audit *audit.Recorder
	log   *slog.Logger
	now   func() time.Time
	// decoding bounds the images decoded at once: each may take up to
	// 160 MB (40 MP at 4 bytes a pixel).
	decoding chan struct{}
}

// Options configures the service.
type Options struct {
	Logger *slog.Logger
	Audit  *audit.Recorder // nil records nothing
	Now    func() time.Time
	// Decoders bounds concurrent image decodes; default 2.
	Decoders int
}

// New returns the media service.
func New(db *store.DB, rel *releases.Service, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Decoders <= 0 {
		opts.Decoders = 2
	}
	return &Service{db: db, rel: rel, audit: opts.Audit, log: opts.Logger, now: opts.Now, decoding: make(chan struct{}, opts.Decoders)}
}

// Upload is one file sent for a release.
type Upload struct {
	Name string // the name it was sent with: shown for PDFs, never trusted for the type
	Data []byte
	// Sniffed is the type the HTTP layer sniffed (http.DetectContentType);
	// when set it must agree with herald's own reading of the content.
	Sniffed              string
	Alt, Caption, Credit string
}

// prepared is an upload that passed every check, with its files.
type prepared struct {
	m     store.Media
	files map[string][]byte
}

// Add checks an upload and stores it after the release's other media.
// Nothing is stored when any check fails.
func (s *Service) Add(ctx context.Context, releaseID int64, up Upload) (store.Media, error) {
	p, err := s.prepare(ctx, up)
	if err != nil {
		return store.Media{}, err
	}
	p.m.ReleaseID = releaseID
	p.m.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	var m store.Media
	keys := slices.Sorted(maps.Keys(p.files))
	_, err = s.rel.Touch(ctx, releaseID, func(tx *store.Tx, _ store.Release) error {
		m = p.m
		if err := tx.InsertMedia(ctx, &m); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.PutBlob(ctx, s.db, m.ID, k, p.files[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if derr := s.db.DiscardBlobFiles(keys); derr != nil {
			s.log.Warn("removing the files of a failed upload failed", "release_id", releaseID, "err", derr)
		}
		return store.Media{}, err
	}
	s.log.Info("media added", "release_id", releaseID, "media_id", m.ID, "type", m.Type, "bytes", m.Bytes)
	s.audit.Record(ctx, audit.Entry{Action: "media.add", Target: target(releaseID), Details: map[string]any{
		"media_id": m.ID, "type": m.Type, "bytes": m.Bytes, "name": m.Name, "width": m.Width, "height": m.Height}})
	return m, nil
}

func target(releaseID int64) string { return "release:" + strconv.FormatInt(releaseID, 10) }

// prepare runs every check and makes the display copy; it stores nothing.
func (s *Service) prepare(ctx context.Context, up Upload) (prepared, error) {
	alt, err := cleanText("alt", up.Alt, MaxAlt)
	if err != nil {
		return prepared{}, err
	}
	caption, err := cleanText("caption", up.Caption, MaxCaption)
	if err != nil {
		return prepared{}, err
	}
	credit, err := cleanText("credit", up.Credit, MaxCredit)
	if err != nil {
		return prepared{}, err
	}
	data := up.Data
	if len(data) == 0 {
		return prepared{}, invalid("file", "is required: send the image or PDF as the multipart field \"file\"")
	}
	typ := sniff(data)
	if typ == "" || (up.Sniffed != "" && !strings.HasPrefix(up.Sniffed, typ)) {
		return prepared{}, &refusal{field: "file", kind: ErrUnsupported,
			msg: "the content is not a JPEG, PNG, WebP or GIF image or a PDF (the file's name does not count)"}
	}
	limit := MaxImageBytes
	if typ == TypePDF {
		limit = MaxPDFBytes
	}
	if len(data) > limit {
		return prepared{}, &refusal{field: "file", kind: ErrTooLarge,
			msg: fmt.Sprintf("the %s is %.1f MB: at most %d MB", extensions[typ], float64(len(data))/(1<<20), limit>>20)}
	}
	sum := sha256.Sum256(data)
	base := newKey()
	m := store.Media{Name: cleanName(up.Name, extensions[typ]), Key: base + "." + extensions[typ], Type: typ, Bytes: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Alt: alt, Caption: caption, Credit: credit}
	m.DisplayKey, m.DisplayType, m.DisplayBytes = m.Key, m.Type, m.Bytes
	files := map[string][]byte{m.Key: data}
	if typ == TypePDF {
		m.Kind = releases.MediaPDF
		if err := checkPDF(data); err != nil {
			return prepared{}, err
		}
		return prepared{m: m, files: files}, nil
	}
	m.Kind = releases.MediaImage
	select {
	case s.decoding <- struct{}{}:
		defer func() { <-s.decoding }()
	case <-ctx.Done():
		return prepared{}, ctx.Err()
	}
	d, err := decodeImage(data, typ)
	if err != nil {
		return prepared{}, err
	}
	m.Width, m.Height = d.width, d.height
	m.DisplayWidth, m.DisplayHeight = d.width, d.height
	copyData, copyType, w, h, ok, err := displayCopy(d, typ)
	if err != nil {
		return prepared{}, err
	}
	if ok {
		m.DisplayKey = base + "-w" + strconv.Itoa(DisplayWidth) + "." + extensions[copyType]
		m.DisplayType, m.DisplayBytes, m.DisplayWidth, m.DisplayHeight = copyType, int64(len(copyData)), w, h
		files[m.DisplayKey] = copyData
	}
	return prepared{m: m, files: files}, nil
}

// newKey is 128 random bits, in lower-case base32: file names that
// cannot be guessed or enumerated.
func newKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Remove deletes a medium of a release, its files with it.
func (s *Service) Remove(ctx context.Context, releaseID, mediaID int64) error {
	var m store.Media
	_, err := s.rel.Touch(ctx, releaseID, func(tx *store.Tx, _ store.Release) error {
		var err error
		m, err = tx.DeleteMedia(ctx, releaseID, mediaID)
		return err
	})
	if err != nil {
		return err
	}
	keys := []string{m.Key}
	if m.DisplayKey != m.Key {
		keys = append(keys, m.DisplayKey)
	}
	if err := s.db.DiscardBlobFiles(keys); err != nil {
		s.log.Warn("removing media files failed", "release_id", releaseID, "media_id", mediaID, "err", err)
	}
	s.log.Info("media removed", "release_id", releaseID, "media_id", mediaID)
	s.audit.Record(ctx, audit.Entry{Action: "media.remove", Target: target(releaseID), Details: map[string]any{
		"media_id": mediaID, "type": m.Type, "name": m.Name}})
	return nil
}

// Move moves a medium of a release one place up (delta -1) or down (+1);
// moving the first up or the last down changes nothing. The first image
// is the lead image.
func (s *Service) Move(ctx context.Context, releaseID, mediaID int64, delta int) error {
	if delta != -1 && delta != 1 {
		return invalid("direction", "must be up or down")
	}
	_, err := s.rel.Touch(ctx, releaseID, func(tx *store.Tx, r store.Release) error {
		ids := make([]int64, len(r.Media))
		at := -1
		for i, m := range r.Media {
			ids[i] = m.ID
			if m.ID == mediaID {
				at = i
			}
		}
		if at < 0 {
			return fmt.Errorf("media: %d of release %d: %w", mediaID, releaseID, store.ErrNotFound)
		}
		if to := at + delta; to >= 0 && to < len(ids) {
			ids[at], ids[to] = ids[to], ids[at]
		}
		return tx.SetMediaOrder(ctx, releaseID, ids)
	})
	if err != nil {
		return err
	}
	dir := "down"
	if delta < 0 {
		dir = "up"
	}
	s.audit.Record(ctx, audit.Entry{Action: "media.move", Target: target(releaseID), Details: map[string]any{
		"media_id": mediaID, "direction": dir}})
	return nil
}

// File is one served media file.
type File struct {
	Data []byte
	Type string
	// Name is the uploaded name, for a PDF's download.
	Name string
	Kind string
}

// Open returns the file served as key (the uploaded file or its display
// copy); ErrNotFound when there is none.
func (s *Service) Open(ctx context.Context, key string) (File, error) {
	m, err := s.db.MediaByKey(ctx, key)
	if err != nil {
		return File{}, err
	}
	data, err := s.db.Blob(ctx, key)
	if err != nil {
		return File{}, err
	}
	f := File{Data: data, Type: m.Type, Name: m.Name, Kind: m.Kind}
	if key != m.Key {
		f.Type = m.DisplayType
	}
	return f, nil
}
