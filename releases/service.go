// Package releases owns press releases: validation and normalization of
// their fields, slugs, Markdown rendering and HTML sanitizing, the taxonomy
// of topics and regions, the matching rule, and embargoes (going live). It
// uses the store and never imports net/http.
package releases

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"herald/audit"
	"herald/store"
)

// Sentinel errors; they are the store's, so errors.Is works across layers.
var (
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
)

// Service is the release service shared by the API, the CLI, the web pages,
// the feeds and the dispatcher.
type Service struct {
	db      *store.DB
	baseURL string
	now     func() time.Time
	log     *slog.Logger
	render  *renderer
	audit   *audit.Recorder

	taxMu      sync.Mutex
	tax        *Taxonomy
	taxVersion int64

	version atomic.Int64  // bumped on every change seen; caches compare it
	live    chan struct{} // signalled when releases went live
}

// Options configures a Service.
type Options struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// BaseURL completes release URLs in the events recorded for webhooks.
	BaseURL string
	// Audit records every change (SPEC 7.3); nil records nothing.
	Audit *audit.Recorder
}

// New returns a release service on db.
func New(db *store.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, baseURL: strings.TrimRight(opts.BaseURL, "/"), now: opts.Now, log: opts.Logger, render: newRenderer(),
		live: make(chan struct{}, 1), audit: opts.Audit}
	s.version.Store(1)
	return s
}

// Version is a counter that changes whenever releases or terms change, in
// this process at once and in other processes within a second (see Run).
// Caches of rendered feeds and pages compare it.
func (s *Service) Version() int64 { return s.version.Load() }

// Live is signalled (without blocking, coalesced) when releases have gone
// live; the dispatcher listens to send automatic alerts promptly.
func (s *Service) Live() <-chan struct{} { return s.live }

func (s *Service) changed(live bool) {
	s.version.Add(1)
	if live {
		select {
		case s.live <- struct{}{}:
		default:
		}
	}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Get returns a release by id, whatever its status.
func (s *Service) Get(ctx context.Context, id int64) (store.Release, error) {
	return s.db.Release(ctx, id)
}

// GetLive returns the live release with that slug; ErrNotFound for a draft,
// an embargoed or an unknown one.
func (s *Service) GetLive(ctx context.Context, slug string) (store.Release, error) {
	r, err := s.db.ReleaseBySlug(ctx, slug)
	if err != nil {
		return r, err
	}
	if !IsLive(&r, s.now()) {
		return store.Release{}, fmt.Errorf("releases: %q is not live: %w", slug, ErrNotFound)
	}
	return r, nil
}

// IsLive reports whether r is live at now: published and its time has come.
func IsLive(r *store.Release, now time.Time) bool {
	return r.Status == StatusPublished && !r.PublishedAt.After(now)
}

// Create validates in and stores a new release.
func (s *Service) Create(ctx context.Context, in Input) (store.Release, error) {
	return s.CreateWith(ctx, in, nil)
}

// Then runs inside the transaction that stores a release, after it: what
// must be written together with it (an ingest source's item record).
type Then func(tx *store.Tx, r store.Release) error

// CreateWith is Create running then in the same transaction.
func (s *Service) CreateWith(ctx context.Context, in Input, then Then) (store.Release, error) {
	tax, err := s.Taxonomy(ctx)
	if err != nil {
		return store.Release{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	r := store.Release{GUID: newGUID(), CreatedAt: now, UpdatedAt: now}
	if err := s.apply(&r, in, tax, now); err != nil {
		return store.Release{}, err
	}
	base := r // the closure may run twice (a retried transaction): it starts from base each time
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r = base
		if err := s.assignSlug(ctx, tx, &r, in.Slug != nil && r.Slug != ""); err != nil {
			return err
		}
		if err := checkTranslation(ctx, tx, &r); err != nil {
			return err
		}
		r.LiveAt = time.Time{}
		if IsLive(&r, now) {
			r.LiveAt = now
		}
		if err := tx.InsertRelease(ctx, &r); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, r); err != nil {
				return err
			}
		}
		if r.LiveAt.IsZero() {
			return nil
		}
		return s.recordEvent(ctx, tx, store.EventReleasePublished, r, nil, now)
	})
	if err != nil {
		return store.Release{}, err
	}
	s.changed(!r.LiveAt.IsZero())
	s.log.Info("release created", "release_id", r.ID, "slug", r.Slug, "status", r.Status, "live", !r.LiveAt.IsZero())
	s.record(ctx, "release.create", &r)
	if r.Status == StatusPublished {
		s.record(ctx, "release.publish", &r)
	}
	return r, nil
}

