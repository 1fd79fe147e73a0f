// Package sources ingests releases from the organization's own website
// (SPEC 9.1): feeds (RSS, Atom, JSON Feed) that herald polls with
// conditional GET, each new item becoming a release (draft or published),
// each changed item updating its release (never alerting again: a change is
// not news), identity by guid, else link. A failing source backs off and
// shows its last error. It imports store, releases, internal/outbound and
// gofeed.
package sources

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"herald/audit"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
)

// Limits.
const (
	DefaultInterval = 15 * time.Minute
	MinInterval     = time.Minute
	MaxInterval     = 7 * 24 * time.Hour
	// MaxItems caps the items read from one poll (the first ones: feeds
	// list the newest first); the rest are counted as skipped.
	MaxItems = 200
	// MaxFeedBytes caps a feed document.
	MaxFeedBytes = 10 << 20
	maxBackoff   = 24 * time.Hour
	maxURL       = 2000
)

// Options configure the Service.
type Options struct {
	BaseURL string
	Logger  *slog.Logger
	// Audit records every change made to sources and every poll asked for
	// (SPEC 7.3, source.*); nil records nothing.
	Audit *audit.Recorder
	Now   func() time.Time
	Poll  time.Duration // how often the leader looks for due sources (default 5 s)
}

// Service manages sources and polls them.
type Service struct {
	db       *store.DB
	client   *outbound.Client
	releases *releases.Service
	opts     Options
	log      *slog.Logger
}

// New returns the service.
func New(db *store.DB, client *outbound.Client, rel *releases.Service, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	return &Service{db: db, client: client, releases: rel, opts: opts, log: opts.Logger}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// Input is a source to create, or the fields of one to change (nil: keep).
type Input struct {
	URL                *string            `json:"url"`
	Mode               *string            `json:"mode"`
	Language           *string            `json:"language"`
	Topics             *releases.List     `json:"topics"`
	Regions            *releases.List     `json:"regions"`
	CategoryMap        *map[string]string `json:"category_map"`
	Interval           *string            `json:"interval"`
	TranslationKeyFrom *string            `json:"translation_key_from"`
	Enabled            *bool              `json:"enabled"`
}

// Document is a source as the API shows it.
type Document struct {
	ID                 string            `json:"id"`
	URL                string            `json:"url"`
	Mode               string            `json:"mode"`
	Language           string            `json:"language"`
	Topics             []string          `json:"topics"`
	Regions            []string          `json:"regions"`
	CategoryMap        map[string]string `json:"category_map"`
	Interval           string            `json:"interval"`
	TranslationKeyFrom string            `json:"translation_key_from"`
	Enabled            bool              `json:"enabled"`
	NextRunAt          string            `json:"next_run_at"`
	LastRunAt          *string           `json:"last_run_at"`
	Failures           int               `json:"failures"`
	LastError          string            `json:"last_error"`
	CreatedAt          string            `json:"created_at"`
	UpdatedAt          string            `json:"updated_at"`
}

// NewDocument is the JSON view of src.
func NewDocument(src store.Source) Document {
	d := Document{ID: strconv.FormatInt(src.ID, 10), URL: src.URL, Mode: src.Mode, Language: src.Language,
		Topics: nonNil(src.Topics), Regions: nonNil(src.Regions), CategoryMap: src.CategoryMap, Interval: src.Interval.String(),
		TranslationKeyFrom: src.TranslationKeyFrom, Enabled: src.Enabled, NextRunAt: releases.FormatTime(src.NextRunAt), Failures: src.Failures,
		LastError: src.LastError, CreatedAt: releases.FormatTime(src.CreatedAt), UpdatedAt: releases.FormatTime(src.UpdatedAt)}
	if d.CategoryMap == nil {
		d.CategoryMap = map[string]string{}
	}
	if !src.LastRunAt.IsZero() {
		t := releases.FormatTime(src.LastRunAt)
		d.LastRunAt = &t
	}
	return d
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func invalid(field, format string, args ...any) error {
	return &releases.ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// apply validates in onto src.
func (s *Service) apply(ctx context.Context, src *store.Source, in Input) error {
	tax, err := s.releases.Taxonomy(ctx)
	if err != nil {
		return err
	}
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		switch {
		case u == "":
			return invalid("url", "is required")
		case len(u) > maxURL || !utf8.ValidString(u) || strings.ContainsFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return invalid("url", "must be an http or https URL of at most %d characters", maxURL)
		case outbound.CheckURL(u) != nil:
			return invalid("url", "must be an absolute http or https URL without user name or password")
		case s.opts.BaseURL != "" && outbound.IsSelf(u, s.opts.BaseURL):
			return invalid("url", "must not be one of herald's own feeds")
		}
		src.URL = u
	}
	if in.Mode != nil {
		if *in.Mode != "draft" && *in.Mode != "publish" {
			return invalid("mode", "must be draft or publish")
		}
		src.Mode = *in.Mode
	}
	if in.Language != nil {
		l := strings.ToLower(strings.TrimSpace(*in.Language))
		if l != "" && !validLang(l) {
			return invalid("language", "must be a language code such as en, fr, es or ar")
		}
		src.Language = l
	}
	if in.Topics != nil {
		for _, t := range *in.Topics {
			if _, ok := tax.Topic(t); !ok {
				return invalid("topics", "unknown topic %q", releases.Clip(t, 40))
			}
		}
		src.Topics = slices.Clone(*in.Topics)
	}
	if in.Regions != nil {
		for _, r := range *in.Regions {
			if _, ok := tax.Region(r); !ok {
				return invalid("regions", "unknown region %q", releases.Clip(r, 40))
			}
		}
		src.Regions = slices.Clone(*in.Regions)
	}
	if in.CategoryMap != nil {
		m := map[string]string{}
		for k, v := range *in.CategoryMap {
			_, isTopic := tax.Topic(v)
			_, isRegion := tax.Region(v)
			if !isTopic && !isRegion {
				return invalid("category_map", "%q maps to %q, which is neither a topic nor a region", releases.Clip(k, 40), releases.Clip(v, 40))
			}
			m[strings.ToLower(strings.TrimSpace(k))] = v
		}
		src.CategoryMap = m
	}
	if in.Interval != nil {
		d, err := time.ParseDuration(strings.TrimSpace(*in.Interval))
		if err != nil || d < MinInterval || d > MaxInterval {
			return invalid("interval", "must be a duration from 1m to 168h, such as 5m")
		}
		src.Interval = d
	}
	if in.TranslationKeyFrom != nil {
		if *in.TranslationKeyFrom != "none" && *in.TranslationKeyFrom != "link" {
			return invalid("translation_key_from", "must be none or link")
		}
		src.TranslationKeyFrom = *in.TranslationKeyFrom
	}
	if in.Enabled != nil {
		src.Enabled = *in.Enabled
	}
	if src.Mode == "publish" && len(src.Topics) == 0 && len(src.CategoryMap) == 0 {
		return invalid("topics", "a source in publish mode needs topics (or a category_map) for its releases")
	}
	return nil
}

func validLang(l string) bool {
	if len(l) < 2 || len(l) > 3 {
		return false
	}
	for _, r := range l {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// Create adds a source; its first poll is due at once.
func (s *Service) Create(ctx context.Context, in Input) (store.Source, error) {
	if in.URL == nil {
		return store.Source{}, invalid("url", "is required")
	}
	now := s.now()
	src := store.Source{Mode: "draft", Interval: DefaultInterval, TranslationKeyFrom: "none", Enabled: true, NextRunAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(ctx, &src, in); err != nil {
		return store.Source{}, err
	}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertSource(ctx, &src) }); err != nil {
		return store.Source{}, err
	}
	s.log.Info("source created", "source_id", src.ID)
	s.record(ctx, "source.create", src.ID, src.URL)
	return src, nil
}

// Get reads a source.
func (s *Service) Get(ctx context.Context, id int64) (store.Source, error) {
	return s.db.Source(ctx, id)
}

// List lists the sources.
func (s *Service) List(ctx context.Context) ([]store.Source, error) { return s.db.Sources(ctx) }

// Update changes a source's settings. A new URL forgets the old one's
// validators (ETag, Last-Modified) and its baseline (the new feed's
// existing items are taken in without alerts), and is polled at once.
func (s *Service) Update(ctx context.Context, id int64, in Input) (store.Source, error) {
	var src store.Source
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if src, err = tx.Source(ctx, id); err != nil {
			return err
		}
		old := src.URL
		if err := s.apply(ctx, &src, in); err != nil {
			return err
		}
		src.UpdatedAt = s.now()
		if src.URL != old {
			src.ETag, src.LastModified, src.NextRunAt, src.BaselineAt = "", "", src.UpdatedAt, time.Time{}
		}
		return tx.UpdateSource(ctx, &src)
	})
	if err == nil {
		s.record(ctx, "source.update", src.ID, src.URL)
	}
	return src, err
}

// Delete removes a source (its releases stay).
func (s *Service) Delete(ctx context.Context, id int64) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSource(ctx, id) })
	if err == nil {
		s.record(ctx, "source.delete", id, "")
	}
	return err
}

