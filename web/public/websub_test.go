package public

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"herald/feeds"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store/storetest"
	"herald/templates"
	"herald/web/ui"
	"herald/websub"
)

// TestHubHTTP_Accepted covers W3C WebSub 5.1.2 at the endpoint: an
// accepted request is answered 202 and verified afterwards (R5), unknown
// parameters are ignored (R4), a request the hub cannot process gets 400
// with a reason (R2).
func TestHubHTTP_Accepted(t *testing.T) {
	const base = "https://press.example.org"
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	fd := feeds.New(feeds.Options{SiteName: "Press Office", BaseURL: base}, rel, db)
	hub := websub.New(db, outbound.New(outbound.Options{AllowPrivate: true}), rel, fd, websub.Options{BaseURL: base})
	site, err := New(Options{SiteName: "Press Office", BaseURL: base}, Deps{Templates: templates.Embedded(), Static: staticFiles(t), Hub: hub})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	site.Register(mux)
	srv := httptest.NewServer(ui.SecurityHeaders(mux))
	defer srv.Close()
	verified := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verified <- r.URL.Query()
		w.Write([]byte(r.URL.Query().Get("hub.challenge")))
	}))
	defer cb.Close()

	post := func(body, ctype string) (int, string) {
		resp, err := http.Post(srv.URL+"/websub", ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {base + "/feed.rss?topic=migration"}, "hub.callback": {cb.URL},
		"hub.extension": {"ignored"}}
	if code, body := post(form.Encode(), "application/x-www-form-urlencoded"); code != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	select {
	case <-verified:
		t.Fatal("verified before the answer was sent: must be asynchronous")
	default:
	}
	if _, err := hub.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q := <-verified; q.Get("hub.mode") != "subscribe" {
		t.Fatalf("verification %v", q)
	}
	form.Set("hub.topic", "https://elsewhere.example.org/feed.rss")
	if code, body := post(form.Encode(), "application/x-www-form-urlencoded"); code != http.StatusBadRequest || !strings.Contains(body, "hub.topic") {
		t.Fatalf("foreign topic: %d %s", code, body)
	}
	if code, _ := post(strings.Repeat("a", 70<<10), "application/x-www-form-urlencoded"); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", code)
	}
	if resp, _ := http.Get(srv.URL + "/websub"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /websub: %d", resp.StatusCode)
	}
}
