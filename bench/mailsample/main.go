// Command mailsample writes a sample alert and a sample digest, built by
// herald's mailer exactly as they are sent, into a Maildir (for
// bench/spamcheck.sh and for looking at them with mutt -f DIR).
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"net/mail"
	"os"
	"path/filepath"
	"time"

	"herald/mailer"
	"herald/store"
	"herald/templates"
)

func main() {
	dir := flag.String("maildir", "", "Maildir to write into (created)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: mailsample -maildir DIR")
		os.Exit(2)
	}
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "mailsample:", err)
		os.Exit(1)
	}
}

var releases = []mailer.ReleaseView{
	{ID: 1, PublishedAt: time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC), Title: "Latin American Countries Agree on Road Map for the Integration of Venezuelans", Dateline: "Buenos Aires",
		Summary: "Countries of the region adopted a road map to facilitate the integration of refugees and migrants from Venezuela.",
		URL:     "https://press.example.org/releases/road-map-integration", Language: "en",
		Topics: []string{"Migration", "Integration"}, Regions: []string{"Argentina", "Venezuela"},
		Contacts: []mailer.ContactView{{Name: "Juliana Rivera", Email: "jrivera@example.org", Phone: "+54 11 0000 0000"}},
		BodyHTML: template.HTML(`<p>The organization and the UN Refugee Agency welcome the adoption by Latin American and Caribbean countries of a road map to facilitate the integration in the region of refugees and migrants from Venezuela.</p>
<p>The road map was adopted during the IV International Technical Meeting of the Quito Process, held in Buenos Aires on 4 and 5 July. Government representatives from 14 countries, UN agencies, regional organizations, development banks and civil society took part.</p>
<blockquote><p>"The continuing exodus of Venezuelans exceeds the capacities and resources of governments in the region," said the Joint Special Representative.</p></blockquote>
<p>The road map includes actions on <strong>human trafficking</strong>, health care and the recognition of academic qualifications. Read the <a href="https://press.example.org/documents/road-map">full road map</a>.</p>`)},
	{ID: 2, PublishedAt: time.Date(2026, 7, 4, 15, 30, 0, 0, time.UTC), Title: "Migrant Deaths on the Central Mediterranean Route Reach a Five-Year High", Dateline: "Geneva",
		Summary: "At least 1,450 people have died or gone missing on the Central Mediterranean route since January.",
		URL:     "https://press.example.org/releases/central-mediterranean", Language: "en",
		BodyHTML: template.HTML(`<p>At least 1,450 people have died or gone missing since January.</p>`)},
	{ID: 3, PublishedAt: time.Date(2026, 7, 4, 8, 0, 0, 0, time.UTC), Title: "New Study Maps Climate-Driven Displacement Across the Sahel", Dateline: "Dakar",
		Summary: "A study combines satellite data with household surveys in 1,200 villages.",
		URL:     "https://press.example.org/releases/sahel-study", Language: "en",
		BodyHTML: template.HTML(`<p>A study published today.</p>`)},
}

type composer struct {
	tpl  *mailer.Templates
	kind string
}

func (c composer) Compose(_ context.Context, m store.OutboxMessage) (mailer.Content, error) {
	links := func(kind string) string {
		return "https://press.example.org/" + kind + "?token=" + fmt.Sprintf("%d", m.SubscriberID) + ".mJxQ3b6c0l8VnYk2Jt9w"
	}
	if c.kind == mailer.KindAlert {
		part, err := c.tpl.Release(m.Language, releases[0])
		if err != nil {
			return mailer.Content{}, err
		}
		return c.tpl.Alert(mailer.AlertView{Lang: m.Language, Release: part, UnsubscribeURL: links("unsubscribe"), PreferencesURL: links("preferences")})
	}
	var items []*mailer.ReleasePart
	for _, r := range releases {
		p, err := c.tpl.DigestItem(m.Language, r)
		if err != nil {
			return mailer.Content{}, err
		}
		items = append(items, p)
	}
	return c.tpl.Digest(mailer.DigestView{Lang: m.Language, Cadence: "daily", Items: items,
		UnsubscribeURL: links("unsubscribe"), PreferencesURL: links("preferences")})
}

func run(dir string) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "mailsample-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := store.Open(ctx, filepath.Join(tmp, "herald.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	ids, err := db.SeedSubscribers(ctx, []store.SeedSubscriber{{Email: "reader@example.net"}})
	if err != nil {
		return err
	}
	tpl, err := mailer.LoadTemplates(templates.Embedded(), mailer.TemplateOptions{SiteName: "Press Office", BaseURL: "https://press.example.org"})
	if err != nil {
		return err
	}
	m, err := mailer.New(db, mailer.Options{MaildirDir: dir, Templates: tpl, SiteName: "Press Office", BaseURL: "https://press.example.org",
		From:      &mail.Address{Name: "Press Office", Address: "press@example.org"},
		Composers: map[string]mailer.Composer{mailer.KindAlert: composer{tpl, mailer.KindAlert}, mailer.KindDigest: composer{tpl, mailer.KindDigest}}})
	if err != nil {
		return err
	}
	now := time.Now()
	if _, err := m.Enqueue(ctx, []store.OutboxItem{
		{IdemKey: "sample-alert", Kind: mailer.KindAlert, SubscriberID: ids[0], ReleaseID: 1, ExpiresAt: now.Add(time.Hour)},
		{IdemKey: "sample-digest", Kind: mailer.KindDigest, SubscriberID: ids[0]},
	}); err != nil {
		return err
	}
	st, _, err := m.Deliver(ctx)
	if err != nil {
		return err
	}
	if st.Sent != 2 {
		return fmt.Errorf("wrote %d messages, want 2 (%+v)", st.Sent, st)
	}
	return nil
}
