package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"herald/dispatch"
	"herald/internal/clocktest"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
	"herald/subscribers"
)

type fixture struct {
	t     testing.TB
	ctx   context.Context
	db    *store.DB
	clock *clocktest.Clock
	rel   *releases.Service
	subs  *subscribers.Service
	disp  *dispatch.Service
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: storetest.New(t),
		clock: clocktest.New(time.Date(2026, 7, 6, 12, 0, 0, 0, time.UTC))}
	f.rel = releases.New(f.db, releases.Options{Now: f.clock.Now})
	if _, err := f.rel.EnsureDefaultTaxonomy(f.ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	f.subs, err = subscribers.New(f.db, f.rel, subscribers.Options{Secret: []byte("0123456789abcdef0123456789abcdef"),
		BaseURL: "https://press.example.org", Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.disp, err = dispatch.New(f.db, f.rel, dispatch.Options{DigestDaily: "0 7 * * *", DigestWeekly: "0 7 * * 1",
		AlertMaxAge: 24 * time.Hour, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// release creates a live release (published now unless at is set).
type rel struct {
	title, lang, key string
	topics, regions  []string
	at               time.Time
	draft            bool
}

func (f *fixture) release(r rel) store.Release {
	f.t.Helper()
	in := releases.Input{Title: &r.title, Body: ptr("Body of " + r.title), Language: ptr(r.lang), TranslationKey: ptr(r.key)}
	l, g := releases.List(r.topics), releases.List(r.regions)
	in.Topics, in.Regions = &l, &g
	if !r.at.IsZero() {
		in.PublishedAt = ptr(r.at.Format(time.RFC3339Nano))
	}
	if r.draft {
		in.Status = ptr("draft")
	}
	out, err := f.rel.Create(f.ctx, in)
	if err != nil {
		f.t.Fatalf("create release %q: %v", r.title, err)
	}
	return out
}

type sub struct {
	email, lang, cadence, tz string
	topics, regions          []string
}

func (f *fixture) subscriber(s sub) store.Subscriber {
	f.t.Helper()
	if s.lang == "" {
		s.lang = "en"
	}
	if s.cadence == "" {
		s.cadence = "immediate"
	}
	if s.tz == "" {
		s.tz = "UTC"
	}
	topics, regions := s.topics, s.regions
	if topics == nil {
		topics = []string{}
	}
	if regions == nil {
		regions = []string{}
	}
	out, err := f.subs.Add(f.ctx, subscribers.AddRequest{Email: s.email, Confirmed: true, Prefs: subscribers.PrefsInput{
		Topics: &topics, Regions: &regions, Language: &s.lang, Cadence: &s.cadence, Timezone: &s.tz,
	}})
	if err != nil {
		f.t.Fatalf("add subscriber %s: %v", s.email, err)
	}
	return out
}

// mails returns a subscriber's queued messages of one kind.
func (f *fixture) mails(id int64, kind string) []store.SubscriberMail {
	f.t.Helper()
	all, err := f.db.SubscriberMails(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []store.SubscriberMail
	for _, m := range all {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (f *fixture) digestIDs(id int64) [][]int64 {
	f.t.Helper()
	var out [][]int64
	for _, m := range f.mails(id, "digest") {
		var p dispatch.DigestPayload
		if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, p.ReleaseIDs)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestAlert_MatchingAndRegionHierarchy(t *testing.T) {
	f := newFixture(t)
	all := f.subscriber(sub{email: "all@example.org"})
	americas := f.subscriber(sub{email: "americas@example.org", regions: []string{"americas"}, cadence: "daily"})
	europe := f.subscriber(sub{email: "europe@example.org", regions: []string{"europe"}})
	trafficking := f.subscriber(sub{email: "trafficking@example.org", topics: []string{"human-trafficking"}})
	f.clock.Add(time.Minute)
	r := f.release(rel{title: "Road map", lang: "en", topics: []string{"migration"}, regions: []string{"argentina"}})

	res, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID, Audience: "matching"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Recipients != 2 || res.ByCadence["immediate"] != 1 || res.ByCadence["daily"] != 1 || res.ByLanguage["en"] != 2 {
		t.Fatalf("result = %+v, want 2 recipients (all, americas)", res)
	}
	for _, c := range []struct {
		s    store.Subscriber
		want int
	}{{all, 1}, {americas, 1}, {europe, 0}, {trafficking, 0}} {
		if got := len(f.mails(c.s.ID, "alert")); got != c.want {
			t.Errorf("%s got %d alerts, want %d", c.s.Email, got, c.want)
		}
	}
	st, err := f.disp.AlertStatus(f.ctx, res.AlertID)
	if err != nil || st.Recipients != 2 || st.Pending != 2 || st.QueuedAt.IsZero() || !st.FinishedAt.IsZero() {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

func TestAlert_OncePerGroupAndDryRunCountsTheSame(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.subscriber(sub{email: fmt.Sprintf("s%d@example.org", i)})
	}
	en := f.release(rel{title: "Road map", lang: "en", key: "rm", topics: []string{"migration"}})
	f.clock.Add(time.Minute)
	es := f.release(rel{title: "Hoja de ruta", lang: "es", key: "rm", topics: []string{"migration"}})

	dry, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: en.ID, DryRun: true})
	if err != nil || dry.Recipients != 5 || dry.AlertID != 0 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	real, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: en.ID})
	if err != nil || real.Recipients != dry.Recipients {
		t.Fatalf("real = %+v, %v; want the dry run's %d", real, err, dry.Recipients)
	}
	// Triggering again, or on the other member of the group, queues nothing.
	for _, id := range []int64{en.ID, es.ID} {
		again, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: id})
		if err != nil || again.Recipients != 0 {
			t.Fatalf("second trigger on %d = %+v, %v", id, again, err)
		}
		dry, _ := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: id, DryRun: true})
		if dry.Recipients != 0 {
			t.Fatalf("dry run after sending counts %d", dry.Recipients)
		}
	}
}

func TestAlert_EachRecipientGetsTheirLanguage(t *testing.T) {
	f := newFixture(t)
	enSub := f.subscriber(sub{email: "en@example.org", lang: "en"})
	esSub := f.subscriber(sub{email: "es@example.org", lang: "es"})
	arSub := f.subscriber(sub{email: "ar@example.org", lang: "ar"})
	f.clock.Add(time.Minute)
	es := f.release(rel{title: "Hoja de ruta", lang: "es", key: "rm", topics: []string{"migration"}})
	f.clock.Add(time.Minute)
	en := f.release(rel{title: "Road map", lang: "en", key: "rm", topics: []string{"migration"}})
	if _, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: en.ID}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    store.Subscriber
		want int64
	}{{enSub, en.ID}, {esSub, es.ID}, {arSub, es.ID /* the earliest */}} {
		m := f.mails(c.s.ID, "alert")
		if len(m) != 1 || m[0].ReleaseID != c.want {
			t.Errorf("%s: %+v, want one alert of release %d", c.s.Email, m, c.want)
		}
	}
}

