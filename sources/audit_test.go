package sources_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"herald/audit"
	"herald/internal/outbound"
	"herald/releases"
	"herald/sources"
	"herald/store"
	"herald/store/storetest"
)

// Every change to a source is one audit entry (SPEC 7.3, source.*).
func TestSourceChangesAreAudited(t *testing.T) {
	db := storetest.New(t)
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	svc := sources.New(db, outbound.New(outbound.Options{}), rel, sources.Options{Audit: audit.New(db, nil)})
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "press@example.org", Kind: "staff"})
	url, topics := "https://cms.example.org/feed.xml", releases.List{"migration"}
	src, err := svc.Create(ctx, sources.Input{URL: &url, Topics: &topics})
	if err != nil {
		t.Fatal(err)
	}
	mode := "publish"
	if _, err := svc.Update(ctx, src.ID, sources.Input{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListAudit(context.Background(), store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range got {
		actions = append(actions, e.Action)
		if e.Actor != "press@example.org" || e.Target != "source:"+strconv.FormatInt(src.ID, 10) {
			t.Errorf("entry %+v", e)
		}
	}
	if strings.Join(actions, ",") != "source.delete,source.update,source.create" {
		t.Fatalf("actions = %v", actions)
	}
}
