package public

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
	"herald/templates"
	"herald/web/ui"
)

// fullSite is every public page on one real database (the engine the
// environment selects): releases, feeds, subscription pages and static
// files, through the middleware of `herald serve`.
type fullSite struct {
	srv  *httptest.Server
	rel  *releases.Service
	subs *subscribers.Service
	db   *store.DB
}

func newFullSite(t testing.TB) *fullSite {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	c := &siteClock{t: siteT0}
	rel := releases.New(db, releases.Options{Now: c.Now})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	subs, err := subscribers.New(db, rel, subscribers.Options{Secret: []byte("0123456789abcdef0123456789abcdef"),
		BaseURL: siteBase, DefaultTimezone: "UTC", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	static := staticFiles(t)
	w, err := New(Options{SiteName: "Press Office", BaseURL: siteBase}, Deps{
		Templates: templates.Embedded(), Static: static, Subscribers: subs,
		Releases: rel, Store: db,
		Feeds: feeds.New(feeds.Options{SiteName: "Press Office", BaseURL: siteBase}, rel, db),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", static)
	w.Register(mux)
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(ui.Instrument(prometheus.NewRegistry(), log, ui.Recover(log, ui.SecurityHeaders(mux))))
	t.Cleanup(srv.Close)
	return &fullSite{srv: srv, rel: rel, subs: subs, db: db}
}

// publicPages are the paths of every kind of public page, with the key of
// the words each one must show; the site gets the releases and the
// subscriber they need.
func (s *fullSite) publicPages(t testing.TB) []struct{ path, key string } {
	t.Helper()
	ctx := context.Background()
	body := "وصل أكثر من **عشرة آلاف** مهاجر إلى سواحل اليمن هذا الشهر.\n\nتقدم الفرق المساعدة في عدن."
	topics := releases.List{"migration"}
	ar := releases.Input{Title: feedStr("اليمن: ارتفاع عدد المهاجرين القادمين من القرن الأفريقي"), Body: &body,
		Language: feedStr("ar"), Dateline: feedStr("عدن"), TranslationKey: feedStr("yemen"), Topics: &topics, Slug: feedStr("yemen-ar"),
		Contacts: &[]store.Contact{{Name: "مكتب الإعلام", Email: "media@example.org", Phone: "+967 1 000 000"}}}
	if _, err := s.rel.Create(ctx, ar); err != nil {
		t.Fatal(err)
	}
	enBody := "More than **ten thousand** migrants reached the coast of Yemen this month.\n\nTeams help in Aden."
	en := releases.Input{Title: feedStr("Yemen: arrivals from the Horn of Africa rise"), Body: &enBody, Language: feedStr("en"),
		Dateline: feedStr("Aden"), TranslationKey: feedStr("yemen"), Topics: &topics, Slug: feedStr("yemen-en")}
	if _, err := s.rel.Create(ctx, en); err != nil {
		t.Fatal(err)
	}
	sub, err := s.subs.Add(ctx, subscribers.AddRequest{Email: "reader@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	tok := s.subs.Tokens()
	return []struct{ path, key string }{
		{"/", "latest_intro"},
		{"/releases/yemen-ar", "topics"},
		{"/releases/yemen-en", "topics"},
		{"/releases/no-such-release", "err_release_not_found"},
		{"/subscribe", "sub_intro"},
		{"/confirm?token=" + tok.Make(subscribers.PurposeConfirm, sub.ID), "sub_confirm_text"},
		{"/preferences?token=" + tok.Make(subscribers.PurposePreferences, sub.ID), "sub_prefs_title"},
		{"/preferences/delete?token=" + tok.Make(subscribers.PurposePreferences, sub.ID), "sub_delete_text"},
		{"/unsubscribe?token=" + tok.Make(subscribers.PurposeUnsubscribe, sub.ID), "sub_unsubscribe_text"},
		{"/confirm?token=forged", "sub_bad_link"}, // the message page
	}
}

func join(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

// TestPublicPages_EveryLanguage asks for every public page in every
// language with ?lang= and finds the page's words, <html lang dir> and the
// language switcher in it (SPEC 10).
func TestPublicPages_EveryLanguage(t *testing.T) {
	s := newFullSite(t)
	pages := s.publicPages(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, l := range ui.PageLanguages {
		for _, p := range pages {
			resp, err := client.Get(s.srv.URL + join(p.path, "lang="+l.Code))
			if err != nil {
				t.Fatal(err)
			}
			b := readAll(t, resp)
			page := html.UnescapeString(b)
			want := `<html lang="` + l.Code + `">`
			if l.Code == "ar" {
				want = `<html lang="ar" dir="rtl">`
			}
			if !strings.Contains(b, want) {
				t.Errorf("%s in %s: no %s", p.path, l.Code, want)
			}
			if words := ui.T(l.Code, p.key); !strings.Contains(page, words) {
				t.Errorf("%s in %s: lacks %q", p.path, l.Code, words)
			}
			if !strings.Contains(b, `<nav class="langs" aria-label="`+html.EscapeString(ui.T(l.Code, "page_language"))+`">`) ||
				!strings.Contains(b, `lang="`+l.Code+`" hreflang="`+l.Code+`" aria-current="true"`) {
				t.Errorf("%s in %s: no language switcher marking the language", p.path, l.Code)
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Language") {
				t.Errorf("%s: Vary %q", p.path, resp.Header.Get("Vary"))
			}
		}
	}
}

// TestPublicPages_SwitcherCookieThenAcceptLanguage follows the order of
// SPEC 10: ?lang= sets the cookie, the cookie beats Accept-Language, and
// Accept-Language serves a visitor who chose nothing.
func TestPublicPages_SwitcherCookieThenAcceptLanguage(t *testing.T) {
	s := newFullSite(t)
	s.publicPages(t)
	get := func(path, cookie, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: ui.LangCookie, Value: cookie})
		}
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readAll(t, resp)
	}
	if _, b := get("/", "", "es-MX,es;q=0.9"); !strings.Contains(b, `<html lang="es">`) || !strings.Contains(b, ui.T("es", "latest_intro")) {
		t.Error("Accept-Language es-MX did not give the Spanish home page")
	}
	if _, b := get("/", "", "ar-EG"); !strings.Contains(b, `<html lang="ar" dir="rtl">`) {
		t.Error("Accept-Language ar-EG did not give the Arabic home page")
	}
	resp, _ := get("/subscribe?lang=ar", "", "fr")
	var chosen *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == ui.LangCookie {
			chosen = c
		}
	}
	if chosen == nil || chosen.Value != "ar" {
		t.Fatalf("?lang=ar set no cookie: %v", resp.Cookies())
	}
	for _, path := range []string{"/", "/subscribe", "/releases/yemen-en"} {
		if _, b := get(path, chosen.Value, "fr"); !strings.Contains(b, `<html lang="ar" dir="rtl">`) {
			t.Errorf("%s with the cookie is not in Arabic", path)
		}
	}
	// The English release in an Arabic page keeps its own language and
	// direction; the page's words are Arabic.
	_, b := get("/releases/yemen-en", "ar", "")
	if !strings.Contains(b, `<h1 lang="en" dir="ltr">Yemen: arrivals`) || !strings.Contains(b, `class="body" lang="en" dir="ltr"`) ||
		!strings.Contains(b, ui.T("ar", "back_home")) {
		t.Error("an English release in an Arabic page is not marked ltr")
	}
	// The home page is cached per language: French after Arabic.
	if _, b := get("/", "", "fr"); !strings.Contains(b, `<html lang="fr">`) || !strings.Contains(b, ui.T("fr", "latest_intro")) {
		t.Error("the French home page came from the Arabic one's cache")
	}
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
