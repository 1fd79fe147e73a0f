// Package feeds owns herald's syndication documents (SPEC 3): RSS 2.0,
// Atom 1.0, JSON Feed 1.1 and OPML 2.0 bytes for any filter, their ETags, and
// the cache of rendered and pre-compressed bytes that lets herald answer feed
// readers' constant polling without touching the database. It builds on
// gorilla/feeds and the releases package, and never imports net/http: the
// web package turns a Doc into an HTTP response.
package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"herald/releases"
	"herald/store"
)

// Lister reads releases; *store.DB is one.
type Lister interface {
	ReleaseList(ctx context.Context, f store.ReleaseFilter) ([]store.Release, error)
}

// Options configures the feeds service.
type Options struct {
	SiteName string // HERALD_SITE_NAME, in feed titles
	BaseURL  string // HERALD_BASE_URL, in every link
	// MaxBytes bounds the memory of the cache (rendered plus gzip bytes);
	// default 64 MiB. MaxEntries bounds the number of cached documents;
	// default 2048. The least recently used documents are dropped first.
	MaxBytes   int64
	MaxEntries int
	Logger     *slog.Logger
}

// Defaults of Options.
const (
	DefaultMaxBytes   = 64 << 20
	DefaultMaxEntries = 2048
)

// buildTimeout bounds one rendering; it is detached from the request that
// triggered it, since other requests wait for the same result.
const buildTimeout = 15 * time.Second

// Doc is one rendered feed document, immutable and shared by every request
// that asks for it.
type Doc struct {
	Format Format
	Body   []byte // the document
	Gzip   []byte // Body, gzip-compressed
	// ETag is the strong entity tag of Body, GzipETag of Gzip; both derive
	// from the bytes, so they change exactly when the document does.
	ETag, GzipETag string
	// LastModified is when the document last changed, to the second; zero
	// when unknown (an empty feed seen for the first time).
	LastModified time.Time
	Items        int // releases listed
}

// Service renders feeds and caches them per (format, normalized filter).
// A cached document is reused for as long as releases.Service.Version is
// unchanged; after a change it is rendered again, and kept (with its ETag
// and Last-Modified) when the new bytes are the same, so that an embargoed
// or draft release changes nothing that a reader sees before it goes live.
type Service struct {
	site       site
	rel        *releases.Service
	db         Lister
	log        *slog.Logger
	maxBytes   int64
	maxEntries int

	mu      sync.RWMutex
	aliases map[aliasKey]*slot // raw query string -> slot, so hits skip parsing
	slots   map[slotKey]*slot
	bytes   int64
	clock   atomic.Int64 // recency clock for eviction; advanced by every build

	taxMu      sync.Mutex
	tax        *releases.Taxonomy
	taxVersion int64
}

type aliasKey struct {
	format Format
	raw    string
}

type slotKey struct {
	format Format
	query  string // Filter.Query()
}

// slot is the cache entry of one (format, filter).
type slot struct {
	key     slotKey
	filter  Filter
	build   sync.Mutex              // one rendering at a time
	state   atomic.Pointer[version] // nil until the first rendering
	used    atomic.Int64            // Service.clock when last served
	size    int64                   // bytes accounted; guarded by Service.mu
	aliases []aliasKey              // guarded by Service.mu
	evicted bool                    // guarded by Service.mu
	gone    atomic.Bool             // evicted, for readers without the lock
}

// version is a document and the releases version it is current for.
type version struct {
	v   int64
	doc *Doc
}

// New returns the feeds service. rel supplies the change counter, the
// taxonomy and the clock; db lists releases.
func New(opts Options, rel *releases.Service, db Lister) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	return &Service{
		site:       site{name: opts.SiteName, baseURL: strings.TrimRight(opts.BaseURL, "/")},
		rel:        rel,
		db:         db,
		log:        opts.Logger,
		maxBytes:   opts.MaxBytes,
		maxEntries: opts.MaxEntries,
		aliases:    map[aliasKey]*slot{},
		slots:      map[slotKey]*slot{},
	}
}

// Get returns the document of format for a query string (topic, region,
// lang, limit; see ParseFilter). A *QueryError reports a query herald
// cannot answer. The cache hit path takes a read lock and two atomic loads.
func (s *Service) Get(ctx context.Context, format Format, rawQuery string) (*Doc, error) {
	doc, _, err := s.GetStamped(ctx, format, rawQuery)
	return doc, err
}

