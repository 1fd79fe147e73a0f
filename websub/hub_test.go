package websub_test

// Conformance with the hub requirements of W3C WebSub (Recommendation,
// 23 January 2018), one by one, each tested against a real subscriber:
// an HTTP callback server in the test.
//
//   R1  (4)     Feeds advertise the hub: rel="hub" and rel="self" links
//               (RSS, Atom; JSON Feed "hubs").               TestHub_FeedsAdvertiseHubAndSelf
//   R2  (5.1)   hub.callback, hub.mode and hub.topic are required; a
//               request the hub cannot process gets a 4xx.    TestHub_BadRequestsRefused
//   R3  (5.1)   hub.secret MUST be less than 200 bytes.       TestHub_BadRequestsRefused
//   R4  (5.1.2) Hubs MUST ignore parameters they do not understand.
//                                                             TestHubHTTP_Accepted (web/public)
//   R5  (5.1.2) An accepted request is answered 202 Accepted and verified
//               afterwards.                                   TestHubHTTP_Accepted (web/public)
//   R6  (5.3)   Intent verification: GET on the callback with hub.mode,
//               hub.topic, a random hub.challenge and, to subscribe,
//               hub.lease_seconds; the callback's own query is kept.
//                                                             TestHub_SubscribeVerifiedThenPushed
//   R7  (5.3)   The subscription counts only when the callback answers 2xx
//               with the challenge as its body; otherwise (404, a wrong
//               body, no answer) nothing changes.              TestHub_VerificationFailureChangesNothing
//   R8  (5.1)   Re-subscribing overrides the previous state of (topic,
//               callback) once verified (renewal: a new lease), and a
//               failed verification leaves it unchanged.      TestHub_RenewAndUnsubscribe
//   R9  (5.3.1) Unsubscribing is verified the same way (hub.mode=unsubscribe)
//               and then ends the subscription.               TestHub_RenewAndUnsubscribe
//   R10 (5.1)   The hub chooses the lease (default 10 days, at most 30)
//               and says so in hub.lease_seconds; a subscription whose
//               lease ended gets nothing more.                TestHub_LeaseLimitsAndExpiry
//   R11 (7)     When a topic's content changes, each subscriber of that
//               exact topic URL gets a POST with the topic's full
//               content and its Content-Type, and Link headers rel="hub"
//               and rel="self" (the topic URL).               TestHub_SubscribeVerifiedThenPushed
//   R12 (7)     Only 2xx is success; any other answer is retried.
//                                                             TestHub_PushRetriedUntilSuccess
//   R13 (7)     A 410 Gone from the subscriber ends the subscription.
//                                                             TestHub_GoneEndsSubscription
//   R14 (8)     With hub.secret, every push carries X-Hub-Signature:
//               sha256=<hex HMAC of the body keyed by the secret>.
//                                                             TestHub_SubscribeVerifiedThenPushed
//   R15 (7)     Subscribers of other topics that the change does not
//               touch get nothing.                            TestHub_OnlyAffectedTopics

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/feeds"
	"herald/internal/clocktest"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/websub"
)

const base = "https://press.example.org"

// subscriber is a real WebSub subscriber: it answers verifications (by
// echoing the challenge unless told otherwise) and records pushes,
// answering them with the next status of its script.
type subscriber struct {
	srv    *httptest.Server
	mu     sync.Mutex
	refuse bool  // answer verifications 404
	wrong  bool  // echo a wrong challenge
	script []int // push statuses; the last repeats
	checks []url.Values
	pushes []push
}

type push struct {
	header http.Header
	body   []byte
}

func newSubscriber(t *testing.T, script ...int) *subscriber {
	if len(script) == 0 {
		script = []int{204}
	}
	s := &subscriber{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *subscriber) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		s.checks = append(s.checks, q)
		switch {
		case s.refuse:
			w.WriteHeader(http.StatusNotFound)
		case s.wrong:
			w.Write([]byte("not-the-challenge"))
		default:
			w.Write([]byte(q.Get("hub.challenge")))
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.pushes = append(s.pushes, push{header: r.Header.Clone(), body: body})
	w.WriteHeader(s.script[min(len(s.pushes)-1, len(s.script)-1)])
}

func (s *subscriber) got() ([]url.Values, []push) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.checks...), append([]push(nil), s.pushes...)
}

type fixture struct {
	db    *store.DB
	rel   *releases.Service
	feeds *feeds.Service
	hub   *websub.Hub
	clock *clocktest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{BaseURL: base})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	fd := feeds.New(feeds.Options{SiteName: "Press Office", BaseURL: base}, rel, db)
	clock := clocktest.New(time.Now())
	hub := websub.New(db, outbound.New(outbound.Options{AllowPrivate: true}), rel, fd,
		websub.Options{BaseURL: base, Now: clock.Now, Timeout: 2 * time.Second, Retry: []time.Duration{time.Minute}})
	return &fixture{db: db, rel: rel, feeds: fd, hub: hub, clock: clock}
}

