package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/clocktest"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/webhooks"
)

// receiver is a real HTTP endpoint that verifies every message it gets as
// a Standard Webhooks receiver would, and answers with the next status of
// its script (the last one repeats); a status of 0 hangs until the request
// is abandoned.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	now    func() time.Time // the receiver's clock: herald's test clock
	mu     sync.Mutex
	script []int
	got    []message
}

type message struct {
	id, ts string
	body   []byte
	err    error // the signature check
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{t: t, script: script, now: time.Now}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	m := message{id: req.Header.Get(webhooks.HeaderID), ts: req.Header.Get(webhooks.HeaderTimestamp), body: body,
		err: webhooks.Verify(r.secret, req.Header, body, r.now())}
	r.got = append(r.got, m)
	status := r.script[min(len(r.got)-1, len(r.script)-1)]
	r.mu.Unlock()
	if status == 0 {
		<-req.Context().Done()
		return
	}
	w.WriteHeader(status)
}

func (r *receiver) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.got...)
}

type fixture struct {
	db       *store.DB
	releases *releases.Service
	hooks    *webhooks.Service
	clock    *clocktest.Clock
}

func newFixture(t *testing.T, timeout time.Duration) *fixture {
	t.Helper()
	db := storetest.New(t)
	clock := clocktest.New(time.Now())
	rel := releases.New(db, releases.Options{BaseURL: "https://press.example.org", Now: clock.Now})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	client := outbound.New(outbound.Options{UserAgent: "herald/test", AllowPrivate: true})
	hooks := webhooks.New(db, client, webhooks.Options{BaseURL: "https://press.example.org", Timeout: timeout,
		Retry: []time.Duration{time.Minute, time.Hour}, Now: clock.Now})
	return &fixture{db: db, releases: rel, hooks: hooks, clock: clock}
}