// Stamp vouches that a document is the one Get returns, for as long as
// Current says so: caches of answers built from the document (the HTTP
// fast path) ask it before every use.
type Stamp struct {
	s  *Service
	sl *slot
	st *version // nil: the document was not current when served
}

// Current reports whether Get would still return the stamped document
// from its cache, without rendering: the releases version is the one the
// document was rendered for, the slot still holds it and was not evicted.
// It counts as a use of the document for the cache's eviction order.
func (t Stamp) Current() bool {
	if t.st == nil || t.sl.state.Load() != t.st || t.st.v != t.s.rel.Version() || t.sl.gone.Load() {
		return false
	}
	if c := t.s.clock.Load(); t.sl.used.Load() != c {
		t.sl.used.Store(c)
	}
	return true
}

// Same reports whether two stamps vouch for the same cached state.
func (t Stamp) Same(o Stamp) bool { return t.st != nil && t.st == o.st && t.sl == o.sl }

// GetStamped is Get, with the stamp of the document returned.
func (s *Service) GetStamped(ctx context.Context, format Format, rawQuery string) (*Doc, Stamp, error) {
	v := s.rel.Version()
	s.mu.RLock()
	sl := s.aliases[aliasKey{format, rawQuery}]
	s.mu.RUnlock()
	if sl == nil {
		var err error
		if sl, err = s.slotFor(ctx, format, rawQuery, v); err != nil {
			return nil, Stamp{}, err
		}
	} else if st := sl.state.Load(); st != nil && st.v == v {
		if c := s.clock.Load(); sl.used.Load() != c {
			sl.used.Store(c)
		}
		return st.doc, Stamp{s, sl, st}, nil
	}
	doc, st, err := s.refresh(ctx, sl)
	return doc, Stamp{s, sl, st}, err
}

// slotFor parses a query string and finds or creates its cache slot.
func (s *Service) slotFor(ctx context.Context, format Format, raw string, v int64) (*slot, error) {
	tax, err := s.taxonomy(ctx, v)
	if err != nil {
		return nil, err
	}
	f, err := ParseFilter(raw, tax)
	if err != nil {
		return nil, err
	}
	if format == OPML {
		f = Filter{Langs: f.Langs} // the list names feeds; only languages narrow it
	}
	key := slotKey{format, f.Query()}
	ak := aliasKey{format, raw}
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slots[key]
	if sl == nil {
		sl = &slot{key: key, filter: f}
		s.slots[key] = sl
	}
	if len(s.aliases) >= 4*s.maxEntries {
		clear(s.aliases) // spellings of queries are unbounded; forget them all
		for _, x := range s.slots {
			x.aliases = x.aliases[:0]
		}
	}
	s.aliases[ak] = sl
	sl.aliases = append(sl.aliases, ak)
	return sl, nil
}

// taxonomy returns the taxonomy, asking the releases service (and so the
// database) only when the releases version moved: taxonomy writes move it.
func (s *Service) taxonomy(ctx context.Context, v int64) (*releases.Taxonomy, error) {
	s.taxMu.Lock()
	defer s.taxMu.Unlock()
	if s.tax != nil && s.taxVersion == v {
		return s.tax, nil
	}
	tax, err := s.rel.Taxonomy(ctx)
	if err != nil {
		return nil, err
	}
	s.tax, s.taxVersion = tax, v
	return tax, nil
}

// refresh renders the slot's document again unless another request just
// did. When the database fails and an older document exists, the older one
// is served and the error logged.
// It returns the slot's state that holds the document, nil when the
// document served is not current (the older one, after a failure).
func (s *Service) refresh(ctx context.Context, sl *slot) (*Doc, *version, error) {
	sl.build.Lock()
	defer sl.build.Unlock()
	v := s.rel.Version() // read before the query: a later change renders again
	old := sl.state.Load()
	if old != nil && old.v == v {
		return old.doc, old, nil
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), buildTimeout)
	defer cancel()
	start := time.Now()
	doc, err := s.render(bctx, sl, v, old)
	if err != nil {
		if old != nil {
			s.log.Error("feed rendering failed; serving the previous document", "format", sl.key.format.String(), "err", err)
			return old.doc, nil, nil
		}
		return nil, nil, err
	}
	st := &version{v: v, doc: doc}
	sl.state.Store(st)
	if old != nil && old.doc == doc {
		return doc, st, nil
	}
	s.account(sl, int64(len(doc.Body)+len(doc.Gzip)+512))
	s.log.Debug("feed rendered", "format", sl.key.format.String(), "query", sl.key.query,
		"items", doc.Items, "bytes", len(doc.Body), "gzip_bytes", len(doc.Gzip), "duration", time.Since(start))
	return doc, st, nil
}