// Update applies a partial update to release id.
func (s *Service) Update(ctx context.Context, id int64, in Input) (store.Release, error) {
	return s.UpdateWith(ctx, id, in, nil)
}

// UpdateWith is Update running then in the same transaction.
func (s *Service) UpdateWith(ctx context.Context, id int64, in Input, then Then) (store.Release, error) {
	tax, err := s.Taxonomy(ctx)
	if err != nil {
		return store.Release{}, err
	}
	var r store.Release
	var published bool
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = tx.Release(ctx, id); err != nil {
			return err
		}
		oldSlug, wasDraft := r.Slug, r.Status == StatusDraft
		oldTime := r.PublishedAt
		now := s.now().UTC().Truncate(time.Millisecond)
		prev := r
		wasLive := IsLive(&prev, now)
		if err := s.apply(&r, in, tax, now); err != nil {
			return err
		}
		// Publishing a draft publishes it now, unless a time is given: its
		// published_at was only the draft's creation time, and digests
		// select by published_at (a draft written Monday and published
		// Wednesday must not fall before Tuesday's digest).
		if wasDraft && r.Status == StatusPublished && in.PublishedAt == nil && r.PublishedAt.Before(now) {
			r.PublishedAt = now
		}
		if r.Slug == "" {
			r.Slug = oldSlug
		}
		if r.Slug != oldSlug {
			if err := s.assignSlug(ctx, tx, &r, true); err != nil {
				return err
			}
		}
		if err := checkTranslation(ctx, tx, &r); err != nil {
			return err
		}
		wentLive := r.LiveAt.IsZero() && IsLive(&r, now)
		if wentLive {
			r.LiveAt = now
		}
		r.UpdatedAt = now
		// Publishing a draft, or moving a published release's time (an
		// embargo set or changed), is a publication of its own.
		published = r.Status == StatusPublished && (wasDraft || !r.PublishedAt.Equal(oldTime))
		if err := tx.UpdateRelease(ctx, &r); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, r); err != nil {
				return err
			}
		}
		switch {
		case wentLive:
			return s.recordEvent(ctx, tx, store.EventReleasePublished, r, &prev, now)
		case wasLive || IsLive(&r, now):
			return s.recordEvent(ctx, tx, store.EventReleaseUpdated, r, &prev, now)
		}
		return nil
	})
	if err != nil {
		return store.Release{}, err
	}
	s.changed(IsLive(&r, s.now()))
	s.log.Info("release updated", "release_id", r.ID, "slug", r.Slug, "status", r.Status)
	s.record(ctx, "release.update", &r)
	if published {
		s.record(ctx, "release.publish", &r)
	}
	return r, nil
}

// Delete removes a release.
func (s *Service) Delete(ctx context.Context, id int64) error {
	var r store.Release
	var files []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = tx.Release(ctx, id); err != nil {
			return err
		}
		// Its media go with it (SPEC 10): rows by cascade, files after.
		if files, err = tx.MediaKeys(ctx, id); err != nil {
			return err
		}
		if err := tx.DeleteRelease(ctx, id); err != nil {
			return err
		}
		if r.LiveAt.IsZero() {
			return nil // never public: nothing to tell
		}
		return s.recordEvent(ctx, tx, store.EventReleaseDeleted, r, nil, s.now().UTC().Truncate(time.Millisecond))
	})
	if err != nil {
		return err
	}
	s.changed(false)
	if err := s.db.DiscardBlobFiles(files); err != nil {
		s.log.Warn("removing the media files of a deleted release failed", "release_id", id, "err", err)
	}
	s.log.Info("release deleted", "release_id", id)
	s.record(ctx, "release.delete", &r)
	return nil
}

// record writes an audit entry about release r.
func (s *Service) record(ctx context.Context, action string, r *store.Release) {
	d := map[string]any{"title": r.Title, "status": r.Status, "language": r.Language}
	if r.Status == StatusPublished {
		d["published_at"] = r.PublishedAt.UTC().Format(time.RFC3339)
	}
	s.audit.Record(ctx, audit.Entry{Action: action, Target: "release:" + strconv.FormatInt(r.ID, 10), Details: d})
}