func TestAlert_AudienceImmediateTestToAndErrors(t *testing.T) {
	f := newFixture(t)
	imm := f.subscriber(sub{email: "imm@example.org", cadence: "immediate"})
	daily := f.subscriber(sub{email: "daily@example.org", cadence: "daily"})
	r := f.release(rel{title: "Urgent", lang: "en", topics: []string{"emergencies"}})
	res, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID, Audience: "immediate"})
	if err != nil || res.Recipients != 1 || len(f.mails(imm.ID, "alert")) != 1 || len(f.mails(daily.ID, "alert")) != 0 {
		t.Fatalf("immediate audience: %+v %v", res, err)
	}
	test, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID, TestTo: "officer@example.org"})
	if err != nil || test.Recipients != 1 || test.AlertID == 0 {
		t.Fatalf("test copy: %+v %v", test, err)
	}
	if len(f.mails(daily.ID, "alert")) != 0 {
		t.Fatal("a test copy was recorded for a subscriber")
	}
	// The test copy does not use up the real alert.
	res, _ = f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID})
	if res.Recipients != 1 {
		t.Fatalf("after a test copy, the matching alert reaches %d, want 1 (daily)", res.Recipients)
	}

	var ve *dispatch.ValidationError
	for _, req := range []dispatch.AlertRequest{
		{ReleaseID: r.ID, Audience: "everyone"},
		{ReleaseID: r.ID, TestTo: "a@example.org\r\nBcc: b@example.org"},
		{ReleaseID: r.ID, TestTo: "a@example.org, b@example.org"},
	} {
		if _, err := f.disp.Alert(f.ctx, req); !errors.As(err, &ve) {
			t.Errorf("%+v: err = %v, want a validation error", req, err)
		}
	}
	if _, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: 999}); !errors.Is(err, dispatch.ErrNotFound) {
		t.Errorf("unknown release: %v", err)
	}
	draft := f.release(rel{title: "Draft", lang: "en", topics: []string{"migration"}, draft: true})
	embargo := f.release(rel{title: "Later", lang: "en", topics: []string{"migration"}, at: f.clock.Now().Add(time.Hour)})
	for _, id := range []int64{draft.ID, embargo.ID} {
		if _, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: id}); !errors.Is(err, dispatch.ErrNotLive) {
			t.Errorf("release %d: err = %v, want ErrNotLive", id, err)
		}
	}
}

