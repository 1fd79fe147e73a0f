package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/mailer"
	"herald/store"
)

func subscribe(t *testing.T, f *fixture, email string, p PrefsInput) {
	t.Helper()
	err := f.svc.Subscribe(context.Background(), SubscribeRequest{Email: email, Prefs: p, Consent: Consent{IP: "203.0.113.7", Page: "/subscribe"}})
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", email, err)
	}
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func TestSubscribe_NewAddressGetsConfirmation(t *testing.T) {
	f := newFixture(t)
	subscribe(t, f, "  Ana@Example.ORG ", PrefsInput{Topics: list("refugees", "Migration"), Regions: list("argentina"),
		Language: str("fr"), Cadence: str("weekly"), Timezone: str("America/Argentina/Buenos_Aires")})
	s := f.mustGet(t, "Ana@example.org")
	if s.Status != store.SubscriberPending || !s.ConfirmedAt.IsZero() || !s.DigestSince.IsZero() {
		t.Fatalf("new subscriber: %+v", s)
	}
	if strings.Join(s.Topics, ",") != "migration,refugees" || strings.Join(s.Regions, ",") != "argentina" ||
		s.Language != "fr" || s.Cadence != "weekly" || s.Timezone != "America/Argentina/Buenos_Aires" {
		t.Fatalf("preferences not stored: %+v", s)
	}
	// The consent record: when, from which IP and page, and what.
	if !s.ConsentAt.Equal(f.clock.Now()) || s.ConsentIP != "203.0.113.7" || s.ConsentPage != "/subscribe" {
		t.Fatalf("consent record: %+v", s)
	}
	var consented Prefs
	if err := json.Unmarshal([]byte(s.ConsentPrefs), &consented); err != nil || consented.Cadence != "weekly" || len(consented.Topics) != 2 {
		t.Fatalf("consent prefs %q: %v", s.ConsentPrefs, err)
	}
	mails := f.mails(t, s.ID)
	if len(mails) != 1 {
		t.Fatalf("%d mails queued, want 1", len(mails))
	}
	m := mails[0]
	if m.Kind != mailer.KindConfirm || m.State != "queued" || m.IdemKey != "confirm:"+itoa(s.ID)+":1" {
		t.Fatalf("queued mail %+v", m)
	}
	d := notice(t, m)
	if d.Language != "fr" || d.Cadence != "weekly" || strings.Join(d.Topics, "|") != "Migration|Réfugiés" || strings.Join(d.Regions, "|") != "Argentine" {
		t.Fatalf("notice data %+v", d)
	}
	if !strings.HasPrefix(d.ConfirmURL, "https://press.example.org/confirm?token=") {
		t.Fatalf("confirm URL %q", d.ConfirmURL)
	}
	if id, err := f.svc.Tokens().Verify(PurposeConfirm, tokenOf(t, d.ConfirmURL)); err != nil || id != s.ID {
		t.Fatalf("confirm token names %d, %v", id, err)
	}
	if id, err := f.svc.Tokens().Verify(PurposePreferences, tokenOf(t, d.PreferencesURL)); err != nil || id != s.ID {
		t.Fatalf("preferences token names %d, %v", id, err)
	}
}

func itoa(n int64) string { return strconvFormat(n) }

func TestSubscribe_OneNoticePerTenMinutes(t *testing.T) {
	f := newFixture(t)
	subscribe(t, f, "ana@example.org", PrefsInput{})
	f.clock.Add(9 * time.Minute)
	subscribe(t, f, "ana@example.org", PrefsInput{Cadence: str("immediate")})
	s := f.mustGet(t, "ana@example.org")
	if n := len(f.mails(t, s.ID)); n != 1 {
		t.Fatalf("%d mails after a second request within 10 minutes, want 1", n)
	}
	if s.Cadence != "immediate" {
		t.Fatalf("a pending subscriber's new choices are kept: cadence %q", s.Cadence)
	}
	f.clock.Add(time.Minute + time.Second)
	subscribe(t, f, "ana@example.org", PrefsInput{})
	mails := f.mails(t, s.ID)
	if len(mails) != 2 || mails[1].IdemKey != "confirm:"+itoa(s.ID)+":2" {
		t.Fatalf("after 10 minutes: %+v", mails)
	}
}

