package public

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures herald's handlers rather than a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

// BenchmarkFeedHandler measures a cache hit through the whole public
// handler chain (metrics, recovery, security headers, ServeMux, feed
// handler) for the three cases of bench/feeds.sh.
func BenchmarkFeedHandler(b *testing.B) {
	s := newFeedSite(b)
	for i := range 60 {
		in := releasesInput(fmt.Sprintf("Release %d about migration", i))
		in.Body = feedStr(strings.Repeat("Text of the release. ", 30))
		in.PublishedAt = feedStr(siteT0.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339))
		s.add(b, in)
	}
	probe := httptest.NewRecorder()
	s.h.ServeHTTP(probe, httptest.NewRequest("GET", "/feed.rss", nil))
	etag := probe.Header().Get("ETag")
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"plain", nil, 200},
		{"gzip", map[string]string{"Accept-Encoding": "gzip"}, 200},
		{"304", map[string]string{"If-None-Match": etag}, 304},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", "/feed.rss", nil)
				for k, v := range c.headers {
					req.Header.Set(k, v)
				}
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					s.h.ServeHTTP(w, req)
					if w.status != c.want {
						b.Errorf("status %d, want %d", w.status, c.want)
						return
					}
				}
			})
		})
	}
}