func (f *fixture) webhook(t *testing.T, r *receiver, events ...string) webhooks.Document {
	t.Helper()
	u := r.srv.URL + "/hook"
	d, err := f.hooks.Create(context.Background(), webhooks.Input{URL: &u, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	r.secret, r.now = d.Secret, f.clock.Now
	return d
}

func (f *fixture) release(t *testing.T, title string) store.Release {
	t.Helper()
	r, err := f.releases.Create(context.Background(), releases.Input{Title: &title, Body: ptr("Body of " + title), Topics: &releases.List{"migration"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ptr(s string) *string { return &s }

func (f *fixture) run(t *testing.T) int {
	t.Helper()
	n, err := f.hooks.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliver_SignedOnceAndListed(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	r := newReceiver(t, 204)
	hook := f.webhook(t, r, store.EventReleasePublished, store.EventReleaseDeleted)
	rel := f.release(t, "Road map adopted")
	if _, err := f.releases.Update(context.Background(), rel.ID, releases.Input{Title: ptr("Road map adopted (corrected)")}); err != nil {
		t.Fatal(err) // release.updated: this webhook does not take it
	}
	if n := f.run(t); n != 1 {
		t.Fatalf("posts = %d, want 1", n)
	}
	got := r.messages()
	if len(got) != 1 || got[0].err != nil {
		t.Fatalf("received %d messages, signature check: %v", len(got), got[0].err)
	}
	var body struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			Release releases.Document `json:"release"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "release.published" || body.Data.Release.Title != "Road map adopted" || body.Timestamp == "" ||
		body.Data.Release.URL != "https://press.example.org/releases/road-map-adopted" || !strings.HasPrefix(got[0].id, "msg_") {
		t.Fatalf("message %s: %s", got[0].id, got[0].body)
	}
	// Delivered is final: later rounds post nothing again.
	f.clock.Add(48 * time.Hour)
	if n := f.run(t); n != 0 || len(r.messages()) != 1 {
		t.Fatalf("a delivered event was posted again: %d", len(r.messages()))
	}
	id, _ := parseID(hook.ID)
	page, err := f.hooks.Deliveries(context.Background(), id, "", 50)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("deliveries %+v, %v", page, err)
	}
	d := page.Items[0]
	if d.State != "delivered" || len(d.Attempts) != 1 || d.Attempts[0].Status != 204 || d.DeliveredAt == nil || d.MsgID != got[0].id {
		t.Fatalf("delivery %+v", d)
	}
	// A deleted live release is an event too.
	if err := f.releases.Delete(context.Background(), rel.ID); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	if got := r.messages(); len(got) != 2 || !strings.Contains(string(got[1].body), `"type":"release.deleted"`) {
		t.Fatalf("after delete: %d messages", len(got))
	}
}

func TestDeliver_FailsThenSucceeds(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	r := newReceiver(t, 500, 503, 200)
	hook := f.webhook(t, r, store.EventReleasePublished)
	f.release(t, "Third time lucky")
	f.run(t)
	if n := f.run(t); n != 0 {
		t.Fatalf("retried before its time: %d", n)
	}
	f.clock.Add(time.Minute) // first delay
	f.run(t)
	f.clock.Add(30 * time.Minute)
	if n := f.run(t); n != 0 {
		t.Fatal("second delay not respected")
	}
	f.clock.Add(30 * time.Minute) // an hour after the second failure
	f.run(t)
	got := r.messages()
	if len(got) != 3 || got[0].id != got[2].id || got[2].err != nil {
		t.Fatalf("messages %d (ids %q %q)", len(got), got[0].id, got[len(got)-1].id)
	}
	id, _ := parseID(hook.ID)
	page, _ := f.hooks.Deliveries(context.Background(), id, "", 50)
	d := page.Items[0]
	if d.State != "delivered" || len(d.Attempts) != 3 || d.Attempts[0].Status != 500 || d.Attempts[1].Status != 503 ||
		d.Attempts[2].Status != 200 || d.Attempts[0].Error != "HTTP 500" {
		t.Fatalf("delivery %+v", d)
	}
}

func TestDeliver_HangingReceiverTimesOutThenRetried(t *testing.T) {
	f := newFixture(t, 300*time.Millisecond)
	r := newReceiver(t, 0, 200)
	hook := f.webhook(t, r, store.EventReleasePublished)
	f.release(t, "Slow receiver")
	start := time.Now()
	f.run(t)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a hanging receiver held the worker %v", d)
	}
	id, _ := parseID(hook.ID)
	page, _ := f.hooks.Deliveries(context.Background(), id, "", 50)
	if d := page.Items[0]; d.State != "queued" || len(d.Attempts) != 1 || !strings.Contains(d.Attempts[0].Error, "no answer within") {
		t.Fatalf("after the timeout: %+v", d)
	}
	f.clock.Add(time.Minute)
	f.run(t)
	page, _ = f.hooks.Deliveries(context.Background(), id, "", 50)
	if d := page.Items[0]; d.State != "delivered" || len(d.Attempts) != 2 {
		t.Fatalf("after the retry: %+v", d)
	}
}

func TestDeliver_GivesUpAfter24Hours(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	r := newReceiver(t, 500)
	hook := f.webhook(t, r, store.EventReleasePublished)
	f.release(t, "Nobody listens")
	for range 40 {
		f.run(t)
		f.clock.Add(time.Hour)
	}
	id, _ := parseID(hook.ID)
	page, _ := f.hooks.Deliveries(context.Background(), id, "", 50)
	d := page.Items[0]
	// Attempts at 0, 1 min, then hourly, the last one at 24 h.
	if d.State != "failed" || len(r.messages()) != len(d.Attempts) || len(d.Attempts) < 20 || len(d.Attempts) > 27 {
		t.Fatalf("state %s after %d attempts (%d posts)", d.State, len(d.Attempts), len(r.messages()))
	}
	first, _ := time.Parse(time.RFC3339, d.Attempts[0].At)
	last, _ := time.Parse(time.RFC3339, d.Attempts[len(d.Attempts)-1].At)
	if span := last.Sub(first); span < 23*time.Hour || span > 25*time.Hour {
		t.Fatalf("retried for %v", span)
	}
}

func TestDeliver_RefusesPrivateAddressByDefault(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	strict := webhooks.New(f.db, outbound.New(outbound.Options{}), webhooks.Options{Now: f.clock.Now})
	r := newReceiver(t, 200)
	f.webhook(t, r, store.EventReleasePublished)
	f.release(t, "Internal address")
	if _, err := strict.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.messages()) != 0 {
		t.Fatal("a loopback receiver was called with private addresses refused")
	}
}

func parseID(s string) (int64, error) {
	var id int64
	err := json.Unmarshal([]byte(s), &id)
	return id, err
}
