package public

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"herald/feeds"
	"herald/web/ui"
)

// feedCacheControl lets readers and proxies reuse a feed for a minute; after
// that they revalidate with the ETag, which costs herald almost nothing.
const feedCacheControl = "public, max-age=60"

// Header values shared by every feed response; net/http only reads them.
var (
	hdrCacheControl = []string{feedCacheControl}
	hdrVary         = []string{"Accept-Encoding"}
	hdrGzip         = []string{"gzip"}
)

// wireHeaders are the header values of one document, built once and then
// shared by every response that serves it.
type wireHeaders struct {
	doc                      *feeds.Doc
	etag, gzipETag, lastMod  []string
	length, gzipLength, ctyp []string
}

func newWireHeaders(doc *feeds.Doc, contentType []string) *wireHeaders {
	w := &wireHeaders{
		doc: doc, etag: []string{doc.ETag}, gzipETag: []string{doc.GzipETag}, ctyp: contentType,
		length: []string{strconv.Itoa(len(doc.Body))}, gzipLength: []string{strconv.Itoa(len(doc.Gzip))},
	}
	if !doc.LastModified.IsZero() {
		w.lastMod = []string{doc.LastModified.UTC().Format(http.TimeFormat)}
	}
	return w
}

// feed serves one feed format (SPEC 3): the cached document for the query,
// gzip-encoded when the client accepts it, 304 when the client's copy is
// current. HEAD is answered by the same route (ServeMux matches GET
// patterns for HEAD) without a body. The header values of the document
// served last are kept, so that polls of a popular feed allocate little.
// With the fast path on, the answers to the request's target are recorded
// for it (see fast.go) the first time a document is served there.
func (s *Site) feed(format feeds.Format) ui.HandlerFunc {
	contentType := []string{format.ContentType()}
	var last atomic.Pointer[wireHeaders]
	return func(w http.ResponseWriter, r *http.Request) error {
		doc, stamp, err := s.deps.Feeds.GetStamped(r.Context(), format, r.URL.RawQuery)
		if err != nil {
			return err
		}
		wh := last.Load()
		if wh == nil || wh.doc != doc {
			wh = newWireHeaders(doc, contentType)
			last.Store(wh)
		}
		h := w.Header()
		var base http.Header // the middleware's headers, for the fast path
		if s.deps.Fast != nil && s.needsFastEntry(r, stamp) {
			base = h.Clone()
		}
		status, body := wh.set(h, acceptsGzip(r.Header["Accept-Encoding"]), notModified(r, doc))
		w.WriteHeader(status)
		if body != nil && r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		if base != nil {
			s.recordFast(r, stamp, wh, base)
		}
		return nil
	}
}

// set writes the headers of an answer of wh's document into h, gzip or
// not, 304 or not, and returns its status and body (nil for 304). The
// handler and the fast path's recorded answers both come from here.
func (wh *wireHeaders) set(h http.Header, gz, notModified bool) (int, []byte) {
	h["Cache-Control"] = hdrCacheControl
	h["Vary"] = hdrVary
	body, etag, length := wh.doc.Body, wh.etag, wh.length
	if gz {
		body, etag, length = wh.doc.Gzip, wh.gzipETag, wh.gzipLength
	}
	h["Etag"] = etag
	if notModified {
		// RFC 9110 15.4.5: a 304 carries ETag, Vary and Cache-Control;
		// Last-Modified adds nothing beside an ETag.
		return http.StatusNotModified, nil
	}
	if wh.lastMod != nil {
		h["Last-Modified"] = wh.lastMod
	}
	h["Content-Type"] = wh.ctyp
	if gz {
		h["Content-Encoding"] = hdrGzip
	}
	h["Content-Length"] = length
	return http.StatusOK, body
}

// notModified evaluates the preconditions of a GET or HEAD (RFC 9110 13.2.2):
// If-None-Match when present (weak comparison, lists and "*"), otherwise
// If-Modified-Since against Last-Modified. Either ETag of the document
// matches: the plain and gzip bodies are the same content.
func notModified(r *http.Request, doc *feeds.Doc) bool {
	inm, ok := r.Header["If-None-Match"]
	return unchanged(inm, ok, r.Header.Get("If-Modified-Since"), doc)
}

// unchanged is notModified on the header values: every If-None-Match
// value (hasINM: the header is present) and the first If-Modified-Since.
func unchanged(inm []string, hasINM bool, ims string, doc *feeds.Doc) bool {
	if hasINM {
		for _, v := range inm {
			if etagListMatches(v, doc.ETag, doc.GzipETag) {
				return true
			}
		}
		return false
	}
	if ims == "" || doc.LastModified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !doc.LastModified.Truncate(time.Second).After(t)
}

// etagListMatches reports whether a comma-separated If-None-Match value
// names one of tags, comparing weakly (a W/ prefix is ignored).
func etagListMatches(list string, tags ...string) bool {
	for list != "" {
		var tag string
		tag, list, _ = strings.Cut(list, ",")
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		for _, t := range tags {
			if tag == t {
				return true
			}
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding allows gzip (RFC 9110
// 12.5.3): "gzip" or "x-gzip" with a q-value other than 0, or else "*"
// with one.
func acceptsGzip(values []string) bool {
	const unset, yes, no = 0, 1, 2
	explicit, star := unset, unset
	for _, v := range values {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			verdict := yes
			if qZero(params) {
				verdict = no
			}
			switch {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				if explicit != yes {
					explicit = verdict
				}
			case coding == "*":
				star = verdict
			}
		}
	}
	return explicit == yes || (explicit == unset && star == yes)
}

// qZero reports whether parameters say q=0 (also 0.0, 0.000).
func qZero(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		val = strings.TrimSpace(val)
		return strings.Trim(strings.TrimPrefix(val, "0"), ".0") == "" && strings.HasPrefix(val, "0")
	}
	return false
}
