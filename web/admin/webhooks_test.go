package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/store"
	"herald/webhooks"
)

func TestAdmin_WebhooksPage(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	ctx := context.Background()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }))
	defer recv.Close()
	u, evs := recv.URL+"/<hook>", []string{store.EventReleasePublished}
	doc, err := s.hooks.Create(ctx, webhooks.Input{URL: &u, Events: &evs})
	if err != nil {
		t.Fatal(err)
	}
	s.release("Webhook test", nil)
	if _, err := s.hooks.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	s.login()
	r := s.get("/admin/webhooks")
	if r.status != 200 || !strings.Contains(r.body, "/%3chook%3e") && !strings.Contains(r.body, "/&lt;hook&gt;") || strings.Contains(r.body, "<hook>") ||
		!strings.Contains(r.body, "release.published") || strings.Contains(r.body, doc.Secret) {
		t.Fatalf("list: %d\n%s", r.status, r.body)
	}
	r = s.get("/admin/webhooks?id=" + doc.ID)
	if r.status != 200 || !strings.Contains(r.body, "HTTP 502") || !strings.Contains(r.body, "queued") || !strings.Contains(r.body, "msg_") {
		t.Fatalf("deliveries: %d\n%s", r.status, r.body)
	}
	if r := s.get("/admin/webhooks?id=999"); r.status != 404 {
		t.Fatalf("unknown webhook: %d", r.status)
	}
}