func TestAlert_StreamsInBatches(t *testing.T) {
	f := newFixture(t)
	const n = 2500 // more than two batches
	for i := 0; i < n; i++ {
		c := "immediate"
		if i%5 == 0 {
			c = "weekly"
		}
		f.subscriber(sub{email: fmt.Sprintf("s%04d@example.org", i), cadence: c})
	}
	r := f.release(rel{title: "Everyone", lang: "en", topics: []string{"migration"}})
	res, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID})
	if err != nil || res.Recipients != n || res.ByCadence["weekly"] != n/5 {
		t.Fatalf("= %+v, %v", res, err)
	}
	st, _ := f.disp.AlertStatus(f.ctx, res.AlertID)
	if st.Recipients != n || st.Pending != n {
		t.Fatalf("status %+v", st)
	}
}

func releasesTitle(t string) releases.Input { return releases.Input{Title: &t} }

func releasesBody(b string) releases.Input { return releases.Input{Body: &b} }

func TestAutoAlerts_OncePerGroupNotForBackdatedReleases(t *testing.T) {
	f := newFixture(t)
	imm := f.subscriber(sub{email: "imm@example.org", cadence: "immediate", lang: "es"})
	daily := f.subscriber(sub{email: "daily@example.org", cadence: "daily"})
	f.clock.Add(time.Minute)
	en := f.release(rel{title: "Road map", lang: "en", key: "rm", topics: []string{"migration"}})
	es := f.release(rel{title: "Hoja de ruta", lang: "es", key: "rm", topics: []string{"migration"}})
	old := f.release(rel{title: "Archive", lang: "en", topics: []string{"migration"}, at: f.clock.Now().Add(-30 * 24 * time.Hour)})
	f.disp.RunAutoAlertsOnce(f.ctx)
	f.disp.RunAutoAlertsOnce(f.ctx) // nothing twice
	m := f.mails(imm.ID, "alert")
	if len(m) != 1 || m[0].ReleaseID != es.ID {
		t.Fatalf("immediate subscriber got %+v, want only the Spanish version %d (not %d, not the archive %d)", m, es.ID, en.ID, old.ID)
	}
	if len(f.mails(daily.ID, "alert")) != 0 {
		t.Fatal("a daily subscriber got an automatic alert")
	}
	// An embargoed release alerts when its time comes.
	emb := f.release(rel{title: "Embargoed", lang: "en", topics: []string{"emergencies"}, at: f.clock.Now().Add(time.Hour)})
	f.disp.RunAutoAlertsOnce(f.ctx)
	if len(f.mails(imm.ID, "alert")) != 1 {
		t.Fatal("alerted before the embargo ended")
	}
	f.clock.Add(time.Hour)
	if _, err := f.rel.PublishDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.disp.RunAutoAlertsOnce(f.ctx)
	if m := f.mails(imm.ID, "alert"); len(m) != 2 || m[1].ReleaseID != emb.ID {
		t.Fatalf("after the embargo: %+v", m)
	}
}

