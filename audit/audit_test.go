package audit_test

import (
	"context"
	"testing"

	"herald/audit"
	"herald/store"
	"herald/store/storetest"
)

func TestRecord_ActorFromContext(t *testing.T) {
	db := storetest.New(t)
	rec := audit.New(db, nil)
	ctx := context.Background()
	rec.Record(ctx, audit.Entry{Action: "release.live", Target: "release:1"})
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ana@example.org", Kind: audit.KindStaff, IP: "203.0.113.9"})
	rec.Record(ctx, audit.Entry{Action: "release.create", Target: "release:2", Details: map[string]any{"title": "T\n<x>"}})
	got, err := db.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if e := got[1]; e.Actor != "system" || e.ActorKind != "system" || e.IP != "" || e.Details != "{}" {
		t.Errorf("system entry %+v", e)
	}
	if e := got[0]; e.Actor != "ana@example.org" || e.ActorKind != "staff" || e.IP != "203.0.113.9" || e.Details != `{"title":"T\n\u003cx\u003e"}` {
		t.Errorf("staff entry %+v", e)
	}
	var none *audit.Recorder
	none.Record(ctx, audit.Entry{Action: "x"}) // a nil recorder records nothing, and does not panic
}

func TestValidAction(t *testing.T) {
	for s, want := range map[string]bool{"release.publish": true, "release.*": true, "": false, "DROP TABLE": false, "a'b": false} {
		if audit.ValidAction(s) != want {
			t.Errorf("%q: %v", s, !want)
		}
	}
}
