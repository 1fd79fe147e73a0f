package dispatch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/dispatch"
	"herald/mailer"
	"herald/store"
	"herald/subscribers"
	"herald/templates"
)

func (f *fixture) composer() *dispatch.Composer {
	f.t.Helper()
	tpl, err := mailer.LoadTemplates(templates.Embedded(), mailer.TemplateOptions{SiteName: "Press Office", BaseURL: "https://press.example.org"})
	if err != nil {
		f.t.Fatal(err)
	}
	tokens := subscribers.NewTokens([]byte("0123456789abcdef0123456789abcdef"), "https://press.example.org", f.clock.Now)
	return f.disp.NewComposer(tpl, tokens, "https://press.example.org")
}

func digestMessage(sub int64, lang string, ids ...int64) store.OutboxMessage {
	p, _ := json.Marshal(dispatch.DigestPayload{Cadence: "daily", Since: 0, Until: 1, ReleaseIDs: ids})
	return store.OutboxMessage{ID: 1, Kind: "digest", SubscriberID: sub, Payload: string(p), Language: lang, Status: "active", To: "x@example.org"}
}

func TestCompose_AlertAndDigest(t *testing.T) {
	f := newFixture(t)
	c := f.composer()
	a := f.release(rel{title: "Camps prepare for the cyclone season", lang: "en", topics: []string{"emergencies"}, regions: []string{"bangladesh"}})
	f.clock.Add(time.Minute)
	b := f.release(rel{title: "Nouvelle étude sur le Sahel", lang: "fr", topics: []string{"climate-change"}})

	got, err := c.Compose(f.ctx, store.OutboxMessage{Kind: "alert", SubscriberID: 7, ReleaseID: a.ID, Language: "fr", To: "x@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != a.Title || !strings.HasPrefix(got.UnsubscribeURL, "https://press.example.org/unsubscribe?token=") ||
		!strings.Contains(got.HTML, "Body of "+a.Title) || !strings.Contains(got.Text, "/preferences?token=") ||
		!strings.Contains(got.Text, "Bangladesh") {
		t.Fatalf("alert content: %+v", got)
	}
	other, _ := c.Compose(f.ctx, store.OutboxMessage{Kind: "alert", SubscriberID: 8, ReleaseID: a.ID, Language: "fr"})
	if other.UnsubscribeURL == got.UnsubscribeURL {
		t.Fatal("two subscribers got the same unsubscribe link")
	}

	d, err := c.Compose(f.ctx, digestMessage(7, "en", b.ID, a.ID))
	if err != nil {
		t.Fatal(err)
	}
	ib, ia := strings.Index(d.Text, b.Title), strings.Index(d.Text, a.Title)
	if ib < 0 || ia < 0 || ib > ia || !strings.Contains(d.Subject, "2") || d.UnsubscribeURL == "" {
		t.Fatalf("digest: subject %q\n%s", d.Subject, d.Text)
	}

	// A release deleted after queuing drops out of the digest; a digest with
	// nothing left, and an alert of it, are skipped.
	if err := f.rel.Delete(f.ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	d, err = c.Compose(f.ctx, digestMessage(7, "en", b.ID, a.ID))
	if err != nil || strings.Contains(d.Text, b.Title) {
		t.Fatalf("digest after a deletion: %v\n%s", err, d.Text)
	}
	if _, err := c.Compose(f.ctx, digestMessage(7, "en", b.ID)); !errors.Is(err, mailer.ErrSkip) {
		t.Fatalf("empty digest: %v, want ErrSkip", err)
	}
	if _, err := c.Compose(f.ctx, store.OutboxMessage{Kind: "alert", SubscriberID: 7, ReleaseID: b.ID}); !errors.Is(err, mailer.ErrSkip) {
		t.Fatalf("alert of a deleted release: %v, want ErrSkip", err)
	}
	// An edit shows in messages composed after it.
	if _, err := f.rel.Update(f.ctx, a.ID, releasesTitle("Camps are ready")); err != nil {
		t.Fatal(err)
	}
	got, _ = c.Compose(f.ctx, store.OutboxMessage{Kind: "alert", SubscriberID: 7, ReleaseID: a.ID, Language: "en"})
	if got.Subject != "Camps are ready" {
		t.Fatalf("after an edit the subject is %q", got.Subject)
	}
	// A test copy to an address that is no subscriber still carries links.
	got, err = c.Compose(f.ctx, store.OutboxMessage{Kind: "alert", ReleaseID: a.ID, To: "officer@example.org"})
	if err != nil || !strings.HasPrefix(got.UnsubscribeURL, "https://press.example.org/unsubscribe?token=") ||
		!strings.Contains(got.Text, "/preferences?token=") {
		t.Fatalf("test copy: %+v %v", got, err)
	}
}

// BenchmarkCompose measures the per-recipient cost of an alert and of a
// 20-release digest once the shared parts are cached: what the mailer pays
// for each message of a fan-out to 100,000 subscribers.
func BenchmarkCompose(b *testing.B) {
	f := newFixture(b)
	c := f.composer()
	body := strings.Repeat("A realistic paragraph of a press release, long enough to weigh what one weighs. ", 40)
	var ids []int64
	for i := 0; i < 20; i++ {
		r := f.release(rel{title: fmt.Sprintf("Release %d with a realistic headline", i), lang: "en", topics: []string{"migration"}})
		if _, err := f.rel.Update(f.ctx, r.ID, releasesBody(body+"\n\n"+body)); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, lang := range []string{"en", "fr"} {
		b.Run("alert-"+lang, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				m := store.OutboxMessage{Kind: "alert", SubscriberID: int64(i + 1), ReleaseID: ids[0], Language: lang}
				if _, err := c.Compose(f.ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("digest20-"+lang, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := c.Compose(f.ctx, digestMessage(int64(i+1), lang, ids...)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