// record writes an audit entry about source id.
func (s *Service) record(ctx context.Context, action string, id int64, url string) {
	d := map[string]any{}
	if url != "" {
		d["url"] = url
	}
	s.opts.Audit.Record(ctx, audit.Entry{Action: action, Target: "source:" + strconv.FormatInt(id, 10), Details: d})
}

// RunDocument is a poll as the API shows it.
type RunDocument struct {
	ID         string `json:"id"`
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
	Status     string `json:"status"`
	New        int    `json:"new"`
	Updated    int    `json:"updated"`
	Unchanged  int    `json:"unchanged"`
	Skipped    int    `json:"skipped"`
	Error      string `json:"error"`
}

// NewRunDocument is the JSON view of a poll.
func NewRunDocument(r store.SourceRun) RunDocument {
	return RunDocument{ID: strconv.FormatInt(r.ID, 10), StartedAt: releases.FormatTime(r.StartedAt),
		FinishedAt: releases.FormatTime(r.FinishedAt), Status: r.Status, New: r.New, Updated: r.Updated,
		Unchanged: r.Unchanged, Skipped: r.Skipped, Error: r.Error}
}

// Runs lists a source's polls, newest first.
func (s *Service) Runs(ctx context.Context, id int64, limit int) ([]RunDocument, error) {
	if _, err := s.db.Source(ctx, id); err != nil {
		return nil, err
	}
	rs, err := s.db.SourceRuns(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	out := make([]RunDocument, 0, len(rs))
	for _, r := range rs {
		out = append(out, NewRunDocument(r))
	}
	return out, nil
}
