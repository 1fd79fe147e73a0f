package public

import (
	"bytes"
	"net/http"
	"strings"

	"herald/feeds"
	"herald/web/fastpath"
)

// fastFeed is the fast path's entry of one feed target (path and query):
// the four answers of its document, plain or gzip, 200 or 304, with the
// header lines net/http wrote for them. It answers only while the feed
// cache vouches that the document is the one the handler would serve.
type fastFeed struct {
	stamp feeds.Stamp
	doc   *feeds.Doc
	resp  [2][2]fastpath.Response // [gzip][not modified]
}

func (f *fastFeed) Current() bool { return f.stamp.Current() }

// Answer chooses as the handler does: acceptsGzip and the preconditions
// of notModified, on the same header values.
func (f *fastFeed) Answer(req *fastpath.Request) *fastpath.Response {
	gz := acceptsGzip(req.AcceptEncoding)
	nm := unchanged(req.IfNoneMatch, req.IfNoneMatch != nil, req.IfModifiedSince, f.doc)
	return &f.resp[b2i(gz)][b2i(nm)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// needsFastEntry reports whether r's target should get a (new) fast entry:
// an origin-form target whose entry, if any, holds another document.
func (s *Site) needsFastEntry(r *http.Request, stamp feeds.Stamp) bool {
	if !strings.HasPrefix(r.RequestURI, "/") || !stamp.Current() {
		return false
	}
	e, ok := s.deps.Fast.Get(r.RequestURI).(*fastFeed)
	return !ok || !e.stamp.Same(stamp)
}

// recordFast stores the answers of r's target, built from base (the
// headers the middleware set before the handler ran) exactly as the
// handler builds them, and written as net/http writes them: the status
// line, the header lines sorted by name, without what net/http adds
// itself (Date, and Connection: close when the client asks).
func (s *Site) recordFast(r *http.Request, stamp feeds.Stamp, wh *wireHeaders, base http.Header) {
	for _, k := range []string{"Date", "Connection", "Transfer-Encoding", "Trailer", "Content-Length", "Content-Type"} {
		if _, ok := base[k]; ok {
			return // net/http would write these otherwise; leave it to it
		}
	}
	e := &fastFeed{stamp: stamp, doc: wh.doc}
	for gz := range 2 {
		for nm := range 2 {
			h := base.Clone()
			status, body := wh.set(h, gz == 1, nm == 1)
			var b bytes.Buffer
			b.WriteString(fastpath.StatusLine(status))
			if err := h.Write(&b); err != nil {
				return
			}
			e.resp[gz][nm] = fastpath.Response{Head: b.Bytes(), Body: body, Status: status, Route: r.Pattern}
		}
	}
	s.deps.Fast.Put(r.RequestURI, e)
}
