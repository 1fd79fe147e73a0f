package public

import (
	"net/http"

	"herald/feeds"
	"herald/web/ui"
)

// Register adds the public routes to mux; each handler returns its error
// to the responder of its kind of page (see errors.go).
func (s *Site) Register(mux *http.ServeMux) {
	if s.deps.Subscribers != nil {
		sub := func(fn ui.HandlerFunc) http.HandlerFunc {
			return s.errs.Handle(s.subscriptionError, fn)
		}
		mux.HandleFunc("GET /subscribe", s.embeddable(sub(s.subscribeForm)))
		mux.HandleFunc("POST /subscribe", s.embeddable(sub(s.subscribe)))
		mux.HandleFunc("OPTIONS /subscribe", s.preflight)
		mux.HandleFunc("GET /subscribe/challenge", s.embeddable(sub(s.challenge)))
		mux.HandleFunc("OPTIONS /subscribe/challenge", s.preflight)
		mux.HandleFunc("GET /confirm", sub(s.confirmPage))
		mux.HandleFunc("POST /confirm", sub(s.confirm))
		mux.HandleFunc("GET /preferences", sub(s.preferencesPage))
		mux.HandleFunc("POST /preferences", sub(s.preferences))
		mux.HandleFunc("GET /preferences/data", sub(s.downloadData))
		mux.HandleFunc("GET /preferences/delete", sub(s.deletePage))
		mux.HandleFunc("POST /preferences/delete", sub(s.deleteMe))
		mux.HandleFunc("GET /unsubscribe", sub(s.unsubscribePage))
		mux.HandleFunc("POST /unsubscribe", sub(s.unsubscribe))
	}
	if s.deps.Releases != nil && s.deps.Store != nil {
		mux.HandleFunc("GET /{$}", s.errs.Handle(s.pageError, s.indexPage))
		mux.HandleFunc("GET /releases/{slug}", s.errs.Handle(s.pageError, s.releasePage))
		mux.HandleFunc("GET /releases", s.errs.Handle(s.pageError, s.archivePage))
		mux.HandleFunc("GET /topics/{slug}", s.errs.Handle(s.pageError, s.topicPage))
		mux.HandleFunc("GET /regions/{slug}", s.errs.Handle(s.pageError, s.regionPage))
		mux.HandleFunc("GET /search", s.errs.Handle(s.pageError, s.searchPage))
		mux.HandleFunc("GET /sitemap.xml", s.errs.Handle(feedError, s.sitemapXML))
		mux.HandleFunc("GET /robots.txt", s.errs.Handle(feedError, s.robotsTxt))
	}
	if s.deps.Feeds != nil {
		mux.HandleFunc("GET /feed.rss", s.errs.Handle(feedError, s.feed(feeds.RSS)))
		mux.HandleFunc("GET /feed.atom", s.errs.Handle(feedError, s.feed(feeds.Atom)))
		mux.HandleFunc("GET /feed.json", s.errs.Handle(feedError, s.feed(feeds.JSON)))
		mux.HandleFunc("GET /feeds.opml", s.errs.Handle(feedError, s.feed(feeds.OPML)))
	}
	if s.deps.Media != nil {
		mux.HandleFunc("GET /media/{key}", s.errs.Handle(feedError, s.mediaFile))
	}
	if s.deps.Hub != nil {
		mux.HandleFunc("POST "+feeds.HubPath, s.errs.Handle(feedError, s.websubRequest))
	}
}
