package public

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"herald/internal/clocktest"
	"herald/mailer"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
	"herald/templates"
	"herald/web/ui"
)

const testBase = "https://press.example.org"

type site struct {
	t      *testing.T
	db     *store.DB
	subs   *subscribers.Service
	clock  *clocktest.Clock
	srv    *httptest.Server
	client *http.Client
}

// newSite serves the public pages over real HTTP on a real SQLite database.
func newSite(t *testing.T, burst int) *site {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	rel := releases.New(db, releases.Options{Now: clock.Now})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	subs, err := subscribers.New(db, rel, subscribers.Options{Secret: []byte("0123456789abcdef0123456789abcdef"),
		BaseURL: testBase, DefaultTimezone: "UTC", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{SiteName: "Press Office", BaseURL: testBase, SubscribeLimit: rate.Every(time.Hour), SubscribeBurst: burst},
		Deps{Templates: templates.Embedded(), Static: staticFiles(t), Subscribers: subs})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	srv := httptest.NewServer(ui.SecurityHeaders(mux))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &site{t: t, db: db, subs: subs, clock: clock, srv: srv, client: client}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (s *site) do(method, path, contentType, body string, hdr ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (s *site) get(path string, hdr ...string) reply { return s.do("GET", path, "", "", hdr...) }

func (s *site) postForm(path string, v url.Values) reply {
	return s.do("POST", path, "application/x-www-form-urlencoded", v.Encode())
}

// subscriber finds a subscriber by address.
func (s *site) subscriber(email string) (store.Subscriber, bool) {
	s.t.Helper()
	var found store.Subscriber
	ok := false
	_ = s.db.EachSubscriber(context.Background(), func(x *store.Subscriber) error {
		if x.Email == email {
			found, ok = *x, true
		}
		return nil
	})
	return found, ok
}

func (s *site) mustSubscriber(email string) store.Subscriber {
	s.t.Helper()
	sub, ok := s.subscriber(email)
	if !ok {
		s.t.Fatalf("no subscriber %s", email)
	}
	return sub
}

// lastNotice is the last confirm or manage mail queued for a subscriber.
func (s *site) lastNotice(id int64) (store.SubscriberMail, mailer.NoticeData) {
	s.t.Helper()
	mails, err := s.db.SubscriberMails(context.Background(), id)
	if err != nil || len(mails) == 0 {
		s.t.Fatalf("no mail for subscriber %d: %v", id, err)
	}
	m := mails[len(mails)-1]
	var d mailer.NoticeData
	if err := json.Unmarshal([]byte(m.Payload), &d); err != nil {
		s.t.Fatal(err)
	}
	return m, d
}

// local turns a link of a mail (on HERALD_BASE_URL) into a path on the
// test server.
func local(t *testing.T, link string) string {
	t.Helper()
	if !strings.HasPrefix(link, testBase+"/") {
		t.Fatalf("link %q is not on the base URL", link)
	}
	return strings.TrimPrefix(link, testBase)
}

func checkPage(t *testing.T, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
	// CSP-compatible: no inline script, no inline style, no event handlers,
	// no external assets.
	for _, re := range []string{`<script[^>]*>\s*[^<\s]`, `\sstyle=`, `\son[a-z]+=`, `(?:src|href)="(?:https?:)?//`} {
		if m := regexp.MustCompile(re).FindString(r.body); m != "" {
			t.Fatalf("page has %q", m)
		}
	}
	if strings.Count(r.body, "<script") != strings.Count(r.body, "<script src=\"/static/") {
		t.Fatal("a script is not one of herald's own files")
	}
}

func TestSubscribeFlow(t *testing.T) {
	s := newSite(t, 100)
	page := s.get("/subscribe")
	checkPage(t, page, http.StatusOK)
	for _, want := range []string{`name="email"`, `type="email"`, `<label for="email">`, `<legend>Topics</legend>`,
		`value="migration"`, `<details`, `value="argentina"`, `name="cadence" value="weekly"`, `<select id="timezone" name="timezone"`,
		`data-detect="1"`, `<optgroup label="Europe">`, `/static/subscribe.`} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("form lacks %q", want)
		}
	}
	// Countries are nested under their region.
	if i, j := strings.Index(page.body, `value="americas"`), strings.Index(page.body, `value="argentina"`); i < 0 || j < i || strings.Index(page.body, `value="africa"`) < j {
		t.Fatal("argentina is not listed under americas")
	}

	r := s.postForm("/subscribe", url.Values{"email": {"Ana@Example.org"}, "topics": {"migration", "refugees"},
		"regions": {"argentina"}, "language": {"es"}, "cadence": {"weekly"}, "timezone": {"America/Argentina/Buenos_Aires"}})
	checkPage(t, r, http.StatusOK)
	if !strings.Contains(r.body, `lang="es"`) || !strings.Contains(r.body, "Revise su bandeja de entrada") {
		t.Fatalf("the answer is not in the chosen language:\n%s", r.body)
	}
	sub := s.mustSubscriber("Ana@example.org")
	if sub.Status != store.SubscriberPending || sub.ConsentIP != "127.0.0.1" || sub.ConsentAt.IsZero() {
		t.Fatalf("stored %+v", sub)
	}
	m, d := s.lastNotice(sub.ID)
	if m.Kind != mailer.KindConfirm || d.Language != "es" {
		t.Fatalf("queued %+v %+v", m, d)
	}

	// GET /confirm only shows a button: link scanners change nothing.
	confirmPath := local(t, d.ConfirmURL)
	for i := 0; i < 3; i++ {
		r = s.get(confirmPath)
		checkPage(t, r, http.StatusOK)
	}
	if got := s.mustSubscriber("Ana@example.org"); got.Status != store.SubscriberPending {
		t.Fatalf("GET /confirm changed the status to %s", got.Status)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("token page headers %v", r.header)
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]+)">`).FindStringSubmatch(r.body)
	if action == nil || strings.ReplaceAll(action[1], "&amp;", "&") != confirmPath {
		t.Fatalf("confirm page has no form posting to %s:\n%s", confirmPath, r.body)
	}

	// POST confirms and leads to the preferences.
	r = s.do("POST", confirmPath, "application/x-www-form-urlencoded", "")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/preferences?token=") {
		t.Fatalf("POST /confirm: %d %v", r.status, r.header)
	}
	got := s.mustSubscriber("Ana@example.org")
	if got.Status != store.SubscriberActive || got.ConfirmedAt.IsZero() || !got.DigestSince.Equal(got.ConfirmedAt) {
		t.Fatalf("after confirm %+v", got)
	}
	prefsPath := r.header.Get("Location")
	r = s.get(prefsPath, "Accept-Language", "fr")
	checkPage(t, r, http.StatusOK)
	for _, want := range []string{`lang="es"`, "Ana@example.org", "Gracias", `value="migration" checked`, `value="argentina" checked`,
		`value="weekly" checked`, `value="America/Argentina/Buenos_Aires" selected`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("preferences page lacks %q:\n%s", want, r.body)
		}
	}

	// Change everything.
	r = s.postForm(prefsPath, url.Values{"topics": {"gender"}, "regions": {"europe", "spain"}, "language": {"fr"},
		"cadence": {"immediate"}, "timezone": {"Europe/Paris"}, "action": {"save"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /preferences: %d %s", r.status, r.body)
	}
	got = s.mustSubscriber("Ana@example.org")
	if strings.Join(got.Topics, ",") != "gender" || strings.Join(got.Regions, ",") != "europe,spain" || got.Language != "fr" ||
		got.Cadence != "immediate" || got.Timezone != "Europe/Paris" {
		t.Fatalf("after save %+v", got)
	}
	r = s.get(r.header.Get("Location"))
	if !strings.Contains(r.body, `lang="fr"`) || !strings.Contains(r.body, "Vos choix sont enregistrés") {
		t.Fatalf("saved page:\n%s", r.body)
	}
	// No ticked box means all topics.
	r = s.postForm(prefsPath, url.Values{"regions": {"europe"}, "language": {"fr"}, "cadence": {"daily"}, "timezone": {"Europe/Paris"}})
	if got = s.mustSubscriber("Ana@example.org"); r.status != http.StatusSeeOther || len(got.Topics) != 0 {
		t.Fatalf("unticking every topic: %d %+v", r.status, got.Topics)
	}

	// One-click unsubscribe (RFC 8058) from the link every mail carries.
	unsub := local(t, s.subs.Tokens().UnsubscribeURL(sub.ID))
	r = s.get(unsub)
	checkPage(t, r, http.StatusOK)
	if got = s.mustSubscriber("Ana@example.org"); got.Status != store.SubscriberActive {
		t.Fatal("GET /unsubscribe unsubscribed")
	}
	r = s.do("POST", unsub, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	checkPage(t, r, http.StatusOK)
	if got = s.mustSubscriber("Ana@example.org"); got.Status != store.SubscriberUnsubscribed {
		t.Fatalf("one-click unsubscribe left status %s", got.Status)
	}
	if !strings.Contains(r.body, "Vous êtes désabonné") || !strings.Contains(r.body, `value="resubscribe"`) {
		t.Fatalf("unsubscribed page offers no way back:\n%s", r.body)
	}
	// ... and the way back.
	resub := regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<input type="hidden" name="action" value="resubscribe">`).FindStringSubmatch(r.body)
	if resub == nil {
		t.Fatal("no re-subscribe form")
	}
	r = s.postForm(strings.ReplaceAll(resub[1], "&amp;", "&"), url.Values{"action": {"resubscribe"}})
	if got = s.mustSubscriber("Ana@example.org"); r.status != http.StatusSeeOther || got.Status != store.SubscriberActive {
		t.Fatalf("re-subscribe: %d, status %s", r.status, got.Status)
	}
	// "Unsubscribe from all" in the preference centre.
	r = s.postForm(prefsPath, url.Values{"action": {"unsubscribe"}})
	if got = s.mustSubscriber("Ana@example.org"); r.status != http.StatusOK || got.Status != store.SubscriberUnsubscribed {
		t.Fatalf("unsubscribe from all: %d, status %s", r.status, got.Status)
	}
}

// POST /subscribe answers byte for byte the same for a new, a pending, an
// active, an unsubscribed and an erased (suppressed) address.
func TestSubscribe_NoEnumeration(t *testing.T) {
	s := newSite(t, 100)
	ctx := context.Background()
	form := func(email string) url.Values {
		return url.Values{"email": {email}, "topics": {"migration"}, "language": {"en"}, "cadence": {"daily"}, "timezone": {"UTC"}}
	}
	s.postForm("/subscribe", form("pending@example.org"))
	if _, err := s.subs.Add(ctx, subscribers.AddRequest{Email: "active@example.org", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	un, _ := s.subs.Add(ctx, subscribers.AddRequest{Email: "unsub@example.org", Confirmed: true})
	if _, err := s.subs.Unsubscribe(ctx, subscribers.PurposeUnsubscribe, s.subs.Tokens().Make(subscribers.PurposeUnsubscribe, un.ID)); err != nil {
		t.Fatal(err)
	}
	er, _ := s.subs.Add(ctx, subscribers.AddRequest{Email: "erased@example.org", Confirmed: true})
	if err := s.subs.Erase(ctx, er.ID); err != nil {
		t.Fatal(err)
	}
	addresses := []string{"new@example.org", "pending@example.org", "active@example.org", "unsub@example.org", "erased@example.org"}
	var first, firstJSON reply
	for i, a := range addresses {
		r := s.postForm("/subscribe", form(a))
		j := s.do("POST", "/subscribe", "application/json", `{"email":"`+a+`","topics":["migration"]}`)
		r.header.Del("Date")
		j.header.Del("Date")
		if i == 0 {
			first, firstJSON = r, j
			if r.status != http.StatusOK || j.status != http.StatusOK {
				t.Fatalf("statuses %d %d", r.status, j.status)
			}
			continue
		}
		if r.status != first.status || r.body != first.body || len(r.header) != len(first.header) {
			t.Errorf("form answer for %s differs from a new address's", a)
		}
		if j.status != firstJSON.status || j.body != firstJSON.body {
			t.Errorf("JSON answer for %s differs: %s vs %s", a, j.body, firstJSON.body)
		}
	}
	// What happened behind the same answer.
	if m, _ := s.lastNotice(s.mustSubscriber("erased@example.org").ID); m.Kind != mailer.KindConfirm {
		t.Errorf("an erased address coming back got %s, want a new confirmation", m.Kind)
	}
	if _, d := s.lastNotice(s.mustSubscriber("active@example.org").ID); d.ConfirmURL != "" {
		t.Error("an active subscriber got a confirmation instead of a manage mail")
	}
	if m, _ := s.lastNotice(s.mustSubscriber("unsub@example.org").ID); m.Kind != mailer.KindConfirm {
		t.Errorf("an unsubscribed address got %s", m.Kind)
	}
	mails, _ := s.db.SubscriberMails(ctx, s.mustSubscriber("pending@example.org").ID)
	if len(mails) != 1 {
		t.Errorf("pending address got %d mails within 10 minutes", len(mails))
	}
}

func TestSubscribe_FormErrorsKeepInput(t *testing.T) {
	s := newSite(t, 100)
	r := s.postForm("/subscribe?lang=fr", url.Values{"email": {"ana@example.org"}, "topics": {"migration", "gender"},
		"regions": {"argentina"}, "language": {"es"}, "cadence": {"weekly"}, "timezone": {"Mars/Olympus_Mons"}})
	checkPage(t, r, http.StatusUnprocessableEntity)
	for _, want := range []string{`lang="fr"`, `role="alert"`, `href="#timezone"`, "Fuseau horaire", `aria-invalid="true"`,
		`value="ana@example.org"`, `value="migration" checked`, `value="gender" checked`, `value="argentina" checked`,
		`value="weekly" checked`, `<option value="es" lang="es" selected>`, `value="Mars/Olympus_Mons" selected`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("error page lacks %q:\n%s", want, r.body)
		}
	}
	if _, ok := s.subscriber("ana@example.org"); ok {
		t.Fatal("an invalid request was stored")
	}
	// Every invalid field is shown at once.
	r = s.postForm("/subscribe", url.Values{"email": {"nope"}, "topics": {"space-travel"}, "cadence": {"hourly"}, "timezone": {"UTC"}})
	checkPage(t, r, http.StatusUnprocessableEntity)
	for _, want := range []string{`href="#email"`, `href="#topics"`, `href="#cadence"`, `id="email-error"`, `id="topics-error"`, `id="cadence-error"`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("error page lacks %q", want)
		}
	}
	if strings.Contains(r.body, `href="#timezone"`) {
		t.Fatal("a valid field is marked invalid")
	}
	// Hostile input is escaped, never interpreted.
	r = s.postForm("/subscribe", url.Values{"email": {`"><script>alert(1)</script>`}, "topics": {"<img src=x onerror=alert(1)>"}})
	checkPage(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
		t.Fatal("input reflected unescaped")
	}
	r = s.postForm("/subscribe", url.Values{"email": {"a\xff\x00@example.org"}, "timezone": {"Bad\xff/\r\nZone"}})
	checkPage(t, r, http.StatusUnprocessableEntity)
	if !utf8.ValidString(r.body) || strings.Contains(r.body, "\x00") {
		t.Fatal("the page repeats invalid UTF-8 or control characters")
	}
	// JSON gets {"error","field"}.
	j := s.do("POST", "/subscribe", "application/json", `{"email":"ana@example.org","regions":"europe,atlantis"}`)
	var body struct{ Error, Field string }
	if err := json.Unmarshal([]byte(j.body), &body); err != nil || j.status != http.StatusUnprocessableEntity || body.Field != "regions" {
		t.Fatalf("JSON error: %d %s", j.status, j.body)
	}
	if j = s.do("POST", "/subscribe", "application/json", `{"email":`); j.status != http.StatusBadRequest {
		t.Fatalf("malformed JSON: %d", j.status)
	}
	if j = s.do("POST", "/subscribe", "application/x-www-form-urlencoded", "email="+strings.Repeat("a", 70<<10)); j.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized form: %d", j.status)
	}
}

func TestSubscribe_RateLimit(t *testing.T) {
	s := newSite(t, 3)
	for i := 0; i < 3; i++ {
		if r := s.postForm("/subscribe", url.Values{"email": {"ana@example.org"}}); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := s.postForm("/subscribe", url.Values{"email": {"bob@example.org"}})
	checkPage(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if _, ok := s.subscriber("bob@example.org"); ok {
		t.Fatal("a rate-limited request was handled")
	}
	if j := s.do("POST", "/subscribe", "application/json", `{"email":"bob@example.org"}`); j.status != http.StatusTooManyRequests || !strings.Contains(j.body, `"error"`) {
		t.Fatalf("JSON over the limit: %d %s", j.status, j.body)
	}
	// The form itself is never limited.
	if r := s.get("/subscribe"); r.status != http.StatusOK {
		t.Fatalf("GET /subscribe: %d", r.status)
	}
}

func TestTokens_BadAndExpiredLinks(t *testing.T) {
	s := newSite(t, 100)
	s.postForm("/subscribe", url.Values{"email": {"ana@example.org"}})
	s.postForm("/subscribe", url.Values{"email": {"bob@example.org"}})
	ana, bob := s.mustSubscriber("ana@example.org"), s.mustSubscriber("bob@example.org")
	_, d := s.lastNotice(ana.ID)
	confirm := local(t, d.ConfirmURL)
	tok := confirm[strings.Index(confirm, "token=")+6:]
	forged := tok[:len(tok)-3] + "AAA"
	bobUnsub := s.subs.Tokens().Make(subscribers.PurposeUnsubscribe, bob.ID)
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"no token", "GET", "/confirm", http.StatusBadRequest},
		{"garbage", "POST", "/confirm?token=%3Cscript%3E", http.StatusBadRequest},
		{"forged confirm", "POST", "/confirm?token=" + forged, http.StatusBadRequest},
		{"unsubscribe token used to confirm", "POST", "/confirm?token=" + bobUnsub, http.StatusBadRequest},
		{"confirm token used to unsubscribe", "POST", "/unsubscribe?token=" + tok, http.StatusBadRequest},
		{"confirm token used for preferences", "POST", "/preferences?token=" + tok, http.StatusBadRequest},
		{"forged unsubscribe", "POST", "/unsubscribe?token=" + bobUnsub[:len(bobUnsub)-2] + "xx", http.StatusBadRequest},
		{"forged preferences page", "GET", "/preferences?token=" + forged, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(tt.method, tt.path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
			checkPage(t, r, tt.status)
		})
	}
	if a, b := s.mustSubscriber("ana@example.org"), s.mustSubscriber("bob@example.org"); a.Status != store.SubscriberPending || b.Status != store.SubscriberPending {
		t.Fatalf("a refused link changed something: %s %s", a.Status, b.Status)
	}
	// Expired confirmation: 410, nothing changes.
	s.clock.Add(subscribers.ConfirmTTL + time.Minute)
	checkPage(t, s.get(confirm), http.StatusGone)
	r := s.do("POST", confirm, "application/x-www-form-urlencoded", "")
	checkPage(t, r, http.StatusGone)
	if !strings.Contains(r.body, `href="/subscribe`) {
		t.Fatal("the expired page offers no way to subscribe again")
	}
	if a := s.mustSubscriber("ana@example.org"); a.Status != store.SubscriberPending {
		t.Fatalf("expired confirmation changed status to %s", a.Status)
	}
	// Unsubscribe links keep working, here years later.
	s.clock.Add(3 * 365 * 24 * time.Hour)
	r = s.do("POST", "/unsubscribe?token="+bobUnsub, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	if b := s.mustSubscriber("bob@example.org"); r.status != http.StatusOK || b.Status != store.SubscriberUnsubscribed {
		t.Fatalf("old unsubscribe link: %d, %s", r.status, b.Status)
	}
	if a := s.mustSubscriber("ana@example.org"); a.Status != store.SubscriberPending {
		t.Fatal("bob's link unsubscribed ana")
	}
	// An erased subscriber's unsubscribe link still says they get nothing.
	if err := s.subs.Erase(context.Background(), bob.ID); err != nil {
		t.Fatal(err)
	}
	checkPage(t, s.do("POST", "/unsubscribe?token="+bobUnsub, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"), http.StatusOK)
	checkPage(t, s.get("/preferences?token="+s.subs.Tokens().Make(subscribers.PurposePreferences, bob.ID)), http.StatusGone)
}

func TestPageLanguage(t *testing.T) {
	s := newSite(t, 100)
	tests := []struct{ accept, query, want string }{
		{"", "", "en"},
		{"fr-CH, fr;q=0.9, en;q=0.8", "", "fr"},
		{"de-DE, es;q=0.5, en;q=0.4", "", "es"},
		{"de", "", "en"},
		{"fr", "?lang=es", "es"},
		{"fr", "?lang=xx", "fr"},
	}
	for _, tt := range tests {
		r := s.get("/subscribe"+tt.query, "Accept-Language", tt.accept)
		if !strings.Contains(r.body, `<html lang="`+tt.want+`">`) {
			t.Errorf("Accept-Language %q%s: want %s", tt.accept, tt.query, tt.want)
		}
	}
	r := s.get("/subscribe", "Accept-Language", "es")
	if !strings.Contains(r.body, "Suscribirse a los comunicados") || !strings.Contains(r.body, `<option value="es" lang="es" selected>`) {
		t.Fatal("the Spanish form is not in Spanish or does not pre-select Spanish")
	}
}

func TestPreferences_JSON(t *testing.T) {
	s := newSite(t, 100)
	s.postForm("/subscribe", url.Values{"email": {"ana@example.org"}})
	ana := s.mustSubscriber("ana@example.org")
	path := "/preferences?token=" + s.subs.Tokens().Make(subscribers.PurposePreferences, ana.ID)
	r := s.do("POST", path, "application/json", `{"topics":"migration, refugees","cadence":"weekly"}`)
	var got struct {
		Status  string   `json:"status"`
		Topics  []string `json:"topics"`
		Cadence string   `json:"cadence"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != http.StatusOK || got.Cadence != "weekly" || len(got.Topics) != 2 || got.Status != "pending" {
		t.Fatalf("JSON preferences: %d %s", r.status, r.body)
	}
	if r = s.do("POST", path, "application/json", `{"timezone":"Nowhere/Else"}`); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `"field":"timezone"`) {
		t.Fatalf("bad zone: %d %s", r.status, r.body)
	}
}
