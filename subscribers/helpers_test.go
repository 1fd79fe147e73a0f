package subscribers

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"herald/internal/clocktest"
	"herald/mailer"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

type fixture struct {
	db    *store.DB
	svc   *Service
	clock *clocktest.Clock
}

// newFixture opens a migrated SQLite database in t.TempDir with the
// built-in taxonomy and a subscriber service on a fixed clock.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	rel := releases.New(db, releases.Options{Now: clock.Now})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := New(db, rel, Options{Secret: testSecret, BaseURL: "https://press.example.org/", DefaultTimezone: "Europe/Zurich", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, svc: svc, clock: clock}
}

// byEmail finds a subscriber by normalized address.
func (f *fixture) byEmail(t testing.TB, email string) (store.Subscriber, bool) {
	t.Helper()
	var found store.Subscriber
	ok := false
	err := f.db.EachSubscriber(context.Background(), func(s *store.Subscriber) error {
		if s.Email == email {
			found, ok = *s, true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, ok
}

func (f *fixture) mustGet(t testing.TB, email string) store.Subscriber {
	t.Helper()
	s, ok := f.byEmail(t, email)
	if !ok {
		t.Fatalf("no subscriber %s", email)
	}
	return s
}

func (f *fixture) mails(t testing.TB, id int64) []store.SubscriberMail {
	t.Helper()
	m, err := f.db.SubscriberMails(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func notice(t testing.TB, m store.SubscriberMail) mailer.NoticeData {
	t.Helper()
	var d mailer.NoticeData
	if err := json.Unmarshal([]byte(m.Payload), &d); err != nil {
		t.Fatalf("payload %q: %v", m.Payload, err)
	}
	return d
}

func list(s ...string) *[]string { return &s }

func str(s string) *string { return &s }
