package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/store"
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

func TestAdmin_EditSource(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	csrf := s.login()
	r := s.post("/admin/sources", url.Values{"csrf": {csrf}, "url": {"https://cms.example.org/feed.xml"}, "mode": {"draft"},
		"topics": {"migration"}, "interval": {"15m"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", r.status, r.body)
	}
	page := s.get("/admin/sources?id=1")
	if !strings.Contains(page.body, `action="/admin/sources/1"`) || !strings.Contains(page.body, `name="enabled" value="1" checked`) {
		t.Fatalf("no edit form:\n%s", page.body)
	}
	edit := url.Values{"csrf": {csrf}, "url": {"https://cms.example.org/en/feed.xml"}, "mode": {"publish"}, "topics": {"migration, children"},
		"regions": {"europe"}, "category_map": {"Asile = migration\r\n\r\nEnfants = children"}, "interval": {"30m"}}
	// A forged CSRF token changes nothing.
	forged := url.Values{}
	for k, v := range edit {
		forged[k] = v
	}
	forged.Set("csrf", "forged")
	if r := s.post("/admin/sources/1", forged); r.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", r.status)
	}
	// Invalid input is refused with the reason, the form keeps what was typed.
	bad := url.Values{}
	for k, v := range edit {
		bad[k] = v
	}
	bad.Set("category_map", "Asile = nowhere")
	if r := s.post("/admin/sources/1", bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "category_map") ||
		!strings.Contains(r.body, "Asile = nowhere") {
		t.Fatalf("bad edit: %d\n%s", r.status, r.body)
	}
	if r := s.post("/admin/sources/1", edit); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.status, r.body)
	}
	src, err := s.sources.Get(context.Background(), 1)
	if err != nil || src.URL != "https://cms.example.org/en/feed.xml" || src.Mode != "publish" || src.Enabled ||
		strings.Join(src.Topics, ",") != "migration,children" || strings.Join(src.Regions, ",") != "europe" ||
		src.CategoryMap["enfants"] != "children" || src.Interval != 30*time.Minute {
		t.Fatalf("after the edit %+v %v", src, err)
	}
	if page := s.get("/admin/sources"); !strings.Contains(page.body, "publish (paused)") {
		t.Fatalf("list does not show the pause:\n%s", page.body)
	}
	if r := s.post("/admin/sources/999", edit); r.status != http.StatusNotFound {
		t.Fatalf("edit of a missing source: %d", r.status)
	}
	entries, err := s.db.ListAudit(context.Background(), store.AuditQuery{Action: "source.update", Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].Target != "source:1" {
		t.Fatalf("audit %+v %v", entries, err)
	}
}