func TestSubscribe_ActiveGetsManageMailAndKeepsPreferences(t *testing.T) {
	f := newFixture(t)
	subscribe(t, f, "ana@example.org", PrefsInput{Topics: list("refugees")})
	s := f.mustGet(t, "ana@example.org")
	d := notice(t, f.mails(t, s.ID)[0])
	f.clock.Add(time.Hour)
	if _, err := f.svc.Confirm(context.Background(), tokenOf(t, d.ConfirmURL)); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Hour)
	subscribe(t, f, "ana@example.org", PrefsInput{Topics: list("gender")})
	s = f.mustGet(t, "ana@example.org")
	if s.Status != store.SubscriberActive || strings.Join(s.Topics, ",") != "refugees" {
		t.Fatalf("a stranger changed an active subscription: %+v", s)
	}
	mails := f.mails(t, s.ID)
	if len(mails) != 2 || mails[1].Kind != mailer.KindManage {
		t.Fatalf("mails %+v, want confirm then manage", mails)
	}
	if d := notice(t, mails[1]); d.ConfirmURL != "" || d.PreferencesURL == "" || d.UnsubscribeURL == "" {
		t.Fatalf("manage notice %+v", d)
	}
	// Manage mails share the 10-minute limit.
	subscribe(t, f, "ana@example.org", PrefsInput{})
	if n := len(f.mails(t, s.ID)); n != 2 {
		t.Fatalf("%d mails, want 2", n)
	}
}

