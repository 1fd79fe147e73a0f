package staff_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/mailer"
	"herald/staff"
	"herald/store"
	"herald/store/storetest"
)

type fixture struct {
	db  *store.DB
	svc *staff.Service
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{db: storetest.New(t), now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc = staff.New(f.db, staff.Options{BaseURL: "https://press.example.org/", Now: func() time.Time { return f.now }})
	return f
}

// queued returns the staff messages waiting in the outbox.
func (f *fixture) queued(t *testing.T) []store.OutboxMessage {
	t.Helper()
	msgs, err := f.db.ClaimOutbox(context.Background(), f.now.Add(time.Hour), store.ClaimOptions{Limit: 100, Lease: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path != "/admin/password" {
		t.Fatalf("link %q is not a set-password link", link)
	}
	return u.Query().Get("token")
}

func TestCreate_QueuesInvitationWithSingleUseLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m, link, err := f.svc.Create(ctx, staff.CreateInput{Email: "Ana.Lopez@Example.org", Name: "Ana López", Role: "Editor"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Role != "editor" || m.Email != "Ana.Lopez@Example.org" || m.HasPassword || m.Disabled {
		t.Fatalf("member %+v", m)
	}
	if !strings.HasPrefix(link, "https://press.example.org/admin/password?token=") {
		t.Fatalf("link %q", link)
	}
	msgs := f.queued(t)
	if len(msgs) != 1 || msgs[0].Kind != mailer.KindStaffInvite || msgs[0].To != "Ana.Lopez@Example.org" {
		t.Fatalf("queued %+v", msgs)
	}
	var d mailer.StaffData
	if err := json.Unmarshal([]byte(msgs[0].Payload), &d); err != nil || d.LinkURL != link || !d.Expires.Equal(f.now.Add(72*time.Hour)) {
		t.Fatalf("payload %s (%v)", msgs[0].Payload, err)
	}

	tok := tokenOf(t, link)
	if err := f.svc.LinkState(ctx, tok); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
	// A weak password is refused and leaves the link usable.
	if _, err := f.svc.SetPassword(ctx, tok, "short"); !isField(err, "password") {
		t.Fatalf("short password: %v", err)
	}
	if _, err := f.svc.SetPassword(ctx, tok, "aaaaaaaaaaaaaaaa"); !isField(err, "password") {
		t.Fatalf("repeated password: %v", err)
	}
	if _, err := f.svc.SetPassword(ctx, tok, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPassword(ctx, tok, "another good password"); !errors.Is(err, staff.ErrLinkUsed) {
		t.Fatalf("reused link: %v", err)
	}
	p, _, err := f.svc.Login(ctx, "ana.lopez@EXAMPLE.org", "correct horse battery")
	if err != nil || p.Role != staff.Editor || p.Kind != staff.KindStaff {
		t.Fatalf("login: %+v %v", p, err)
	}
	if _, _, err := f.svc.Login(ctx, "ana.lopez@example.org", "another good password"); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("the reused link changed the password: %v", err)
	}
}

func isField(err error, field string) bool {
	var ve *staff.ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

func TestCreate_BadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.svc.Create(ctx, staff.CreateInput{Email: "ana@example.org", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		in    staff.CreateInput
		field string
		dup   bool
	}{
		{"unknown role", staff.CreateInput{Email: "bo@example.org", Role: "owner"}, "role", false},
		{"no role", staff.CreateInput{Email: "bo@example.org"}, "role", false},
		{"duplicate, other case", staff.CreateInput{Email: "ANA@Example.ORG", Role: "viewer"}, "email", true},
		{"not an address", staff.CreateInput{Email: "ana at example", Role: "viewer"}, "email", false},
		{"header injection", staff.CreateInput{Email: "x@example.org\r\nBcc: y@example.org", Role: "viewer"}, "email", false},
		{"name on two lines", staff.CreateInput{Email: "bo@example.org", Name: "Bo\nBcc", Role: "viewer"}, "name", false},
		{"invalid UTF-8", staff.CreateInput{Email: "bo@example.org", Name: "Bo \xff", Role: "viewer"}, "name", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.svc.Create(ctx, tc.in)
			if !isField(err, tc.field) {
				t.Fatalf("got %v, want an error on %s", err, tc.field)
			}
			if tc.dup != errors.Is(err, store.ErrConflict) {
				t.Fatalf("conflict = %v for %v", !tc.dup, err)
			}
		})
	}
	ms, err := f.svc.List(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("members after refusals: %d %v", len(ms), err)
	}
	if n := len(f.queued(t)); n != 1 {
		t.Fatalf("%d mails queued, want only the first invitation", n)
	}
}

func TestLink_Expires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, link, err := f.svc.Create(ctx, staff.CreateInput{Email: "ana@example.org", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenOf(t, link)
	f.now = f.now.Add(72*time.Hour + time.Second)
	if err := f.svc.LinkState(ctx, tok); !errors.Is(err, staff.ErrLinkExpired) {
		t.Fatalf("state: %v", err)
	}
	if _, err := f.svc.SetPassword(ctx, tok, "correct horse battery"); !errors.Is(err, staff.ErrLinkExpired) {
		t.Fatalf("expired link: %v", err)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("A", 43), tok[:42] + "!"} {
		if _, err := f.svc.SetPassword(ctx, bad, "correct horse battery"); !errors.Is(err, staff.ErrLinkInvalid) {
			t.Fatalf("forged link %q: %v", bad, err)
		}
	}
	m, err := f.svc.ByEmail(ctx, "ana@example.org")
	if err != nil || m.HasPassword {
		t.Fatalf("a refused link set a password: %+v %v", m, err)
	}
}

func TestReset_OnlyForKnownEnabledMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m, link, err := f.svc.Create(ctx, staff.CreateInput{Email: "ana@example.org", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPassword(ctx, tokenOf(t, link), "first password 1"); err != nil {
		t.Fatal(err)
	}
	f.queued(t) // the invitation
	if err := f.svc.RequestReset(ctx, "nobody@example.org", "fr"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.queued(t)); n != 0 {
		t.Fatalf("unknown address got %d mails", n)
	}
	if err := f.svc.RequestReset(ctx, "ANA@example.org", "fr"); err != nil {
		t.Fatal(err)
	}
	msgs := f.queued(t)
	if len(msgs) != 1 || msgs[0].Kind != mailer.KindStaffReset {
		t.Fatalf("reset mails %+v", msgs)
	}
	var d mailer.StaffData
	_ = json.Unmarshal([]byte(msgs[0].Payload), &d)
	if _, err := f.svc.SetPassword(ctx, tokenOf(t, d.LinkURL), "second password 2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Login(ctx, "ana@example.org", "first password 1"); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("old password still works: %v", err)
	}
	if _, err := f.svc.Disable(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RequestReset(ctx, "ana@example.org", ""); err != nil {
		t.Fatal(err)
	}
	if n := len(f.queued(t)); n != 0 {
		t.Fatalf("disabled member got %d reset mails", n)
	}
	if _, _, err := f.svc.Login(ctx, "ana@example.org", "second password 2"); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("disabled member logged in: %v", err)
	}
}

func TestSession_EndsOnDisableAndPasswordChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m, link, _ := f.svc.Create(ctx, staff.CreateInput{Email: "ana@example.org", Role: "publisher"})
	if _, err := f.svc.SetPassword(ctx, tokenOf(t, link), "first password 1"); err != nil {
		t.Fatal(err)
	}
	_, epoch, err := f.svc.Login(ctx, "ana@example.org", "first password 1")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := f.svc.Session(ctx, m.ID, epoch); err != nil || p.Role != staff.Publisher {
		t.Fatalf("session: %+v %v", p, err)
	}
	role := "viewer"
	if _, err := f.svc.Update(ctx, m.ID, staff.Patch{Role: &role}); err != nil {
		t.Fatal(err)
	}
	if p, err := f.svc.Session(ctx, m.ID, epoch); err != nil || p.Role != staff.Viewer {
		t.Fatalf("a role change must apply to the open session at once: %+v %v", p, err)
	}
	if _, err := f.svc.Disable(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, m.ID, epoch); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("session of a disabled member: %v", err)
	}
	no := false
	if _, err := f.svc.Update(ctx, m.ID, staff.Patch{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, m.ID, epoch); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("re-enabling revived an old session: %v", err)
	}
}

func TestPasswordHash(t *testing.T) {
	h := staff.HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if !staff.VerifyPassword(h, "correct horse battery") || staff.VerifyPassword(h, "correct horse batterY") {
		t.Fatal("verify")
	}
	if h == staff.HashPassword("correct horse battery") {
		t.Fatal("no salt")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=0,t=0,p=0$$", "plain"} {
		if staff.VerifyPassword(bad, "") {
			t.Fatalf("%q verified", bad)
		}
	}
}

func TestSignInSSO(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.svc.SignInSSO(ctx, "ana@example.org", "Ana", staff.RoleNone); !errors.Is(err, staff.ErrSSORefused) {
		t.Fatalf("unknown, unmapped: %v", err)
	}
	if _, _, err := f.svc.SignInSSO(ctx, "", "Ana", staff.Admin); !errors.Is(err, staff.ErrSSORefused) {
		t.Fatalf("no address: %v", err)
	}
	// Two first sign-ins at once make one account, and both succeed.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, _, err := f.svc.SignInSSO(ctx, "Ana@Example.org", "Ana", staff.Editor)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	ms, err := f.svc.List(ctx)
	if err != nil || len(ms) != 1 || ms[0].Role != "editor" || ms[0].HasPassword {
		t.Fatalf("accounts: %+v %v", ms, err)
	}
	if n := len(f.queued(t)); n != 0 {
		t.Fatalf("single sign-on sent %d invitations", n)
	}
}
