package subscribers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herald/mailer"
	"herald/store"
)

// queueAlert queues an alert row for subscriber id and returns it as the
// mailer sees it.
func queueAlert(t *testing.T, f *fixture, id int64, key string) store.OutboxMessage {
	t.Helper()
	ctx := context.Background()
	var m store.OutboxMessage
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Enqueue(ctx, f.clock.Now(), []store.OutboxItem{{IdemKey: key, Kind: mailer.KindAlert, SubscriberID: id, AlertID: 1, Payload: "{}"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	row, err := f.db.OutboxByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		m, err = tx.OutboxMessageByID(ctx, row.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func seed(t *testing.T, f *fixture, emails ...string) []int64 {
	t.Helper()
	var subs []store.SeedSubscriber
	for _, e := range emails {
		subs = append(subs, store.SeedSubscriber{Email: e})
	}
	ids, err := f.db.SeedSubscribers(context.Background(), subs)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func bounceRows(t *testing.T, f *fixture) []store.Bounce {
	t.Helper()
	b, err := f.db.ListBounces(context.Background(), store.BounceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordBounce_HardByVERPAndMessageID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := seed(t, f, "ana@example.org", "ben@example.org")
	sent := queueAlert(t, f, ids[0], "alert:1:a")
	queued := queueAlert(t, f, ids[0], "alert:2:a")

	out, err := f.svc.RecordBounce(ctx, BounceReport{Kind: store.BounceHard, Source: store.BounceMailbox, OutboxID: sent.ID,
		MessageIDs: []string{"<" + mailer.MessageID(sent, "news.example.org") + ">"}, Diagnostic: "smtp; 550 5.1.1 user unknown"}, 0)
	if err != nil || !out.Changed || out.Status != store.SubscriberBounced || out.SubscriberID != ids[0] {
		t.Fatalf("hard bounce: %+v, %v", out, err)
	}
	if st, _ := f.db.SubscriberStatus(ctx, ids[0]); st != store.SubscriberBounced {
		t.Fatalf("status %s", st)
	}
	if row, _ := f.db.OutboxByKey(ctx, "alert:2:a"); row.State != store.OutboxCancelled || row.ID != queued.ID {
		t.Fatalf("queued mail not cancelled: %+v", row)
	}
	rows := bounceRows(t, f)
	if len(rows) != 1 || rows[0].Email != "ana@example.org" || rows[0].Kind != "hard" || rows[0].Source != "mailbox" ||
		rows[0].MessageID != mailer.MessageID(sent, "news.example.org") || !strings.Contains(rows[0].Diagnostic, "5.1.1") {
		t.Fatalf("rows %+v", rows)
	}
	// The same event again, from a webhook naming the message by its
	// Message-ID only: recorded once.
	out, err = f.svc.RecordBounce(ctx, BounceReport{Kind: store.BounceHard, Source: store.BounceSES,
		MessageIDs: []string{mailer.MessageID(sent, "news.example.org")}, Recipient: "ana@example.org", ByRecipient: true, EventID: "x"}, 0)
	if err != nil || !out.Duplicate {
		t.Fatalf("duplicate: %+v, %v", out, err)
	}
	if n := len(bounceRows(t, f)); n != 1 {
		t.Fatalf("%d rows after a duplicate", n)
	}
	evs, _ := f.db.Events(ctx, 10)
	if len(evs) != 1 || evs[0].Type != store.EventSubscriberBounced || !strings.Contains(evs[0].Data, `"status":"bounced"`) {
		t.Fatalf("events %+v", evs)
	}

	// A forged Message-ID naming Ben's row, and an unknown VERP row:
	// nothing changes.
	bens := queueAlert(t, f, ids[1], "alert:1:b")
	forged := strings.Replace(mailer.MessageID(bens, "x"), ".", ".0", 1)
	for _, r := range []BounceReport{
		{Kind: store.BounceHard, Source: store.BounceMailbox, MessageIDs: []string{forged}},
		{Kind: store.BounceHard, Source: store.BounceMailbox, OutboxID: 999999},
		{Kind: store.BounceHard, Source: store.BounceMailbox, Recipient: "ben@example.org", EventID: "e"}, // mailbox: address alone is not believed
		{Kind: store.BounceHard, Source: store.BouncePostmark, Recipient: "nobody@example.org", ByRecipient: true, EventID: "e"},
	} {
		if _, err := f.svc.RecordBounce(ctx, r, 0); !errors.Is(err, ErrUnknownRecipient) {
			t.Fatalf("%+v: %v, want ErrUnknownRecipient", r, err)
		}
	}
	if st, _ := f.db.SubscriberStatus(ctx, ids[1]); st != store.SubscriberActive {
		t.Fatalf("ben is %s", st)
	}
	if n := len(bounceRows(t, f)); n != 1 {
		t.Fatalf("%d rows after refused reports", n)
	}
}

func TestRecordBounce_SoftLimitWithin30Days(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := seed(t, f, "ana@example.org")
	soft := func(event string) BounceOutcome {
		t.Helper()
		out, err := f.svc.RecordBounce(ctx, BounceReport{Kind: store.BounceSoft, Source: store.BounceMailgun,
			Recipient: "Ana@Example.org", ByRecipient: true, EventID: event, Diagnostic: "452 mailbox full"}, 3)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	soft("e1")
	f.clock.Add(31 * 24 * time.Hour) // e1 falls out of the window
	soft("e2")
	if out := soft("e2"); !out.Duplicate { // a retried webhook
		t.Fatalf("retry not deduplicated: %+v", out)
	}
	if out := soft("e3"); out.Changed || out.Status != store.SubscriberActive {
		t.Fatalf("two soft bounces within 30 days: %+v", out)
	}
	if out := soft("e4"); !out.Changed || out.Status != store.SubscriberBounced {
		t.Fatalf("third soft bounce within 30 days: %+v", out)
	}
	if st, _ := f.db.SubscriberStatus(ctx, ids[0]); st != store.SubscriberBounced {
		t.Fatalf("status %s", st)
	}
	if n := len(bounceRows(t, f)); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
}

func TestRecordBounce_ComplaintSuppressesUntilNewOptIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	subscribe(t, f, "ana@example.org", PrefsInput{})
	s := f.mustGet(t, "ana@example.org")
	if _, err := f.svc.Confirm(ctx, tokenOf(t, notice(t, f.mails(t, s.ID)[0]).ConfirmURL)); err != nil {
		t.Fatal(err)
	}
	m := queueAlert(t, f, s.ID, "alert:9:a")
	later := queueAlert(t, f, s.ID, "alert:10:a")
	out, err := f.svc.RecordBounce(ctx, BounceReport{Kind: store.BounceComplaint, Source: store.BounceMailbox,
		MessageIDs: []string{mailer.MessageID(m, "news.example.org")}, Diagnostic: "abuse"}, 0)
	if err != nil || !out.Changed || out.Status != store.SubscriberUnsubscribed {
		t.Fatalf("complaint: %+v, %v", out, err)
	}
	if row, _ := f.db.OutboxByKey(ctx, "alert:10:a"); row.State != store.OutboxCancelled || row.ID != later.ID {
		t.Fatalf("queued mail after a complaint: %+v", row)
	}
	evs, _ := f.db.Events(ctx, 1)
	if evs[0].Type != store.EventSubscriberComplained {
		t.Fatalf("event %+v", evs[0])
	}
	var suppressed bool
	_ = f.db.InTx(ctx, func(tx *store.Tx) error {
		suppressed, err = tx.SuppressionExists(ctx, HashAddress("ana@example.org"))
		return err
	})
	if !suppressed {
		t.Fatal("a complaint did not suppress the address")
	}
	// An old preferences link does not bring them back...
	if _, err := f.svc.Resubscribe(ctx, f.svc.Tokens().Make(PurposePreferences, s.ID), Consent{}); !errors.Is(err, ErrGone) {
		t.Fatalf("resubscribe after a complaint: %v", err)
	}
	// ...a new double opt-in does.
	f.clock.Add(time.Hour)
	subscribe(t, f, "ana@example.org", PrefsInput{})
	mails := f.mails(t, s.ID)
	tok := tokenOf(t, notice(t, mails[len(mails)-1]).ConfirmURL)
	if got, err := f.svc.Confirm(ctx, tok); err != nil || got.Status != store.SubscriberActive {
		t.Fatalf("confirm after a complaint: %+v, %v", got, err)
	}
}
