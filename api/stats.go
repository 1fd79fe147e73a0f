package api

import (
	"context"
	"net/http"
)

// MessageCounter counts outbox messages by state (*store.DB).
type MessageCounter interface {
	OutboxCounts(ctx context.Context) (map[string]int, error)
}

// messageStates are always present in the stats, 0 when none.
var messageStates = []string{"queued", "sending", "sent", "failed", "expired", "cancelled"}

type statsJSON struct {
	Subscribers map[string]int `json:"subscribers"`
	Messages    map[string]int `json:"messages"`
	Releases    map[string]int `json:"releases"`
	// Bounces: SPEC 8.3's counts over the last 30 days (with Deps.Bounces).
	Bounces *bounceStats `json:"bounces,omitempty"`
}

// getStats: GET /api/v1/stats — subscribers by status, messages by state,
// releases by state (SPEC 3), and bounces and complaints of the last
// 30 days with the complaint rate (SPEC 8.3).
func (a *API) getStats(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	subs, err := a.subscribers.Counts(ctx)
	if err != nil {
		return err
	}
	msgs, err := a.messages.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	rels, err := a.releases.Counts(ctx)
	if err != nil {
		return err
	}
	total := 0
	for _, n := range subs {
		total += n
	}
	subs["total"] = total
	out := statsJSON{Subscribers: subs, Messages: map[string]int{}, Releases: rels}
	total = 0
	for _, s := range messageStates {
		out.Messages[s] = msgs[s]
		total += msgs[s]
	}
	out.Messages["total"] = total
	if a.bounces != nil {
		if out.Bounces, err = a.bounceStats(ctx); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
