package sources

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"

	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
)

// pollLease is how long a claimed source is held by the poll under way.
const pollLease = 5 * time.Minute

// Run polls every due source until ctx ends (on the leader).
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			src, err := s.db.ClaimSource(ctx, 0, s.now(), pollLease)
			if err != nil {
				if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
					s.log.Error("claiming a source failed", "err", err)
				}
				break
			}
			if _, err := s.poll(ctx, src); err != nil && ctx.Err() == nil {
				s.log.Error("recording a poll failed", "source_id", src.ID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunNow polls source id at once (POST /api/v1/sources/{id}/run, herald
// sources run) and returns the poll.
func (s *Service) RunNow(ctx context.Context, id int64) (RunDocument, error) {
	src, err := s.db.ClaimSource(ctx, id, s.now(), pollLease)
	if err != nil {
		return RunDocument{}, err
	}
	s.record(ctx, "source.run", id, src.URL)
	run, err := s.poll(ctx, src)
	if err != nil {
		return RunDocument{}, err
	}
	return NewRunDocument(run), nil
}

// poll fetches the feed and applies its items; a failure is recorded on
// the run and the source (backing off), not returned.
func (s *Service) poll(ctx context.Context, src store.Source) (store.SourceRun, error) {
	run := store.SourceRun{SourceID: src.ID, StartedAt: s.now()}
	p := store.SourcePoll{ETag: src.ETag, LastModified: src.LastModified}
	err := s.fetchAndApply(ctx, src, &run, &p)
	run.FinishedAt = s.now()
	if err != nil {
		run.Status, run.Error = "error", releases.Clip(err.Error(), 500)
		p.Failures = src.Failures + 1
		p.LastError = run.Error
		backoff := src.Interval << min(p.Failures, 10)
		p.NextRunAt = run.FinishedAt.Add(min(backoff, maxBackoff))
		s.log.Warn("source poll failed", "source_id", src.ID, "failures", p.Failures, "err", err)
	} else {
		p.NextRunAt = run.FinishedAt.Add(src.Interval)
		s.log.Info("source polled", "source_id", src.ID, "status", run.Status, "new", run.New, "updated", run.Updated)
	}
	return run, s.db.FinishSourceRun(context.WithoutCancel(ctx), &run, p)
}

func (s *Service) fetchAndApply(ctx context.Context, src store.Source, run *store.SourceRun, p *store.SourcePoll) error {
	body, status, err := s.fetch(ctx, src, p)
	if err != nil {
		return err
	}
	if status == http.StatusNotModified {
		run.Status = "not_modified"
		return nil
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		if looksHTML(body) {
			return fmt.Errorf("the URL answered an HTML page, not a feed (RSS, Atom or JSON Feed)")
		}
		return fmt.Errorf("not a readable feed: %v", err)
	}
	run.Status = "ok"
	return s.apply2(ctx, src, feed, run)
}

func looksHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 512)]))
	return strings.Contains(head, "<!doctype html") || strings.Contains(head, "<html")
}

