package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"sync"
	"time"

	"herald/mailer"
	"herald/media"
	"herald/releases"
	"herald/store"
)

// Linker makes the personal links of a message: signed, per subscriber.
type Linker interface {
	UnsubscribeURL(id int64) string
	PreferencesURL(id int64) string
}

// Composer renders alert and digest messages for the mailer. Everything
// shared by many recipients (a release rendered for alerts or as a digest
// entry, per language) is rendered once and reused; per recipient only the
// personal links and the small wrapper are rendered.
type Composer struct {
	s       *Service
	tpl     *mailer.Templates
	links   Linker
	baseURL string

	mu      sync.Mutex
	version int64 // releases.Service.Version() the caches were filled at
	rels    map[int64]*store.Release
	parts   map[partKey]*mailer.ReleasePart
}

type partKey struct {
	id   int64
	lang string
	item bool // digest entry rather than full alert body
}

// maxParts bounds the part cache; it is emptied when it grows past this
// (a digest run uses a few dozen releases in a few languages).
const maxParts = 4096

// NewComposer returns the alert and digest composer; register it with the
// mailer for the kinds "alert" and "digest".
func (s *Service) NewComposer(tpl *mailer.Templates, links Linker, baseURL string) *Composer {
	return &Composer{s: s, tpl: tpl, links: links, baseURL: baseURL,
		rels: map[int64]*store.Release{}, parts: map[partKey]*mailer.ReleasePart{}}
}

// Compose renders one queued alert or digest.
func (c *Composer) Compose(ctx context.Context, m store.OutboxMessage) (mailer.Content, error) {
	switch m.Kind {
	case mailer.KindAlert:
		return c.alert(ctx, m)
	case mailer.KindDigest:
		return c.digest(ctx, m)
	}
	return mailer.Content{}, fmt.Errorf("dispatch: cannot compose %q messages", m.Kind)
}

func (c *Composer) alert(ctx context.Context, m store.OutboxMessage) (mailer.Content, error) {
	r, err := c.release(ctx, m.ReleaseID)
	if err != nil {
		return mailer.Content{}, err
	}
	if r == nil {
		return mailer.Content{}, mailer.ErrSkip // deleted, or no longer live
	}
	lang := m.Language
	if lang == "" {
		lang = r.Language
	}
	part, err := c.part(ctx, r, lang, false)
	if err != nil {
		return mailer.Content{}, err
	}
	unsub, prefs := c.personal(m)
	return c.tpl.Alert(mailer.AlertView{Lang: lang, Release: part, UnsubscribeURL: unsub, PreferencesURL: prefs})
}

func (c *Composer) digest(ctx context.Context, m store.OutboxMessage) (mailer.Content, error) {
	var p DigestPayload
	if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
		return mailer.Content{}, fmt.Errorf("dispatch: digest %d payload: %w", m.ID, err)
	}
	lang := m.Language
	v := mailer.DigestView{Lang: lang, Cadence: p.Cadence, Since: time.UnixMilli(p.Since).UTC()}
	for _, id := range p.ReleaseIDs {
		r, err := c.release(ctx, id)
		if err != nil {
			return mailer.Content{}, err
		}
		if r == nil {
			continue // deleted, or no longer live, since the digest was queued
		}
		part, err := c.part(ctx, r, lang, true)
		if err != nil {
			return mailer.Content{}, err
		}
		v.Items = append(v.Items, part)
	}
	if len(v.Items) == 0 {
		return mailer.Content{}, mailer.ErrSkip
	}
	v.UnsubscribeURL, v.PreferencesURL = c.personal(m)
	return c.tpl.Digest(v)
}

// personal returns the recipient's signed links. A test copy, sent to an
// address that is no subscriber, carries links of the same shape (signed
// for no subscriber: they open a page saying so), so that staff see the
// message exactly as subscribers will.
func (c *Composer) personal(m store.OutboxMessage) (unsub, prefs string) {
	return c.links.UnsubscribeURL(m.SubscriberID), c.links.PreferencesURL(m.SubscriberID)
}

// release returns a live release through the cache; nil (and no error)
// when it was deleted or is no longer live.
func (c *Composer) release(ctx context.Context, id int64) (*store.Release, error) {
	c.mu.Lock()
	if v := c.s.releases.Version(); v != c.version {
		c.version = v
		clear(c.rels)
		clear(c.parts)
	}
	r, ok := c.rels[id]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	rel, err := c.s.db.Release(ctx, id)
	switch {
	case err == nil && releases.IsLive(&rel, c.s.now()):
		r = &rel
	case err == nil || errors.Is(err, ErrNotFound):
		r = nil
	default:
		return nil, err
	}
	c.mu.Lock()
	c.rels[id] = r
	c.mu.Unlock()
	return r, nil
}

// part renders a release for one language once.
func (c *Composer) part(ctx context.Context, r *store.Release, lang string, item bool) (*mailer.ReleasePart, error) {
	k := partKey{id: r.ID, lang: lang, item: item}
	c.mu.Lock()
	p, ok := c.parts[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := c.render(ctx, r, lang, item)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.parts) >= maxParts {
		clear(c.parts)
	}
	c.parts[k] = p
	c.mu.Unlock()
	return p, nil
}

// mailImageWidth is the width of the mail's column, in pixels.
const mailImageWidth = 600

// render renders a release for one language, without the cache.
func (c *Composer) render(ctx context.Context, r *store.Release, lang string, item bool) (*mailer.ReleasePart, error) {
	tax, err := c.s.releases.Taxonomy(ctx)
	if err != nil {
		return nil, err
	}
	v := mailer.ReleaseView{
		ID: r.ID, Title: r.Title, Summary: r.Summary, Dateline: r.Dateline, PublishedAt: r.PublishedAt,
		Language: r.Language, URL: releases.CanonicalURL(*r, c.baseURL), BodyHTML: template.HTML(r.BodyHTML),
	}
	for _, t := range r.Topics {
		v.Topics = append(v.Topics, tax.TopicName(t, lang))
	}
	for _, g := range r.Regions {
		v.Regions = append(v.Regions, tax.RegionName(g, lang))
	}
	for _, ct := range r.Contacts {
		v.Contacts = append(v.Contacts, mailer.ContactView{Name: ct.Name, Email: ct.Email, Phone: ct.Phone})
	}
	if m := releases.LeadImage(r); m != nil {
		v.Lead = &mailer.ImageView{URL: c.baseURL + releases.MediaPath(m.DisplayKey), Alt: m.Alt, Caption: m.Caption,
			Credit: m.Credit, Width: min(m.DisplayWidth, mailImageWidth)}
	}
	for _, m := range releases.Attachments(r) {
		v.Attachments = append(v.Attachments, mailer.AttachmentView{URL: c.baseURL + releases.MediaPath(m.Key), Name: m.Name,
			Size: media.FileSize(m.Bytes)})
	}
	if item {
		return c.tpl.DigestItem(lang, v)
	}
	return c.tpl.Release(lang, v)
}
