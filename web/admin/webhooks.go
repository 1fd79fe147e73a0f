package admin

import (
	"net/http"
	"strconv"
	"strings"

	"herald/web/ui"
	"herald/webhooks"
)

// webhooksView is the data of admin/webhooks.html: every webhook, and the
// deliveries of the one chosen.
type webhooksView struct {
	Page       adminPage
	Hooks      []webhooks.Document
	Selected   *webhooks.Document
	Deliveries []webhooks.DeliveryDocument
	Next       string
}

// webhookList shows the webhooks (GET /admin/webhooks) and, with ?id=, that
// webhook's deliveries with every attempt (?cursor= pages back).
func (a *Console) webhookList(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.Webhooks == nil {
		return ui.NotFound("This page")
	}
	ctx := r.Context()
	v := webhooksView{Page: a.page(sess, "Webhooks", "webhooks")}
	hs, err := a.deps.Webhooks.List(ctx)
	if err != nil {
		return err
	}
	for _, h := range hs {
		v.Hooks = append(v.Hooks, webhooks.NewDocument(h))
	}
	if q := r.URL.Query().Get("id"); q != "" {
		id, err := strconv.ParseInt(q, 10, 64)
		if err != nil || id <= 0 {
			return ui.NotFound("This webhook")
		}
		h, err := a.deps.Webhooks.Get(ctx, id)
		if err != nil {
			return err
		}
		d := webhooks.NewDocument(h)
		v.Selected = &d
		page, err := a.deps.Webhooks.Deliveries(ctx, id, r.URL.Query().Get("cursor"), 50)
		if err != nil {
			return err
		}
		v.Deliveries = page.Items
		if page.NextCursor != "" {
			v.Next = "/admin/webhooks?id=" + q + "&cursor=" + page.NextCursor
		}
	}
	return a.pages.Render(w, http.StatusOK, "webhooks.html", v)
}

// eventList joins event names for display.
func eventList(evs []string) string { return strings.Join(evs, ", ") }