func TestConfirm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	subscribe(t, f, "ana@example.org", PrefsInput{})
	s := f.mustGet(t, "ana@example.org")
	tok := tokenOf(t, notice(t, f.mails(t, s.ID)[0]).ConfirmURL)

	if _, err := f.svc.ByToken(ctx, PurposeConfirm, tok); err != nil {
		t.Fatal(err)
	}
	if got := f.mustGet(t, "ana@example.org"); got.Status != store.SubscriberPending {
		t.Fatal("looking a token up changed the subscriber")
	}
	if _, err := f.svc.Confirm(ctx, tok[:len(tok)-1]+"A"); !errors.Is(err, ErrBadToken) {
		t.Fatalf("forged token: %v", err)
	}
	f.clock.Add(2 * time.Hour)
	got, err := f.svc.Confirm(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if got.Status != store.SubscriberActive || !got.ConfirmedAt.Equal(now) || !got.DigestSince.Equal(now) {
		t.Fatalf("confirmed subscriber %+v", got)
	}
	f.clock.Add(time.Hour)
	if again, err := f.svc.Confirm(ctx, tok); err != nil || !again.ConfirmedAt.Equal(now) {
		t.Fatalf("confirming twice: %+v, %v", again, err)
	}
	// After unsubscribing, the old confirmation link does not bring them back.
	if _, err := f.svc.Unsubscribe(ctx, PurposeUnsubscribe, f.svc.Tokens().Make(PurposeUnsubscribe, s.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Confirm(ctx, tok); !errors.Is(err, ErrGone) {
		t.Fatalf("confirm after unsubscribe: %v, want ErrGone", err)
	}
	// One event per change, recorded with it (SPEC 9.3): confirming twice
	// and a refused confirmation record nothing.
	evs, err := f.db.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Type != store.EventSubscriberUnsubscribe || evs[1].Type != store.EventSubscriberConfirmed ||
		!strings.Contains(evs[1].Data, `"email":"ana@example.org"`) || !strings.Contains(evs[0].Data, `"status":"unsubscribed"`) {
		t.Fatalf("events %+v", evs)
	}
}

func TestConfirm_Expired(t *testing.T) {
	f := newFixture(t)
	subscribe(t, f, "ana@example.org", PrefsInput{})
	s := f.mustGet(t, "ana@example.org")
	tok := tokenOf(t, notice(t, f.mails(t, s.ID)[0]).ConfirmURL)
	f.clock.Add(ConfirmTTL + time.Second)
	if _, err := f.svc.Confirm(context.Background(), tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	if got := f.mustGet(t, "ana@example.org"); got.Status != store.SubscriberPending {
		t.Fatalf("an expired confirmation changed the status to %s", got.Status)
	}
}

func TestUnsubscribe_CancelsQueuedMailAndResubscribe(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	subscribe(t, f, "ana@example.org", PrefsInput{})
	s := f.mustGet(t, "ana@example.org")
	got, err := f.svc.Unsubscribe(ctx, PurposeUnsubscribe, f.svc.Tokens().Make(PurposeUnsubscribe, s.ID))
	if err != nil || got.Status != store.SubscriberUnsubscribed || got.UnsubscribedAt.IsZero() {
		t.Fatalf("unsubscribe: %+v, %v", got, err)
	}
	if m := f.mails(t, s.ID); m[0].State != "cancelled" {
		t.Fatalf("queued mail is %s, want cancelled", m[0].State)
	}
	if _, err := f.svc.Unsubscribe(ctx, PurposeUnsubscribe, f.svc.Tokens().Make(PurposeUnsubscribe, s.ID)); err != nil {
		t.Fatalf("unsubscribing twice: %v", err)
	}
	if _, err := f.svc.Unsubscribe(ctx, PurposeConfirm, f.svc.Tokens().Make(PurposeConfirm, s.ID)); !errors.Is(err, ErrBadToken) {
		t.Fatalf("unsubscribe with a confirm token: %v", err)
	}
	f.clock.Add(time.Hour)
	back, err := f.svc.Resubscribe(ctx, f.svc.Tokens().Make(PurposePreferences, s.ID), Consent{IP: "198.51.100.1", Page: "/preferences"})
	if err != nil || back.Status != store.SubscriberActive || !back.DigestSince.Equal(f.clock.Now()) || back.ConsentIP != "198.51.100.1" {
		t.Fatalf("resubscribe: %+v, %v", back, err)
	}
}

func TestSubscribe_UnsubscribedBecomesPendingAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	subscribe(t, f, "ana@example.org", PrefsInput{})
	s := f.mustGet(t, "ana@example.org")
	if _, err := f.svc.Unsubscribe(ctx, PurposeUnsubscribe, f.svc.Tokens().Make(PurposeUnsubscribe, s.ID)); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(11 * time.Minute)
	subscribe(t, f, "ana@example.org", PrefsInput{Cadence: str("weekly")})
	s = f.mustGet(t, "ana@example.org")
	mails := f.mails(t, s.ID)
	if s.Status != store.SubscriberPending || s.Cadence != "weekly" || len(mails) != 2 || mails[1].Kind != mailer.KindConfirm {
		t.Fatalf("re-subscribe after unsubscribe: %+v, mails %+v", s, mails)
	}
}

func TestUpdatePreferences(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	subscribe(t, f, "ana@example.org", PrefsInput{Topics: list("refugees")})
	s := f.mustGet(t, "ana@example.org")
	tok := f.svc.Tokens().Make(PurposePreferences, s.ID)
	got, err := f.svc.UpdatePreferences(ctx, tok, PrefsInput{Topics: list(), Regions: list("europe", "spain"), Language: str("es"), Cadence: str("immediate"), Timezone: str("Europe/Madrid")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Topics) != 0 || strings.Join(got.Regions, ",") != "europe,spain" || got.Language != "es" || got.Cadence != "immediate" || got.Timezone != "Europe/Madrid" || got.Status != store.SubscriberPending {
		t.Fatalf("updated: %+v", got)
	}
	if _, err := f.svc.UpdatePreferences(ctx, tok, PrefsInput{Regions: list("atlantis")}); !isField(err, "regions") {
		t.Fatalf("unknown region: %v", err)
	}
	if _, err := f.svc.UpdatePreferences(ctx, f.svc.Tokens().Make(PurposeUnsubscribe, s.ID), PrefsInput{}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("unsubscribe token used for preferences: %v", err)
	}
}

func isField(err error, field string) bool {
	var ve *ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

func TestSubscribe_Validation(t *testing.T) {
	tests := []struct {
		name  string
		email string
		p     PrefsInput
		field string
	}{
		{"bad email", "not-an-address", PrefsInput{}, "email"},
		{"header injection", "a@example.org\r\nBcc: x@example.org", PrefsInput{}, "email"},
		{"unknown topic", "a@example.org", PrefsInput{Topics: list("migration", "space-travel")}, "topics"},
		{"unknown region", "a@example.org", PrefsInput{Regions: list("atlantis")}, "regions"},
		{"slug with markup", "a@example.org", PrefsInput{Topics: list("<script>")}, "topics"},
		{"bad language", "a@example.org", PrefsInput{Language: str("klingon!")}, "language"},
		{"bad cadence", "a@example.org", PrefsInput{Cadence: str("hourly")}, "cadence"},
		{"unknown time zone", "a@example.org", PrefsInput{Timezone: str("Mars/Olympus_Mons")}, "timezone"},
		{"Local is not a zone", "a@example.org", PrefsInput{Timezone: str("Local")}, "timezone"},
		{"path as zone", "a@example.org", PrefsInput{Timezone: str("../../etc/passwd")}, "timezone"},
		{"overlong zone", "a@example.org", PrefsInput{Timezone: str(strings.Repeat("A", 100))}, "timezone"},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.svc.Subscribe(context.Background(), SubscribeRequest{Email: tt.email, Prefs: tt.p})
			if !isField(err, tt.field) {
				t.Fatalf("err = %v, want a validation error on %s", err, tt.field)
			}
		})
	}
	n := 0
	_ = f.db.EachSubscriber(context.Background(), func(*store.Subscriber) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d subscribers stored from invalid requests", n)
	}
}

func TestSubscribe_Defaults(t *testing.T) {
	f := newFixture(t)
	subscribe(t, f, "ana@example.org", PrefsInput{Language: str("FR-ca"), Cadence: str(" Daily "), Timezone: str("")})
	s := f.mustGet(t, "ana@example.org")
	if s.Language != "fr" || s.Cadence != "daily" || s.Timezone != "Europe/Zurich" || len(s.Topics) != 0 || len(s.Regions) != 0 {
		t.Fatalf("defaults: %+v", s)
	}
}

func TestErase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	subscribe(t, f, "ana@example.org", PrefsInput{})
	s := f.mustGet(t, "ana@example.org")
	if err := f.svc.Erase(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.byEmail(t, "ana@example.org"); ok {
		t.Fatal("erased subscriber still stored")
	}
	if _, err := f.svc.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after erase: %v", err)
	}
	if err := f.svc.Erase(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("erasing twice: %v", err)
	}
	var exists bool
	err := f.db.InTx(ctx, func(tx *store.Tx) (err error) {
		exists, err = tx.SuppressionExists(ctx, HashAddress("ana@example.org"))
		return err
	})
	if err != nil || !exists {
		t.Fatalf("address hash not suppressed: %v", err)
	}
	// Their queued confirmation is cancelled and no longer names them.
	rows, err := f.db.SubscriberMails(ctx, s.ID)
	if err != nil || len(rows) != 0 {
		t.Fatalf("outbox rows still tied to the erased subscriber: %+v %v", rows, err)
	}
	// Subscribing the erased address again (SPEC 11) makes a pending
	// subscriber with a confirmation; the address stays suppressed until
	// they confirm, so staff adding it still get a conflict naming the field.
	f.clock.Add(time.Hour)
	subscribe(t, f, "Ana@Example.org", PrefsInput{})
	back, ok := f.byEmail(t, "Ana@example.org")
	if !ok || back.Status != store.SubscriberPending || back.ID == s.ID {
		t.Fatalf("an erased address subscribing again: %+v %v", back, ok)
	}
	_, err = f.svc.Add(ctx, AddRequest{Email: "ana@example.org", Confirmed: true})
	if !errors.Is(err, ErrConflict) || !isField(err, "email") && !strings.Contains(err.Error(), "suppression") {
		t.Fatalf("Add of a suppressed address: %v", err)
	}
	if _, err := f.svc.Confirm(ctx, f.svc.Tokens().Make(PurposeConfirm, back.ID)); err != nil {
		t.Fatal(err)
	}
	err = f.db.InTx(ctx, func(tx *store.Tx) (err error) {
		exists, err = tx.SuppressionExists(ctx, HashAddress("ana@example.org"))
		return err
	})
	if err != nil || exists {
		t.Fatalf("the suppression outlived their confirmation: %v %v", exists, err)
	}
	// Tokens of the erased subscriber now say so.
	if _, err := f.svc.ByToken(ctx, PurposeUnsubscribe, f.svc.Tokens().Make(PurposeUnsubscribe, s.ID)); !errors.Is(err, ErrGone) {
		t.Fatalf("token of an erased subscriber: %v", err)
	}
}
