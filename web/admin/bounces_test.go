package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"herald/store"
	"herald/subscribers"
)

func TestBouncesPage(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	s.seed(store.SeedSubscriber{Email: "ana@example.net"}, store.SeedSubscriber{Email: "ben@example.net"})
	for _, r := range []subscribers.BounceReport{
		{Kind: "hard", Source: "ses", Recipient: "ana@example.net", ByRecipient: true, EventID: "1", Diagnostic: "5.1.1 <user unknown>"},
		{Kind: "complaint", Source: "mailgun", Recipient: "ben@example.net", ByRecipient: true, EventID: "2"},
	} {
		if _, err := s.subs.RecordBounce(context.Background(), r, 5); err != nil {
			t.Fatal(err)
		}
	}
	s.login()
	r := s.get("/admin/bounces")
	if r.status != 200 || !strings.Contains(r.body, "ana@example.net") || !strings.Contains(r.body, "ben@example.net") ||
		!strings.Contains(r.body, "5.1.1 &lt;user unknown&gt;") || !strings.Contains(r.body, `href="/admin/bounces" aria-current="page"`) {
		t.Fatalf("bounces page: %d\n%s", r.status, r.body)
	}
	if r := s.get("/admin/bounces?kind=complaint"); strings.Contains(r.body, "ana@example.net") || !strings.Contains(r.body, "ben@example.net") {
		t.Fatal("the kind filter shows other kinds")
	}
	if r := s.get("/admin/bounces?source=smtp"); !strings.Contains(r.body, "No bounces or complaints match") {
		t.Fatal("the source filter shows other sources")
	}
	for _, q := range []string{"kind=bounce", "source=x", "since=yesterday", "cursor=-1"} {
		if r := s.get("/admin/bounces?" + q); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}