func (f *fixture) run(t *testing.T) {
	t.Helper()
	if _, err := f.hub.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) submit(t *testing.T, r websub.Request) {
	t.Helper()
	if err := f.hub.Submit(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	f.run(t)
}

func (f *fixture) release(t *testing.T, title, topic string, regions ...string) store.Release {
	t.Helper()
	rg := releases.List(regions)
	r, err := f.rel.Create(context.Background(), releases.Input{Title: &title, Body: &title, Topics: &releases.List{topic}, Regions: &rg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) subscriptions(t *testing.T) []store.WebSubSubscription {
	t.Helper()
	subs, err := f.db.WebSubSubscriptions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

func TestHub_FeedsAdvertiseHubAndSelf(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		format feeds.Format
		want   []string
	}{
		{feeds.RSS, []string{`<atom:link href="` + base + `/websub" rel="hub">`, `<atom:link href="` + base + `/feed.rss?topic=migration" rel="self"`}},
		{feeds.Atom, []string{`<link href="` + base + `/websub" rel="hub">`, `<link href="` + base + `/feed.atom?topic=migration" rel="self"`}},
		{feeds.JSON, []string{`"hubs": [`, `"type": "WebSub"`, `"url": "` + base + `/websub"`, `"feed_url": "` + base + `/feed.json?topic=migration"`}},
	} {
		doc, err := f.feeds.Get(context.Background(), tc.format, "topic=migration")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(doc.Body), w) {
				t.Errorf("%v lacks %s", tc.format, w)
			}
		}
	}
}

func TestHub_SubscribeVerifiedThenPushed(t *testing.T) {
	f := newFixture(t)
	sub := newSubscriber(t)
	topic := base + "/feed.atom?topic=migration"
	cb := sub.srv.URL + "/cb?user=7"
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: cb, Secret: "s3cret"})
	checks, _ := sub.got()
	if len(checks) != 1 {
		t.Fatalf("%d verifications", len(checks))
	}
	q := checks[0]
	if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != topic || len(q.Get("hub.challenge")) < 16 ||
		q.Get("hub.lease_seconds") != "864000" || q.Get("user") != "7" {
		t.Fatalf("verification query %v", q)
	}
	if subs := f.subscriptions(t); len(subs) != 1 || subs[0].Topic != topic || subs[0].Callback != cb {
		t.Fatalf("subscriptions %+v", subs)
	}
	f.release(t, "Road map on labour migration", "migration")
	f.run(t)
	_, pushes := sub.got()
	if len(pushes) != 1 {
		t.Fatalf("%d pushes", len(pushes))
	}
	p := pushes[0]
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
		t.Errorf("Content-Type %q", ct)
	}
	links := strings.Join(p.header.Values("Link"), ", ")
	if !strings.Contains(links, "<"+base+`/websub>; rel="hub"`) || !strings.Contains(links, "<"+topic+`>; rel="self"`) {
		t.Errorf("Link headers %q", links)
	}
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write(p.body)
	if got := p.header.Get("X-Hub-Signature"); got != "sha256="+hex.EncodeToString(m.Sum(nil)) {
		t.Errorf("X-Hub-Signature %q", got)
	}
	if !strings.Contains(string(p.body), "Road map on labour migration") {
		t.Errorf("the push is not the topic's current feed:\n%s", p.body)
	}
	// An edit and a deletion are changes too.
	rs, _ := f.rel.List(context.Background(), releases.ListQuery{Limit: 1})
	id := rs.Items[0].ID
	if _, err := f.rel.Update(context.Background(), id, releases.Input{Title: ptr("Road map adopted")}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	if err := f.rel.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	_, pushes = sub.got()
	if len(pushes) != 3 || !strings.Contains(string(pushes[1].body), "Road map adopted") || strings.Contains(string(pushes[2].body), "Road map") {
		t.Fatalf("%d pushes after edit and delete", len(pushes))
	}
}

func ptr(s string) *string { return &s }