// assignSlug gives r a unique slug. An explicit slug that is taken is a
// conflict; a derived one gets a numeric suffix ("-2", "-3", ...).
func (s *Service) assignSlug(ctx context.Context, tx *store.Tx, r *store.Release, explicit bool) error {
	if explicit {
		taken, err := tx.SlugTaken(ctx, r.Slug, r.ID)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("releases: slug %q is already used: %w", r.Slug, &conflict{field: "slug"})
		}
		return nil
	}
	base := Slugify(r.Title, MaxSlug-8)
	if base == "" {
		base = "release"
	}
	taken, err := tx.SlugsWithBase(ctx, base, r.ID)
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		cand := base
		if i > 1 {
			cand = base + "-" + strconv.Itoa(i)
		}
		if !taken[cand] {
			r.Slug = cand
			return nil
		}
	}
}

// checkTranslation refuses a second release in the same language within a
// translation group: the group must say which version a reader gets.
func checkTranslation(ctx context.Context, tx *store.Tx, r *store.Release) error {
	if r.TranslationKey == "" {
		return nil
	}
	other, err := tx.TranslationOf(ctx, r.TranslationKey, r.Language, r.ID)
	if err != nil {
		return err
	}
	if other != 0 {
		return &ValidationError{Field: "translation_key",
			Msg: fmt.Sprintf("release %d is already the %q version of this translation group", other, r.Language)}
	}
	return nil
}

// conflict is an ErrConflict that names the field.
type conflict struct{ field string }

func (c *conflict) Error() string        { return c.field + " is already used" }
func (c *conflict) Unwrap() error        { return ErrConflict }
func (c *conflict) InvalidField() string { return c.field }

func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ListQuery filters Service.List.
type ListQuery struct {
	Topics  []string
	Regions []string // descendants are included
	Langs   []string
	Status  string // draft | published | live | embargoed
	After   *store.Cursor
	Limit   int
}

// Page is one page of a release list.
type Page struct {
	Items      []store.Release
	NextCursor string // "" on the last page
}

// List lists releases newest first, for staff (all statuses).
func (s *Service) List(ctx context.Context, q ListQuery) (Page, error) {
	tax, err := s.Taxonomy(ctx)
	if err != nil {
		return Page{}, err
	}
	if _, err := checkSlugs("topic", q.Topics, tax.Topic); err != nil {
		return Page{}, err
	}
	if _, err := checkSlugs("region", q.Regions, tax.Region); err != nil {
		return Page{}, err
	}
	switch q.Status {
	case "", StatusDraft, StatusPublished, "live", "embargoed":
	default:
		return Page{}, invalid("status", "must be draft, published, live or embargoed")
	}
	langs := make([]string, 0, len(q.Langs))
	for _, l := range q.Langs {
		n, err := NormalizeLanguage(l)
		if err != nil {
			return Page{}, invalid("lang", "%v", err)
		}
		langs = append(langs, n)
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	items, err := s.db.ReleaseList(ctx, store.ReleaseFilter{
		Topics: q.Topics, Regions: tax.Expand(q.Regions), Langs: langs,
		Status: q.Status, LiveAt: s.now(), After: q.After, Limit: q.Limit + 1,
	})
	if err != nil {
		return Page{}, err
	}
	p := Page{Items: items}
	if len(items) > q.Limit {
		p.Items = items[:q.Limit]
		last := p.Items[q.Limit-1]
		p.NextCursor = EncodeCursor(store.Cursor{PublishedAt: last.PublishedAt, ID: last.ID})
	}
	if p.Items == nil {
		p.Items = []store.Release{}
	}
	return p, nil
}

// EncodeCursor makes an opaque pagination cursor.
func EncodeCursor(c store.Cursor) string {
	raw := strconv.FormatInt(c.PublishedAt.UnixMilli(), 10) + "." + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ErrBadCursor means a cursor was not made by EncodeCursor.
var ErrBadCursor = errors.New("malformed cursor")

// DecodeCursor reverses EncodeCursor.
func DecodeCursor(s string) (store.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, ErrBadCursor
	}
	a, b, ok := strings.Cut(string(raw), ".")
	t, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return store.Cursor{}, ErrBadCursor
	}
	return store.Cursor{PublishedAt: time.UnixMilli(t).UTC(), ID: id}, nil
}

// Counts returns how many releases are live, embargoed and drafts now.
func (s *Service) Counts(ctx context.Context) (map[string]int, error) {
	live, embargoed, drafts, err := s.db.CountReleases(ctx, s.now())
	if err != nil {
		return nil, err
	}
	return map[string]int{"live": live, "embargoed": embargoed, "draft": drafts, "total": live + embargoed + drafts}, nil
}
