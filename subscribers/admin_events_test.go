package subscribers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"herald/store"
)

// eventLines returns the recorded events, oldest first, as "type status
// email" lines.
func eventLines(t *testing.T, db *store.DB) []string {
	t.Helper()
	evs, err := db.Events(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		var d struct {
			Subscriber struct {
				ID, Status, Email string
				Erased            bool
			}
		}
		if err := json.Unmarshal([]byte(evs[i].Data), &d); err != nil {
			t.Fatal(err)
		}
		line := evs[i].Type + " " + d.Subscriber.Status + " " + d.Subscriber.Email
		if d.Subscriber.ID == "" {
			line += " (no id)"
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

func TestAdminChanges_RecordSubscriberEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ana, err := f.svc.Add(ctx, AddRequest{Email: "ana@example.org", Confirmed: true})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.svc.Add(ctx, AddRequest{Email: "bob@example.org"}) // pending: nothing yet
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		id     int64
		status string
	}{
		{bob.ID, "active"},       // staff vouch for consent: as a confirmation
		{bob.ID, "active"},       // no change, no event
		{bob.ID, "bounced"},      // marked bounced by staff
		{bob.ID, "active"},       // the bounce was a mistake
		{ana.ID, "unsubscribed"}, // staff unsubscribe her
		{ana.ID, "unsubscribed"}, // again: nothing
	}
	for _, st := range steps {
		if _, err := f.svc.Patch(ctx, st.id, PatchRequest{Status: str(st.status)}); err != nil {
			t.Fatalf("patch %d to %s: %v", st.id, st.status, err)
		}
	}
	lang := "fr"
	if _, err := f.svc.Patch(ctx, bob.ID, PatchRequest{Prefs: PrefsInput{Language: &lang}}); err != nil {
		t.Fatal(err) // preferences alone record no event
	}
	if err := f.svc.Erase(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"subscriber.confirmed active ana@example.org",
		"subscriber.confirmed active bob@example.org",
		"subscriber.bounced bounced bob@example.org",
		"subscriber.confirmed active bob@example.org",
		"subscriber.unsubscribed unsubscribed ana@example.org",
		"subscriber.unsubscribed erased", // no personal data of an erased person
	}
	got := eventLines(t, f.db)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestImport_RecordsEventsOfStatusChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Add(ctx, AddRequest{Email: "pending@example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Add(ctx, AddRequest{Email: "leaving@example.org", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	// With no webhook listening, an import records nothing (it must stay
	// fast; those events would reach no one).
	if _, err := f.svc.Import(ctx, strings.NewReader("email\nnobody-listens@example.org\n"), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(eventLines(t, f.db)); n != 1 {
		t.Fatalf("%d events with no webhook listening, want 1", n)
	}
	if err := f.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.InsertWebhook(ctx, &store.Webhook{URL: "https://hooks.example.org/", Active: true,
			Events: []string{store.EventSubscriberConfirmed, store.EventSubscriberUnsubscribe}, Secret: "whsec_AAAA"})
	}); err != nil {
		t.Fatal(err)
	}
	csv := "email,status\nnew@example.org,active\nold@example.org,unsubscribed\npending@example.org,active\nleaving@example.org,unsubscribed\nnew2@example.org,\n"
	res, err := f.svc.Import(ctx, strings.NewReader(csv), ImportOptions{})
	if err != nil || res.Added != 3 || res.Updated != 2 {
		t.Fatalf("import %+v %v", res, err)
	}
	got := eventLines(t, f.db)[1:] // after leaving@'s own confirmation
	want := []string{
		"subscriber.confirmed active new@example.org",
		"subscriber.confirmed active pending@example.org",
		"subscriber.unsubscribed unsubscribed leaving@example.org",
		"subscriber.confirmed active new2@example.org",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same file again changes nothing and records nothing.
	if _, err := f.svc.Import(ctx, strings.NewReader(csv), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(eventLines(t, f.db)); n != 5 {
		t.Fatalf("%d events after re-importing the same file, want 5", n)
	}
}
