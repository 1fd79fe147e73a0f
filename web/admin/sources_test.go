package admin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestAdmin_SourcesPage(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	cms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<rss version="2.0"><channel><title>CMS</title><item><guid>1</guid><title>From the CMS</title><description>Text</description></item></channel></rss>`))
	}))
	defer cms.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<!DOCTYPE html><html><body>Home page</body></html>`))
	}))
	defer broken.Close()
	csrf := s.login()
	// A bad form keeps what was typed and says why.
	r := s.post("/admin/sources", url.Values{"csrf": {csrf}, "url": {"ftp://x.example.org/"}, "mode": {"draft"}, "interval": {"15m"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "url:") || !strings.Contains(r.body, `value="ftp://x.example.org/"`) {
		t.Fatalf("bad source: %d\n%s", r.status, r.body)
	}
	for _, u := range []string{cms.URL, broken.URL} {
		r = s.post("/admin/sources", url.Values{"csrf": {csrf}, "url": {u}, "mode": {"draft"}, "topics": {"migration"}, "interval": {"15m"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("add %s: %d\n%s", u, r.status, r.body)
		}
	}
	r = s.post("/admin/sources/1/run", url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "1+new") {
		t.Fatalf("run now: %d %s", r.status, r.header.Get("Location"))
	}
	s.post("/admin/sources/2/run", url.Values{"csrf": {csrf}})
	page := s.get("/admin/sources?id=2")
	if page.status != 200 || !strings.Contains(page.body, "HTML page, not a feed") || !strings.Contains(page.body, cms.URL) {
		t.Fatalf("sources page: %d\n%s", page.status, page.body)
	}
	if r := s.post("/admin/sources/1/run", url.Values{"csrf": {"forged"}}); r.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", r.status)
	}
}
