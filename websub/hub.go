// Package websub is herald's WebSub hub (W3C Recommendation, SPEC 9.2) for
// its own feeds: subscription requests are checked, then verified by the
// subscriber's callback (intent verification) through a durable queue;
// when a release goes live, is edited or deleted, every subscription whose
// topic lists it gets the topic's feed as it is now, signed with its
// secret, retried with backoff for 24 h; external hubs (HERALD_WEBSUB_HUBS)
// are told hub.mode=publish. It imports store, releases, feeds and
// internal/outbound; the HTTP endpoint lives in web/public.
package websub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"herald/feeds"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
)

// Lease limits (SPEC 9.2): 10 days unless asked, at most 30 days.
const (
	DefaultLease = 10 * 24 * time.Hour
	MaxLease     = 30 * 24 * time.Hour
	MinLease     = time.Minute
	maxSecret    = 199 // W3C: hub.secret MUST be less than 200 bytes
	maxURL       = 2000
)

// Feeds renders a feed document (feeds.Service).
type Feeds interface {
	Get(ctx context.Context, format feeds.Format, rawQuery string) (*feeds.Doc, error)
}

// Options configure a Hub.
type Options struct {
	BaseURL string   // herald's public URL; topics are its feeds
	Hubs    []string // external hubs told hub.mode=publish
	Logger  *slog.Logger
	Now     func() time.Time
	// Timeout bounds one request to a subscriber or hub (default 10 s).
	Timeout time.Duration
	// Retry lists the delays after failed pushes (the last repeats);
	// default 10s, 1m, 5m, 30m, 2h, 6h; no attempt after TTL (24 h).
	Retry       []time.Duration
	TTL         time.Duration
	Poll        time.Duration // default 500 ms: pushes leave within a second of the change
	Concurrency int           // requests at once, default 16
}

// Hub is herald's WebSub hub.
type Hub struct {
	db       *store.DB
	client   *outbound.Client
	releases *releases.Service
	feeds    Feeds
	opts     Options
	log      *slog.Logger
	rounds   int
}

// New returns the hub.
func New(db *store.DB, client *outbound.Client, rel *releases.Service, fd Feeds, opts Options) *Hub {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if len(opts.Retry) == 0 {
		opts.Retry = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}
	}
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	return &Hub{db: db, client: client, releases: rel, feeds: fd, opts: opts, log: opts.Logger}
}

// URL is the hub's own URL (rel="hub" of every feed).
func (h *Hub) URL() string { return h.opts.BaseURL + feeds.HubPath }

func (h *Hub) now() time.Time { return h.opts.Now().UTC().Truncate(time.Millisecond) }

// Request is a subscription request as POSTed to the hub (form fields
// hub.mode, hub.topic, hub.callback, hub.lease_seconds, hub.secret).
type Request struct {
	Mode, Topic, Callback, LeaseSeconds, Secret string
}

func invalid(field, format string, args ...any) error {
	return &releases.ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func badText(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Submit checks a subscription request and queues its intent verification
// (the caller answers 202 Accepted). Errors are *releases.ValidationError
// naming the hub.* field (the caller answers 4xx); nothing is queued then.
func (h *Hub) Submit(ctx context.Context, r Request) error {
	if r.Mode != "subscribe" && r.Mode != "unsubscribe" {
		return invalid("hub.mode", "must be subscribe or unsubscribe")
	}
	if _, _, err := h.parseTopic(ctx, r.Topic); err != nil {
		return err
	}
	cb := r.Callback
	switch {
	case cb == "":
		return invalid("hub.callback", "is required")
	case len(cb) > maxURL || badText(cb):
		return invalid("hub.callback", "must be an http or https URL of at most %d characters", maxURL)
	case outbound.CheckURL(cb) != nil || strings.Contains(cb, "#"):
		return invalid("hub.callback", "must be an absolute http or https URL without user name, password or fragment")
	case outbound.IsSelf(cb, h.opts.BaseURL):
		return invalid("hub.callback", "must not point at herald itself")
	}
	lease := DefaultLease
	if s := strings.TrimSpace(r.LeaseSeconds); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return invalid("hub.lease_seconds", "must be a positive whole number of seconds")
		}
		lease = min(max(time.Duration(min(n, int64(MaxLease/time.Second)))*time.Second, MinLease), MaxLease)
	}
	if len(r.Secret) > maxSecret || badText(r.Secret) {
		return invalid("hub.secret", "must be text of fewer than 200 bytes")
	}
	now := h.now()
	j := store.WebSubJob{Kind: store.WebSubVerify, Topic: r.Topic, Callback: cb, Mode: r.Mode, Secret: r.Secret,
		LeaseSeconds: int(lease / time.Second), ExpiresAt: now.Add(h.opts.TTL)}
	if r.Mode == "unsubscribe" {
		j.Secret, j.LeaseSeconds = "", 0
	}
	if err := h.db.EnqueueWebSubVerify(ctx, j, now); err != nil {
		return err
	}
	h.log.Info("websub request accepted", "mode", r.Mode, "topic", r.Topic)
	return nil
}

// parseTopic checks that topic is one of herald's feeds (any filters) and
// returns its format and query.
func (h *Hub) parseTopic(ctx context.Context, topic string) (feeds.Format, string, error) {
	if topic == "" {
		return 0, "", invalid("hub.topic", "is required")
	}
	if len(topic) > maxURL || badText(topic) {
		return 0, "", invalid("hub.topic", "is not a feed of this site")
	}
	rest, ok := strings.CutPrefix(topic, h.opts.BaseURL)
	u, err := url.Parse(rest)
	if !ok || err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" {
		return 0, "", invalid("hub.topic", "is not a feed of this site: topics are %s/feed.rss, /feed.atom or /feed.json with any filters", h.opts.BaseURL)
	}
	format, ok := feeds.FormatOf(u.Path)
	if !ok {
		return 0, "", invalid("hub.topic", "is not a feed of this site: topics are %s/feed.rss, /feed.atom or /feed.json with any filters", h.opts.BaseURL)
	}
	tax, err := h.releases.Taxonomy(ctx)
	if err != nil {
		return 0, "", err
	}
	if _, err := feeds.ParseFilter(u.RawQuery, tax); err != nil {
		return 0, "", invalid("hub.topic", "is not a feed of this site: %v", err)
	}
	return format, u.RawQuery, nil
}

func challenge() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