func TestAlert_StaleGuardCountsFromTheStaffRequest(t *testing.T) {
	f := newFixture(t)
	f.subscriber(sub{email: "s@example.org"})
	r := f.release(rel{title: "Old news", lang: "en", topics: []string{"migration"}})
	f.clock.Add(72 * time.Hour) // long after it went live
	res, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID})
	if err != nil || res.Recipients != 1 {
		t.Fatal(res, err)
	}
	n, err := f.db.ExpireOutbox(f.ctx, f.clock.Now().Add(time.Hour))
	if err != nil || n["alert"] != 0 {
		t.Fatalf("a staff alert sent now expired at once: %v %v", n, err)
	}
	if n, _ := f.db.ExpireOutbox(f.ctx, f.clock.Now().Add(25*time.Hour)); n["alert"] != 1 {
		t.Fatalf("undelivered a day later: %v expired, want 1 alert", n)
	}
}

func TestDispatch_OnlyActiveSubscribersReceive(t *testing.T) {
	f := newFixture(t)
	active := f.subscriber(sub{email: "active@example.org", cadence: "daily"})
	others := map[string]store.Subscriber{}
	for _, st := range []string{"pending", "unsubscribed", "bounced"} {
		s, err := f.subs.Add(f.ctx, subscribers.AddRequest{Email: st + "@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if st != "pending" {
			if _, err := f.subs.Patch(f.ctx, s.ID, subscribers.PatchRequest{Status: &st}); err != nil {
				t.Fatalf("make %s: %v", st, err)
			}
		}
		others[st] = s
	}
	f.clock.Add(time.Minute)
	r := f.release(rel{title: "News", lang: "en", topics: []string{"migration"}})
	if res, _ := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID}); res.Recipients != 1 {
		t.Fatalf("alert reached %d, want only the active subscriber", res.Recipients)
	}
	f.clock.Add(time.Minute)
	f.release(rel{title: "More", lang: "en", topics: []string{"migration"}})
	if res, _ := f.disp.RunDigest(f.ctx, dispatch.DigestRequest{Cadence: "daily"}); res.Recipients != 1 {
		t.Fatalf("digest reached %d, want only the active subscriber", res.Recipients)
	}
	if len(f.mails(active.ID, "alert")) != 1 || len(f.mails(active.ID, "digest")) != 1 {
		t.Fatal("the active subscriber missed a message")
	}
	for st, s := range others {
		for _, kind := range []string{"alert", "digest"} {
			if n := len(f.mails(s.ID, kind)); n != 0 {
				t.Errorf("a %s subscriber got %d %s messages", st, n, kind)
			}
		}
	}
}

func TestAlert_StaffAfterAutomaticSkipsThoseAlreadyAlerted(t *testing.T) {
	f := newFixture(t)
	imm := f.subscriber(sub{email: "imm@example.org", cadence: "immediate"})
	daily := f.subscriber(sub{email: "daily@example.org", cadence: "daily"})
	f.clock.Add(time.Minute)
	r := f.release(rel{title: "Urgent", lang: "en", topics: []string{"emergencies"}})
	f.disp.RunAutoAlertsOnce(f.ctx)
	res, err := f.disp.Alert(f.ctx, dispatch.AlertRequest{ReleaseID: r.ID, Audience: "matching"})
	if err != nil || res.Recipients != 1 || res.ByCadence["daily"] != 1 {
		t.Fatalf("staff alert after the automatic one: %+v %v, want only the daily subscriber", res, err)
	}
	if len(f.mails(imm.ID, "alert")) != 1 || len(f.mails(daily.ID, "alert")) != 1 {
		t.Fatal("someone got the release twice or not at all")
	}
}
