package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"herald/store"
)

// BounceLog reads recorded bounces and complaints (store.DB).
type BounceLog interface {
	ListBounces(ctx context.Context, q store.BounceQuery) ([]store.Bounce, error)
	BounceCounts(ctx context.Context, since time.Time) (map[string]int, error)
	SentSince(ctx context.Context, since time.Time) (int, error)
}

// bounceJSON is one event (SPEC 8.3).
type bounceJSON struct {
	ID           string    `json:"id"`
	At           time.Time `json:"at"`
	SubscriberID *string   `json:"subscriber_id"` // null once the subscriber was erased
	Email        string    `json:"email"`
	Kind         string    `json:"kind"`
	Source       string    `json:"source"`
	MessageID    string    `json:"message_id"`
	Diagnostic   string    `json:"diagnostic"`
}

type bounceList struct {
	Items      []bounceJSON `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

// bounceQueryOf reads the filters kind, source, since (RFC 3339), cursor
// and limit (1-200, default 50).
func bounceQueryOf(q map[string][]string) (store.BounceQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	out := store.BounceQuery{Kind: get("kind"), Source: get("source")}
	if out.Kind != "" && !slices.Contains(store.BounceKinds, out.Kind) {
		return out, badRequest("kind", "kind must be hard, soft or complaint")
	}
	if out.Source != "" && !slices.Contains(store.BounceSources, out.Source) {
		return out, badRequest("source", "source must be smtp, mailbox, ses, postmark, sendgrid or mailgun")
	}
	err := readLogPage(get, &out.BeforeID, &out.Limit, namedTime{"since", &out.Since})
	return out, err
}

// listBounces: GET /api/v1/bounces (SPEC 8.3), newest first.
func (a *API) listBounces(w http.ResponseWriter, r *http.Request) error {
	q, err := bounceQueryOf(r.URL.Query())
	if err != nil {
		return err
	}
	rows, err := a.bounces.ListBounces(r.Context(), q)
	if err != nil {
		return err
	}
	out := bounceList{Items: make([]bounceJSON, 0, len(rows))}
	for _, b := range rows {
		j := bounceJSON{ID: strconv.FormatInt(b.ID, 10), At: b.At, Email: b.Email, Kind: b.Kind, Source: b.Source,
			MessageID: b.MessageID, Diagnostic: b.Diagnostic}
		if b.SubscriberID != 0 {
			id := strconv.FormatInt(b.SubscriberID, 10)
			j.SubscriberID = &id
		}
		out.Items = append(out.Items, j)
	}
	if len(rows) == q.Limit {
		out.NextCursor = strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// bounceWindow is the period of the stats' bounce counts (SPEC 8.3).
const bounceWindow = 30 * 24 * time.Hour

// bounceStats are /api/v1/stats' bounces: events by kind over the last 30
// days, messages sent then, and complaints per message sent.
type bounceStats struct {
	Days          int     `json:"days"`
	Hard          int     `json:"hard"`
	Soft          int     `json:"soft"`
	Complaint     int     `json:"complaint"`
	Sent          int     `json:"sent"`
	ComplaintRate float64 `json:"complaint_rate"`
}

func (a *API) bounceStats(ctx context.Context) (*bounceStats, error) {
	since := a.now().Add(-bounceWindow)
	counts, err := a.bounces.BounceCounts(ctx, since)
	if err != nil {
		return nil, err
	}
	sent, err := a.bounces.SentSince(ctx, since)
	if err != nil {
		return nil, err
	}
	s := &bounceStats{Days: 30, Hard: counts[store.BounceHard], Soft: counts[store.BounceSoft], Complaint: counts[store.BounceComplaint], Sent: sent}
	if sent > 0 {
		s.ComplaintRate = float64(s.Complaint) / float64(sent)
	}
	return s, nil
}
