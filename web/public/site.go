// Package public serves herald's public site: the home page, release
// pages, feeds over HTTP and the subscription pages (SPEC 3, 10). It turns
// HTTP into calls on the domain services; what it shares with the console
// (rendering, middleware, words, form widgets) lives in web/ui. It must not
// import the console (web/admin), which uses it for its previews.
package public

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/subscribers"
	"herald/web/fastpath"
	"herald/web/ui"
	"herald/websub"
)

// Options configures the public site.
type Options struct {
	SiteName string
	BaseURL  string
	Logger   *slog.Logger
	// SubscribeLimit and SubscribeBurst rate-limit POST /subscribe per
	// client IP; zero takes DefaultSubscribeLimit and DefaultSubscribeBurst.
	SubscribeLimit rate.Limit
	SubscribeBurst int
	// FormOrigins (HERALD_FORM_ORIGINS) may embed the subscribe form in a
	// frame and call POST /subscribe from their pages' scripts (CORS).
	FormOrigins []string
	// Secret signs the archive's page cursors, so that every instance
	// accepts the others' (HERALD's link secret); nil: a key of this
	// process.
	Secret []byte
}

// Defaults of the subscribe rate limit per client IP: a burst of 20 (a
// newsroom behind one address, a scripted test), then one every 2 s. The
// 10-minute limit per address is what protects inboxes.
const (
	DefaultSubscribeLimit = rate.Limit(1.0 / 2)
	DefaultSubscribeBurst = 20
)

// Deps are the services the public site uses.
type Deps struct {
	Templates fs.FS      // templates.Overlay(...): web/
	Static    *ui.Static // hashed URLs of the stylesheets and scripts
	// Subscribers serves /subscribe, /confirm, /preferences, /unsubscribe;
	// nil leaves those routes out.
	Subscribers *subscribers.Service

	Releases *releases.Service // public pages: live releases, taxonomy
	Store    Store             // lists and searches live releases
	Feeds    *feeds.Service    // feed documents; nil leaves the feed routes out
	// Limits keeps the subscribe rate limit where every instance sees it
	// (the database); nil keeps it in this process.
	Limits ui.Counter
	Hub    *websub.Hub // POST /websub; nil leaves it out
	// Media serves GET /media/{key}; nil leaves it out.
	Media MediaFiles
	// Fast receives the answers of feed requests for the connection-level
	// fast path (HERALD_FEED_FASTPATH); nil: off.
	Fast *fastpath.Cache
}

// Store reads what the newsroom shows; *store.DB is one.
type Store interface {
	feeds.Lister
	SearchReleases(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, error)
	LiveReleaseRefs(ctx context.Context, now time.Time) ([]store.ReleaseRef, error)
}

// Site holds the public handlers.
type Site struct {
	opts     Options
	log      *slog.Logger
	deps     Deps
	pages    *ui.Pages
	errs     *ui.Errors
	subLimit *ui.IPLimiter
	index    indexCache
	lists    listCache
	cursors  cursorCodec
	sitemap  docCache
}

// New returns the public site, parsing every page template; an error names
// the template that does not parse.
func New(opts Options, deps Deps) (*Site, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Static == nil {
		return nil, errors.New("web: the public site needs its static files")
	}
	if opts.SubscribeLimit <= 0 {
		opts.SubscribeLimit = DefaultSubscribeLimit
	}
	if opts.SubscribeBurst <= 0 {
		opts.SubscribeBurst = DefaultSubscribeBurst
	}
	s := &Site{opts: opts, log: opts.Logger, deps: deps, errs: ui.NewErrors(opts.Logger)}
	secret := opts.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	s.cursors = newCursorCodec(secret)
	s.subLimit = ui.NewIPLimiter(opts.SubscribeLimit, opts.SubscribeBurst)
	if deps.Limits != nil {
		s.subLimit.Shared("subscribe", deps.Limits)
	}
	var err error
	if s.pages, err = ui.ParsePages(deps.Templates, "web", template.FuncMap{"t": ui.T}); err != nil {
		return nil, err
	}
	return s, nil
}

// meta is the layout data of a page in lang, without a language switcher
// (the console's previews); pages served to visitors use page.
func (s *Site) meta(lang, title string) ui.PageMeta {
	return ui.PageMeta{Lang: lang, Dir: ui.TextDir(lang), SiteName: s.opts.SiteName, Title: title, CSS: s.deps.Static.URL("herald.css")}
}

// page is the layout data of the page answering r in lang (SPEC 10): with
// the language switcher, the choice of a ?lang= link kept in a cookie, and
// caches told that the page depends on the visitor's language.
func (s *Site) page(w http.ResponseWriter, r *http.Request, lang, title string) ui.PageMeta {
	ui.RememberLang(w, r)
	ui.VaryLang(w)
	m := s.meta(lang, title)
	m.Langs = ui.LangLinks(r.URL, lang)
	return m
}
