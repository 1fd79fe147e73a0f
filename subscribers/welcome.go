package subscribers

import (
	"context"
	"strconv"
	"time"

	"herald/mailer"
	"herald/releases"
	"herald/store"
)

// welcomeReleases is how many of the latest matching releases a welcome
// mail lists (SPEC 11).
const welcomeReleases = 3

// welcomeMail queues the welcome mail of a subscriber who has just
// confirmed (SPEC 11), in the confirmation's transaction, unless
// HERALD_WELCOME=false. Its key names the confirmation, so a transaction
// run twice queues it once.
func (s *Service) welcomeMail(ctx context.Context, tx *store.Tx, sub *store.Subscriber, now time.Time) error {
	if !s.welcome {
		return nil
	}
	tax, err := s.releases.Taxonomy(ctx)
	if err != nil {
		return err
	}
	data := mailer.NoticeData{
		Language:       sub.Language,
		PreferencesURL: s.tokens.PreferencesURL(sub.ID),
		UnsubscribeURL: s.tokens.UnsubscribeURL(sub.ID),
		Cadence:        sub.Cadence,
	}
	for _, t := range sub.Topics {
		data.Topics = append(data.Topics, tax.TopicName(t, sub.Language))
	}
	for _, r := range sub.Regions {
		data.Regions = append(data.Regions, tax.RegionName(r, sub.Language))
	}
	if data.Releases, err = s.latestMatching(ctx, sub, tax); err != nil {
		return err
	}
	key := mailer.KindWelcome + ":" + strconv.FormatInt(sub.ID, 10) + ":" + strconv.FormatInt(now.UnixMilli(), 10)
	item, err := mailer.NoticeItem(mailer.KindWelcome, sub.ID, key, data)
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(ctx, sub.ConfirmedAt, []store.OutboxItem{item})
	return err
}

// latestMatching returns the latest live releases that sub would be sent,
// one per translation group, in their language where it exists (SPEC 2,
// Matching and Languages), newest group first.
func (s *Service) latestMatching(ctx context.Context, sub *store.Subscriber, tax *releases.Taxonomy) ([]mailer.NoticeRelease, error) {
	rs, err := s.db.ReleaseList(ctx, store.ReleaseFilter{
		Topics: sub.Topics, Regions: tax.Expand(sub.Regions), GlobalInRegions: true,
		Status: "live", LiveAt: s.now(), Limit: 50,
	})
	if err != nil {
		return nil, err
	}
	var order []string
	groups := map[string][]int{}
	for i := range rs {
		k := releases.GroupKey(&rs[i])
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := []mailer.NoticeRelease{}
	for _, k := range order {
		if len(out) == welcomeReleases {
			break
		}
		cands := make([]releases.Candidate, len(groups[k]))
		for j, i := range groups[k] {
			cands[j] = releases.Candidate{Language: rs[i].Language, PublishedAt: rs[i].PublishedAt.UnixMilli(), ID: rs[i].ID}
		}
		r := rs[groups[k][releases.PickTranslation(cands, sub.Language)]]
		out = append(out, mailer.NoticeRelease{Title: r.Title, URL: releases.CanonicalURL(r, s.baseURL), Dateline: r.Dateline, PublishedAt: r.PublishedAt})
	}
	return out, nil
}