// render lists the slot's releases and writes its document; it returns the
// old document itself when the bytes did not change.
func (s *Service) render(ctx context.Context, sl *slot, v int64, old *version) (*Doc, error) {
	tax, err := s.taxonomy(ctx, v)
	if err != nil {
		return nil, err
	}
	body, items, newest, err := s.document(ctx, sl.key.format, sl.filter, tax)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	etag := `"` + tag + `"`
	if old != nil && old.doc.ETag == etag {
		return old.doc, nil
	}
	lm := newest.Truncate(time.Second)
	if old != nil {
		// The document changed, perhaps by losing an item (a deletion, an
		// edit), which no item's time would show: it changed now.
		if now := s.rel.Now().UTC().Truncate(time.Second); now.After(lm) {
			lm = now
		}
	}
	gz, err := compress(body)
	if err != nil {
		return nil, err
	}
	return &Doc{Format: sl.key.format, Body: body, Gzip: gz, ETag: etag, GzipETag: `"` + tag + `-gzip"`,
		LastModified: lm, Items: items}, nil
}

// document renders format for f at this moment: the bytes, the number of
// releases listed, and the newest item time.
func (s *Service) document(ctx context.Context, format Format, f Filter, tax *releases.Taxonomy) ([]byte, int, time.Time, error) {
	if format == OPML {
		b, err := opml(s.site, f, tax)
		return b, 0, time.Time{}, err
	}
	rs, err := s.db.ReleaseList(ctx, LiveFilter(f, tax, s.rel.Now()))
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	ch := newChannel(s.site, format, f, tax, rs)
	var b []byte
	switch format {
	case RSS:
		b, err = ch.rss(s.site)
	case Atom:
		b, err = ch.atom(s.site)
	case JSON:
		b, err = ch.json(s.site)
	default:
		err = fmt.Errorf("feeds: unknown format %d", format)
	}
	return b, len(rs), ch.updated, err
}

// LiveFilter is the store query of a feed: the live releases that a
// subscriber with f's topics and regions would be sent (SPEC 2, "a feed is
// a subscription you poll"), in any of f's languages, newest first.
func LiveFilter(f Filter, tax *releases.Taxonomy, now time.Time) store.ReleaseFilter {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return store.ReleaseFilter{
		Topics:          f.Topics,
		Regions:         tax.Expand(f.Regions),
		GlobalInRegions: true,
		Langs:           f.Langs,
		Status:          "live",
		LiveAt:          now,
		Limit:           limit,
	}
}

func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b) / 3)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("feeds: gzip: %w", err)
	}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("feeds: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("feeds: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// account records a slot's new size and evicts the least recently served
// documents while the cache is over its bounds. The slot just rendered is
// kept even when it alone is over the byte bound.
func (s *Service) account(sl *slot, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.used.Store(s.clock.Add(1))
	if sl.evicted {
		return
	}
	s.bytes += size - sl.size
	sl.size = size
	for s.bytes > s.maxBytes || len(s.slots) > s.maxEntries {
		var victim *slot
		for _, x := range s.slots {
			if x != sl && (victim == nil || x.used.Load() < victim.used.Load()) {
				victim = x
			}
		}
		if victim == nil {
			return
		}
		s.evict(victim)
	}
}

// evict drops a slot and the query spellings that lead to it; s.mu is held.
func (s *Service) evict(sl *slot) {
	delete(s.slots, sl.key)
	for _, ak := range sl.aliases {
		if s.aliases[ak] == sl {
			delete(s.aliases, ak)
		}
	}
	s.bytes -= sl.size
	sl.size, sl.aliases, sl.evicted = 0, nil, true
	sl.gone.Store(true)
}

// Stats are the cache's current figures.
type Stats struct {
	Entries int
	Bytes   int64
}

// Stats reports the cache's size.
func (s *Service) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{Entries: len(s.slots), Bytes: s.bytes}
}

// URL is the path and canonical query of a feed, relative to the site
// ("/feed.rss?topic=migration"), for links in pages.
func (f Format) URL(q Filter) string { return withQuery(f.Path(), q.Query()) }