// fetch makes the conditional GET; validators of a 200 go into p.
func (s *Service) fetch(ctx context.Context, src store.Source, p *store.SourcePoll) ([]byte, int, error) {
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := outbound.NewRequest(rctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5")
	if src.ETag != "" {
		req.Header.Set("If-None-Match", src.ETag)
	}
	if src.LastModified != "" {
		req.Header.Set("If-Modified-Since", src.LastModified)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusNotModified {
		outbound.DrainClose(resp)
		return nil, resp.StatusCode, nil
	}
	if resp.StatusCode != http.StatusOK {
		outbound.DrainClose(resp)
		return nil, resp.StatusCode, fmt.Errorf("the feed answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxFeedBytes {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("the feed is larger than %d MiB", MaxFeedBytes>>20)
	}
	body, err := outbound.ReadBody(resp)
	if errors.Is(err, outbound.ErrTooLarge) {
		return nil, 0, fmt.Errorf("the feed is larger than the limit of %d MiB", MaxFeedBytes>>20)
	}
	if err != nil {
		return nil, 0, err
	}
	p.ETag, p.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return body, resp.StatusCode, nil
}

// item is a feed item made ready for a release.
type item struct {
	key   string
	hash  string
	input releases.Input
}

// apply2 turns the feed's items into releases: new ones created, changed
// ones updated (status untouched: no new alert), unchanged ones left.
//
// The first successful poll of a source (and the first after its URL
// changed) takes a baseline: a feed's first answer lists the website's
// back catalogue, which is not news. Its items become releases in the
// source's mode, so the newsroom and feeds carry the archive, but in
// publish mode they are marked as already alerted and get no automatic
// alert (release.published events are still recorded: the releases did go
// live). Only items that appear after the baseline alert subscribers.
func (s *Service) apply2(ctx context.Context, src store.Source, feed *gofeed.Feed, run *store.SourceRun) error {
	seen, err := s.db.SourceItems(ctx, src.ID)
	if err != nil {
		return err
	}
	baseline := src.BaselineAt.IsZero()
	items := feed.Items
	if len(items) > MaxItems {
		run.Skipped += len(items) - MaxItems
		items = items[:MaxItems]
	}
	inFeed := map[string]bool{}
	var firstErr error
	for _, fi := range items {
		it, ok := s.makeItem(src, feed, fi)
		if !ok || inFeed[it.key] {
			run.Skipped++ // no guid and no link, or a duplicate
			continue
		}
		inFeed[it.key] = true
		old, known := seen[it.key]
		switch {
		case known && old.Hash == it.hash:
			run.Unchanged++
			continue
		case known && old.ReleaseID == 0:
			run.Unchanged++ // its release was deleted by staff: left alone
			continue
		}
		if err := s.save(ctx, src, it, old, known, baseline); err != nil {
			if ctx.Err() != nil {
				return err
			}
			var ve *releases.ValidationError
			if !errors.As(err, &ve) {
				return err
			}
			run.Skipped++
			if firstErr == nil {
				firstErr = fmt.Errorf("item %s: %s", releases.Clip(it.key, 100), ve.Error())
			}
			continue
		}
		if known {
			run.Updated++
		} else {
			run.New++
		}
	}
	if firstErr != nil {
		run.Error = releases.Clip(firstErr.Error(), 500)
	}
	if baseline && run.New > 0 {
		s.log.Info("source baseline taken: existing items get no alert", "source_id", src.ID, "items", run.New)
	}
	return nil
}

func (s *Service) save(ctx context.Context, src store.Source, it item, old store.SourceItem, known, baseline bool) error {
	now := s.now()
	record := func(tx *store.Tx, r store.Release) error {
		if baseline && !known && r.Status == "published" {
			if err := tx.MarkAutoAlerted(ctx, r.ID, now); err != nil {
				return err
			}
		}
		return tx.PutSourceItem(ctx, src.ID, it.key, r.ID, it.hash, now)
	}
	if known {
		in := it.input
		in.Status = nil // an update never publishes nor unpublishes
		_, err := s.releases.UpdateWith(ctx, old.ReleaseID, in, record)
		if errors.Is(err, store.ErrNotFound) {
			return s.db.InTx(ctx, func(tx *store.Tx) error { return tx.PutSourceItem(ctx, src.ID, it.key, 0, it.hash, now) })
		}
		return err
	}
	_, err := s.releases.CreateWith(ctx, it.input, record)
	return err
}

var strict = bluemonday.StrictPolicy()

// makeItem maps a feed item to a release input; false when it has no
// identity (no guid and no link).
func (s *Service) makeItem(src store.Source, feed *gofeed.Feed, fi *gofeed.Item) (item, bool) {
	key := strings.TrimSpace(fi.GUID)
	link := strings.TrimSpace(fi.Link)
	if key == "" {
		key = link
	}
	if key == "" {
		return item{}, false
	}
	title := strings.TrimSpace(html.UnescapeString(strict.Sanitize(fi.Title)))
	body, format := fi.Content, "html"
	if strings.TrimSpace(body) == "" {
		body = fi.Description
	}
	if strings.TrimSpace(body) == "" {
		body = title
	}
	var summary *string
	if fi.Content != "" && fi.Description != "" {
		sum := releases.Clip(strings.TrimSpace(html.UnescapeString(strict.Sanitize(fi.Description))), 1000)
		summary = &sum
	}
	lang := src.Language
	if l := primaryTag(feed.Language); l != "" {
		lang = l
	}
	if lang == "" {
		lang = "en"
	}
	topics, regions := s.terms(src, fi.Categories)
	in := releases.Input{Title: &title, Body: &body, BodyFormat: &format, Summary: summary, Language: &lang, Topics: &topics, Regions: &regions}
	if link != "" && outbound.CheckURL(link) == nil {
		in.URL = &link
	}
	if t := fi.PublishedParsed; t != nil {
		at := t.UTC().Format(time.RFC3339)
		in.PublishedAt = &at
	} else if t := fi.UpdatedParsed; t != nil {
		at := t.UTC().Format(time.RFC3339)
		in.PublishedAt = &at
	}
	status := "draft"
	if src.Mode == "publish" {
		status = "published"
	}
	in.Status = &status
	if src.TranslationKeyFrom == "link" && link != "" {
		if k := translationKey(link); k != "" {
			in.TranslationKey = &k
		}
	}
	h := sha256.New()
	for _, part := range []string{title, link, body, fi.Description, fmt.Sprint(fi.Categories), derefTime(in.PublishedAt), lang} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return item{key: key, hash: hex.EncodeToString(h.Sum(nil)), input: in}, true
}

func derefTime(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// terms are the source's topics and regions plus every category_map hit.
func (s *Service) terms(src store.Source, cats []string) (releases.List, releases.List) {
	topics, regions := releases.List(nonNil(src.Topics)), releases.List(nonNil(src.Regions))
	tax, err := s.releases.Taxonomy(context.Background())
	if err != nil {
		return topics, regions
	}
	for _, c := range cats {
		slug, ok := src.CategoryMap[strings.ToLower(strings.TrimSpace(c))]
		if !ok {
			continue
		}
		if _, isTopic := tax.Topic(slug); isTopic && !contains(topics, slug) {
			topics = append(topics, slug)
		} else if _, isRegion := tax.Region(slug); isRegion && !contains(regions, slug) {
			regions = append(regions, slug)
		}
	}
	return topics, regions
}

func contains(l releases.List, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func primaryTag(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	if !validLang(l) {
		return ""
	}
	return l
}

var langSegment = regexp.MustCompile(`^/[a-z]{2}(?:-[a-z]{2})?(/|$)`)

// translationKey derives a translation key from a link: its host and path
// without a leading language segment, so that /en/news/x and /fr/news/x
// are translations of one another.
func translationKey(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return ""
	}
	path := langSegment.ReplaceAllString(strings.ToLower(u.Path), "/")
	return releases.Clip(strings.ToLower(u.Host)+strings.TrimSuffix(path, "/"), 200)
}