func TestHub_BadRequestsRefused(t *testing.T) {
	f := newFixture(t)
	sub := newSubscriber(t)
	ok := websub.Request{Mode: "subscribe", Topic: base + "/feed.rss", Callback: sub.srv.URL}
	for _, tc := range []struct {
		name, field string
		change      func(*websub.Request)
	}{
		{"no mode", "hub.mode", func(r *websub.Request) { r.Mode = "" }},
		{"bad mode", "hub.mode", func(r *websub.Request) { r.Mode = "publish" }},
		{"no topic", "hub.topic", func(r *websub.Request) { r.Topic = "" }},
		{"foreign topic", "hub.topic", func(r *websub.Request) { r.Topic = "https://evil.example.org/feed.rss" }},
		{"lookalike host", "hub.topic", func(r *websub.Request) { r.Topic = base + ".evil.org/feed.rss" }},
		{"not a feed", "hub.topic", func(r *websub.Request) { r.Topic = base + "/admin/" }},
		{"unknown topic slug", "hub.topic", func(r *websub.Request) { r.Topic = base + "/feed.rss?topic=nope" }},
		{"no callback", "hub.callback", func(r *websub.Request) { r.Callback = "" }},
		{"ftp callback", "hub.callback", func(r *websub.Request) { r.Callback = "ftp://example.org/x" }},
		{"javascript callback", "hub.callback", func(r *websub.Request) { r.Callback = "javascript:alert(1)" }},
		{"herald itself", "hub.callback", func(r *websub.Request) { r.Callback = base + "/websub" }},
		{"CR LF in callback", "hub.callback", func(r *websub.Request) { r.Callback = sub.srv.URL + "/\r\nX-Evil: 1" }},
		{"bad lease", "hub.lease_seconds", func(r *websub.Request) { r.LeaseSeconds = "soon" }},
		{"secret of 200 bytes", "hub.secret", func(r *websub.Request) { r.Secret = strings.Repeat("s", 200) }},
	} {
		r := ok
		tc.change(&r)
		err := f.hub.Submit(context.Background(), r)
		var ve *releases.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
	f.run(t)
	if checks, _ := sub.got(); len(checks) != 0 || len(f.subscriptions(t)) != 0 {
		t.Fatalf("a refused request was verified (%d) or counted", len(checks))
	}
	// A secret of 199 bytes is fine.
	r := ok
	r.Secret = strings.Repeat("s", 199)
	if err := f.hub.Submit(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func TestHub_VerificationFailureChangesNothing(t *testing.T) {
	f := newFixture(t)
	refusing, wrong := newSubscriber(t), newSubscriber(t)
	refusing.refuse, wrong.wrong = true, true
	topic := base + "/feed.rss"
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: refusing.srv.URL})
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: wrong.srv.URL})
	dead := newSubscriber(t)
	dead.srv.Close()
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: dead.srv.URL})
	if subs := f.subscriptions(t); len(subs) != 0 {
		t.Fatalf("unverified subscriptions count: %+v", subs)
	}
	f.release(t, "Nobody is subscribed", "migration")
	f.run(t)
	if _, p := refusing.got(); len(p) != 0 {
		t.Fatal("an unverified callback got a push")
	}
	if _, p := wrong.got(); len(p) != 0 {
		t.Fatal("an unverified callback got a push")
	}
}

func TestHub_RenewAndUnsubscribe(t *testing.T) {
	f := newFixture(t)
	sub := newSubscriber(t)
	topic := base + "/feed.rss?region=americas"
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: sub.srv.URL, LeaseSeconds: "3600"})
	first := f.subscriptions(t)[0]
	f.clock.Add(30 * time.Minute)
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: sub.srv.URL, LeaseSeconds: "7200"})
	subs := f.subscriptions(t)
	if len(subs) != 1 || subs[0].ID != first.ID || subs[0].LeaseSeconds != 7200 || !subs[0].ExpiresAt.After(first.ExpiresAt) {
		t.Fatalf("renewal: %+v, before %+v", subs, first)
	}
	// A renewal that fails verification leaves the subscription as it was.
	sub.mu.Lock()
	sub.refuse = true
	sub.mu.Unlock()
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: sub.srv.URL, LeaseSeconds: "60"})
	if s := f.subscriptions(t); len(s) != 1 || s[0].LeaseSeconds != 7200 {
		t.Fatalf("failed renewal changed it: %+v", s)
	}
	// So does an unsubscribe request that is not confirmed.
	f.submit(t, websub.Request{Mode: "unsubscribe", Topic: topic, Callback: sub.srv.URL})
	if len(f.subscriptions(t)) != 1 {
		t.Fatal("an unconfirmed unsubscribe ended the subscription")
	}
	sub.mu.Lock()
	sub.refuse = false
	sub.mu.Unlock()
	f.submit(t, websub.Request{Mode: "unsubscribe", Topic: topic, Callback: sub.srv.URL})
	checks, _ := sub.got()
	last := checks[len(checks)-1]
	if last.Get("hub.mode") != "unsubscribe" || last.Get("hub.lease_seconds") != "" || last.Get("hub.challenge") == "" {
		t.Fatalf("unsubscribe verification %v", last)
	}
	if len(f.subscriptions(t)) != 0 {
		t.Fatal("a confirmed unsubscribe left the subscription")
	}
	f.release(t, "After unsubscribing", "migration", "argentina")
	f.run(t)
	if _, p := sub.got(); len(p) != 0 {
		t.Fatalf("%d pushes after unsubscribing", len(p))
	}
}

