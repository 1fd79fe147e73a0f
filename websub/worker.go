package websub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"herald/feeds"
	"herald/internal/outbound"
	"herald/releases"
	"herald/store"
)

const batch = 200

// Run fans changes out and works the queue until ctx ends (on the leader).
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(h.opts.Poll)
	defer t.Stop()
	for {
		if _, err := h.RunOnce(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("websub round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce queues the pushes of the changes recorded since the last round,
// then works every job that is due, waiting for them; it returns how many
// jobs it worked.
func (h *Hub) RunOnce(ctx context.Context) (int, error) {
	if _, err := h.FanOut(ctx); err != nil {
		return 0, err
	}
	if h.rounds++; h.rounds%600 == 1 {
		now := h.now()
		if err := h.db.PruneWebSub(ctx, now); err != nil {
			return 0, err
		}
	}
	lease := 2*h.opts.Timeout + 30*time.Second
	total := 0
	for ctx.Err() == nil {
		jobs, err := h.db.ClaimWebSubJobs(ctx, h.now(), batch, lease)
		if err != nil || len(jobs) == 0 {
			return total, err
		}
		sem := make(chan struct{}, h.opts.Concurrency)
		var wg sync.WaitGroup
		for _, j := range jobs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				h.work(ctx, j)
			})
		}
		wg.Wait()
		total += len(jobs)
	}
	return total, nil
}

// FanOut queues a push for every live subscription whose topic lists a
// release that changed, and returns how many it queued.
func (h *Hub) FanOut(ctx context.Context) (int, error) {
	tax, err := h.releases.Taxonomy(ctx)
	if err != nil {
		return 0, err
	}
	filters := map[string]*feeds.Filter{}
	total := 0
	for {
		n, queued, err := h.db.PushEvents(ctx, h.now(), batch, h.opts.TTL, func(e store.Event, topics []string) ([]string, [][2]string) {
			return h.affected(e, topics, tax, filters)
		})
		total += queued
		if err != nil || n < batch {
			return total, err
		}
	}
}

// affected lists the topics whose feed lists the release of e (as it is,
// or as it was before an update) and the pings for external hubs.
func (h *Hub) affected(e store.Event, topics []string, tax *releases.Taxonomy, filters map[string]*feeds.Filter) ([]string, [][2]string) {
	var d releases.EventData
	if json.Unmarshal([]byte(e.Data), &d) != nil {
		return nil, nil
	}
	type version struct {
		topics, regions []string
		lang            string
	}
	vs := []version{{d.Release.Topics, d.Release.Regions, d.Release.Language}}
	if p := d.Previous; p != nil {
		vs = append(vs, version{p.Topics, p.Regions, p.Language})
	}
	var push []string
	for _, t := range topics {
		f, ok := filters[t]
		if !ok {
			f = h.topicFilter(t, tax)
			filters[t] = f
		}
		if f == nil {
			continue
		}
		for _, v := range vs {
			if f.Lists(tax, v.topics, v.regions, v.lang) {
				push = append(push, t)
				break
			}
		}
	}
	var publish [][2]string
	if len(h.opts.Hubs) > 0 {
		urls := h.publicFeeds(vs[0].topics, vs[0].regions)
		if len(vs) > 1 {
			urls = append(urls, h.publicFeeds(vs[1].topics, vs[1].regions)...)
		}
		slices.Sort(urls)
		for _, hub := range h.opts.Hubs {
			for _, u := range slices.Compact(urls) {
				publish = append(publish, [2]string{hub, u})
			}
		}
	}
	return push, publish
}

// topicFilter is the filter of a topic URL; nil when it is not (or no
// longer) a feed of this site, say after a term was removed.
func (h *Hub) topicFilter(topic string, tax *releases.Taxonomy) *feeds.Filter {
	rest, ok := strings.CutPrefix(topic, h.opts.BaseURL)
	u, err := url.Parse(rest)
	if !ok || err != nil {
		return nil
	}
	if _, ok := feeds.FormatOf(u.Path); !ok {
		return nil
	}
	f, err := feeds.ParseFilter(u.RawQuery, tax)
	if err != nil {
		return nil
	}
	return &f
}

// publicFeeds are the feed URLs external hubs hear of: the site's feeds
// and those of each topic and region of the release.
func (h *Hub) publicFeeds(topics, regions []string) []string {
	var out []string
	for _, f := range []feeds.Format{feeds.RSS, feeds.Atom, feeds.JSON} {
		base := h.opts.BaseURL + f.Path()
		out = append(out, base)
		for _, t := range topics {
			out = append(out, base+"?topic="+url.QueryEscape(t))
		}
		for _, r := range regions {
			out = append(out, base+"?region="+url.QueryEscape(r))
		}
	}
	return out
}

