package subscribers

import (
	"context"
	"errors"
	"testing"

	"herald/mailer"
	"herald/store"
)

func TestAdd(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, err := f.svc.Add(ctx, AddRequest{Email: "ana@example.org", Confirmed: true, Consent: Consent{IP: "192.0.2.1", Page: "api"}})
	if err != nil || s.Status != store.SubscriberActive || s.ConfirmedAt.IsZero() || s.DigestSince.IsZero() || s.ConsentPage != "api" {
		t.Fatalf("confirmed add: %+v, %v", s, err)
	}
	if n := len(f.mails(t, s.ID)); n != 0 {
		t.Fatalf("a confirmed add queued %d mails", n)
	}
	p, err := f.svc.Add(ctx, AddRequest{Email: "bob@example.org"})
	if err != nil || p.Status != store.SubscriberPending {
		t.Fatalf("pending add: %+v, %v", p, err)
	}
	if m := f.mails(t, p.ID); len(m) != 1 || m[0].Kind != mailer.KindConfirm {
		t.Fatalf("pending add mails %+v", m)
	}
	_, err = f.svc.Add(ctx, AddRequest{Email: "ana@EXAMPLE.org"})
	if !errors.Is(err, ErrConflict) || !isFieldOf(err, "email") {
		t.Fatalf("duplicate add: %v", err)
	}
}

func isFieldOf(err error, field string) bool {
	var fe interface{ InvalidField() string }
	return errors.As(err, &fe) && fe.InvalidField() == field
}

func TestPatch_StatusRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s, _ := f.svc.Add(ctx, AddRequest{Email: "ana@example.org"})
	tests := []struct {
		to      string
		want    string
		wantErr bool
	}{
		{"pending", "pending", false}, // no change
		{"active", "active", false},   // staff vouch for consent
		{"pending", "", true},         // no way back to pending
		{"bounced", "bounced", false},
		{"active", "active", false}, // a bounce that was a mistake
		{"unsubscribed", "unsubscribed", false},
		{"active", "", true}, // only the subscriber can come back
		{"gone", "", true},
	}
	for _, tt := range tests {
		got, err := f.svc.Patch(ctx, s.ID, PatchRequest{Status: str(tt.to)})
		if tt.wantErr {
			if !isField(err, "status") {
				t.Fatalf("to %s: err %v, want a status error", tt.to, err)
			}
			continue
		}
		if err != nil || got.Status != tt.want {
			t.Fatalf("to %s: %+v, %v", tt.to, got.Status, err)
		}
	}
	if _, err := f.svc.Patch(ctx, s.ID, PatchRequest{Email: str("new@example.org")}); !isField(err, "email") {
		t.Fatalf("email change: %v", err)
	}
	if _, err := f.svc.Patch(ctx, 999, PatchRequest{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	got, err := f.svc.Patch(ctx, s.ID, PatchRequest{Prefs: PrefsInput{Cadence: str("weekly"), Topics: list("gender")}})
	if err != nil || got.Cadence != "weekly" || len(got.Topics) != 1 {
		t.Fatalf("prefs patch: %+v, %v", got, err)
	}
}

func TestList_Filters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	add := func(email string, confirmed bool, topics, regions []string) {
		t.Helper()
		if _, err := f.svc.Add(ctx, AddRequest{Email: email, Confirmed: confirmed, Prefs: PrefsInput{Topics: &topics, Regions: &regions}}); err != nil {
			t.Fatal(err)
		}
	}
	add("all@example.org", true, nil, nil)
	add("refugees-americas@example.org", true, []string{"refugees"}, []string{"americas"})
	add("gender-argentina@example.org", false, []string{"gender"}, []string{"argentina"})
	add("refugees-europe@example.org", true, []string{"refugees"}, []string{"europe"})
	emails := func(q ListQuery) []string {
		t.Helper()
		p, err := f.svc.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range p.Items {
			out = append(out, s.Email)
		}
		return out
	}
	tests := []struct {
		name string
		q    ListQuery
		want []string
	}{
		{"status", ListQuery{Status: "pending"}, []string{"gender-argentina@example.org"}},
		{"topic includes subscribers to all", ListQuery{Topics: []string{"refugees"}}, []string{"refugees-europe@example.org", "refugees-americas@example.org", "all@example.org"}},
		{"country includes its region", ListQuery{Regions: []string{"argentina"}}, []string{"gender-argentina@example.org", "refugees-americas@example.org", "all@example.org"}},
		{"both", ListQuery{Topics: []string{"refugees"}, Regions: []string{"spain"}, Status: "active"}, []string{"refugees-europe@example.org", "all@example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := emails(tt.q)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	// Pagination walks every subscriber once.
	seen := map[string]bool{}
	q := ListQuery{Limit: 3}
	for page := 0; page < 5; page++ {
		p, err := f.svc.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Items {
			seen[s.Email] = true
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if len(seen) != 4 {
		t.Fatalf("pagination saw %d subscribers", len(seen))
	}
	for _, bad := range []ListQuery{{Status: "nope"}, {Topics: []string{"nope"}}, {Regions: []string{"nope"}}, {Cursor: "!!"}, {Limit: 201}} {
		if _, err := f.svc.List(ctx, bad); err == nil {
			t.Errorf("List(%+v) accepted", bad)
		}
	}
}