func TestHub_LeaseLimitsAndExpiry(t *testing.T) {
	f := newFixture(t)
	long, short := newSubscriber(t), newSubscriber(t)
	topic := base + "/feed.json"
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: long.srv.URL, LeaseSeconds: "99999999"})
	f.submit(t, websub.Request{Mode: "subscribe", Topic: topic, Callback: short.srv.URL, LeaseSeconds: "120"})
	if c, _ := long.got(); c[0].Get("hub.lease_seconds") != "2592000" {
		t.Fatalf("lease granted %s, want 30 days", c[0].Get("hub.lease_seconds"))
	}
	f.clock.Add(10 * time.Minute) // past the short lease
	f.release(t, "Lease test", "migration")
	f.run(t)
	if _, p := long.got(); len(p) != 1 {
		t.Fatalf("long lease: %d pushes", len(p))
	}
	if _, p := short.got(); len(p) != 0 {
		t.Fatalf("expired lease: %d pushes", len(p))
	}
}

func TestHub_PushRetriedUntilSuccess(t *testing.T) {
	f := newFixture(t)
	sub := newSubscriber(t, 500, 202)
	f.submit(t, websub.Request{Mode: "subscribe", Topic: base + "/feed.rss", Callback: sub.srv.URL})
	f.release(t, "Retry me", "migration")
	f.run(t)
	f.run(t) // not yet due
	if _, p := sub.got(); len(p) != 1 {
		t.Fatalf("%d pushes before the retry is due", len(p))
	}
	f.clock.Add(time.Minute)
	f.run(t)
	f.clock.Add(time.Hour)
	f.run(t)
	if _, p := sub.got(); len(p) != 2 || !strings.Contains(string(p[1].body), "Retry me") {
		t.Fatalf("%d pushes, want a failure then one success", len(p))
	}
}

func TestHub_GoneEndsSubscription(t *testing.T) {
	f := newFixture(t)
	sub := newSubscriber(t, 410)
	f.submit(t, websub.Request{Mode: "subscribe", Topic: base + "/feed.rss", Callback: sub.srv.URL})
	f.release(t, "Gone", "migration")
	f.run(t)
	if len(f.subscriptions(t)) != 0 {
		t.Fatal("410 Gone left the subscription")
	}
}

func TestHub_OnlyAffectedTopics(t *testing.T) {
	f := newFixture(t)
	mig, other, fr := newSubscriber(t), newSubscriber(t), newSubscriber(t)
	f.submit(t, websub.Request{Mode: "subscribe", Topic: base + "/feed.rss?region=americas", Callback: mig.srv.URL})
	f.submit(t, websub.Request{Mode: "subscribe", Topic: base + "/feed.rss?region=europe", Callback: other.srv.URL})
	f.submit(t, websub.Request{Mode: "subscribe", Topic: base + "/feed.rss?lang=fr", Callback: fr.srv.URL})
	f.release(t, "In Argentina", "migration", "argentina")
	f.run(t)
	if _, p := mig.got(); len(p) != 1 {
		t.Errorf("americas: %d pushes", len(p))
	}
	if _, p := other.got(); len(p) != 0 {
		t.Errorf("europe: %d pushes", len(p))
	}
	if _, p := fr.got(); len(p) != 0 {
		t.Errorf("lang=fr: %d pushes for an English release", len(p))
	}
}

// TestHub_ExternalHubsToldPublish: HERALD_WEBSUB_HUBS hear of every change
// (hub.mode=publish with the feed URLs that list the release).
func TestHub_ExternalHubsToldPublish(t *testing.T) {
	var mu sync.Mutex
	var got []url.Values
	ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ext.Close()
	f := newFixture(t)
	f.hub = websub.New(f.db, outbound.New(outbound.Options{AllowPrivate: true}), f.rel, f.feeds,
		websub.Options{BaseURL: base, Hubs: []string{ext.URL + "/publish"}, Now: f.clock.Now})
	f.release(t, "Tell the world", "migration", "argentina")
	f.run(t)
	mu.Lock()
	defer mu.Unlock()
	urls := map[string]bool{}
	for _, v := range got {
		if v.Get("hub.mode") != "publish" {
			t.Fatalf("ping %v", v)
		}
		urls[v.Get("hub.url")] = true
	}
	for _, want := range []string{base + "/feed.rss", base + "/feed.atom?topic=migration", base + "/feed.json?region=argentina"} {
		if !urls[want] {
			t.Errorf("no publish ping for %s (got %d pings)", want, len(got))
		}
	}
}
