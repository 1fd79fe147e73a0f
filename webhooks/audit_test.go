package webhooks_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"herald/audit"
	"herald/internal/outbound"
	"herald/store"
	"herald/store/storetest"
	"herald/webhooks"
)

// Every change to a webhook is one audit entry (SPEC 7.3, webhook.*),
// without the secret.
func TestWebhookChangesAreAudited(t *testing.T) {
	db := storetest.New(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "press@example.org", Kind: "staff"})
	svc := webhooks.New(db, outbound.New(outbound.Options{AllowPrivate: true}), webhooks.Options{Audit: audit.New(db, nil)})
	url, events := "https://crm.example.org/hook", []string{"release.published"}
	d, err := svc.Create(ctx, webhooks.Input{URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	id := d.ID
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := svc.Update(ctx, n, webhooks.Input{Active: &off}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, n); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListAudit(context.Background(), store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range got {
		actions = append(actions, e.Action)
		if e.Actor != "press@example.org" || e.Target != "webhook:"+id || strings.Contains(e.Details, "whsec_") {
			t.Errorf("entry %+v", e)
		}
	}
	if strings.Join(actions, ",") != "webhook.delete,webhook.update,webhook.create" {
		t.Fatalf("actions = %v", actions)
	}
}