// work does one job and records its outcome.
func (h *Hub) work(ctx context.Context, j store.WebSubJob) {
	res := store.WebSubResult{ID: j.ID, State: "done"}
	var err error
	switch j.Kind {
	case store.WebSubVerify:
		var ok bool
		ok, err = h.verify(ctx, j)
		if ok {
			res.Verified = &j
		} else if err == nil {
			err = fmt.Errorf("the callback did not echo the challenge")
		}
		if err != nil {
			// Intent not verified: nothing changes and nothing is retried
			// (W3C WebSub 5.3: the subscription does not count).
			res.State, res.Error = "failed", err.Error()
			err = nil
		}
	case store.WebSubContent:
		if j.LeaseEnds.IsZero() || !j.LeaseEnds.After(h.now()) {
			break // the subscription ended meanwhile
		}
		var gone bool
		gone, err = h.push(ctx, j)
		res.Gone = gone
	case store.WebSubPublish:
		err = h.publish(ctx, j)
	}
	res.At = h.now()
	if err != nil {
		res.Error = err.Error()
		res.State, res.NextAttempt = h.retry(j, res.At)
		h.log.Warn("websub delivery failed", "job_id", j.ID, "kind", j.Kind, "attempts", j.Attempts, "state", res.State, "err", err)
	}
	if err := h.db.FinishWebSubJob(context.WithoutCancel(ctx), res); err != nil {
		h.log.Error("recording a websub job failed", "job_id", j.ID, "err", err)
	}
}

func (h *Hub) retry(j store.WebSubJob, now time.Time) (string, time.Time) {
	if !now.Before(j.ExpiresAt) {
		return "failed", time.Time{}
	}
	next := now.Add(h.opts.Retry[min(max(j.Attempts-1, 0), len(h.opts.Retry)-1)])
	if next.After(j.ExpiresAt) {
		next = j.ExpiresAt
	}
	return "queued", next
}

// verify asks the callback to confirm the intent (W3C WebSub 5.3): a GET
// with hub.mode, hub.topic, hub.challenge and, to subscribe,
// hub.lease_seconds; confirmed by a 2xx whose body is the challenge.
func (h *Hub) verify(ctx context.Context, j store.WebSubJob) (bool, error) {
	ch := challenge()
	q := url.Values{"hub.mode": {j.Mode}, "hub.topic": {j.Topic}, "hub.challenge": {ch}}
	if j.Mode == "subscribe" {
		q.Set("hub.lease_seconds", fmt.Sprint(j.LeaseSeconds))
	}
	sep := "?"
	if strings.Contains(j.Callback, "?") {
		sep = "&" // the callback's own query is kept (W3C WebSub 5.3)
	}
	rctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := outbound.NewRequest(rctx, http.MethodGet, j.Callback+sep+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return false, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false, fmt.Errorf("the callback answered HTTP %d", resp.StatusCode)
	}
	return string(body) == ch, nil
}

// push sends the topic's feed as it is now to one subscriber (W3C WebSub
// 7): the feed's content type, Link headers naming the hub and the topic,
// and X-Hub-Signature when the subscription has a secret. A 410 ends the
// subscription.
func (h *Hub) push(ctx context.Context, j store.WebSubJob) (gone bool, err error) {
	tax, err := h.releases.Taxonomy(ctx)
	if err != nil {
		return false, err
	}
	if h.topicFilter(j.Topic, tax) == nil {
		return true, nil // the topic no longer exists
	}
	rest, _ := strings.CutPrefix(j.Topic, h.opts.BaseURL)
	u, _ := url.Parse(rest)
	format, _ := feeds.FormatOf(u.Path)
	doc, err := h.feeds.Get(ctx, format, u.RawQuery)
	if err != nil {
		return false, err
	}
	rctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := outbound.NewRequest(rctx, http.MethodPost, j.Callback, bytes.NewReader(doc.Body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", format.ContentType())
	req.Header.Add("Link", "<"+h.URL()+`>; rel="hub"`)
	req.Header.Add("Link", "<"+j.Topic+`>; rel="self"`)
	if j.Secret != "" {
		m := hmac.New(sha256.New, []byte(j.Secret))
		m.Write(doc.Body)
		req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if rctx.Err() == context.DeadlineExceeded {
			return false, fmt.Errorf("no answer within %v", h.opts.Timeout)
		}
		return false, err
	}
	outbound.DrainClose(resp)
	switch {
	case resp.StatusCode == http.StatusGone:
		return true, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return false, nil
}

// publish tells an external hub that a feed changed (hub.mode=publish,
// with hub.url and, for hubs that name it so, hub.topic).
func (h *Hub) publish(ctx context.Context, j store.WebSubJob) error {
	rctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {j.Topic}, "hub.topic": {j.Topic}}
	req, err := outbound.NewRequest(rctx, http.MethodPost, j.Callback, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	outbound.DrainClose(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
