package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"herald/store"
	"herald/web/ui"
)

// bouncesView is the data of admin/bounces.html.
type bouncesView struct {
	Page    adminPage
	Kind    string
	Source  string
	Since   string
	Kinds   []string
	Sources []string
	Rows    []bounceRow
	Next    string
}

type bounceRow struct {
	store.Bounce
	When       string
	Subscriber string // the subscriber's id, "" once erased
}

const bouncesPageSize = 100

// bouncesPage: GET /admin/bounces, the bounces and complaints of SPEC 8.3
// with the filters of GET /api/v1/bounces: kind, source, since, cursor.
func (a *Console) bouncesPage(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.DB == nil {
		return ui.NotFound("The bounces page")
	}
	q := r.URL.Query()
	v := bouncesView{Page: a.page(sess, "Bounces and complaints", "bounces"), Kind: strings.TrimSpace(q.Get("kind")),
		Source: strings.TrimSpace(q.Get("source")), Since: strings.TrimSpace(q.Get("since")),
		Kinds: store.BounceKinds, Sources: store.BounceSources}
	bq := store.BounceQuery{Kind: v.Kind, Source: v.Source, Limit: bouncesPageSize}
	if v.Kind != "" && !slices.Contains(store.BounceKinds, v.Kind) {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The kind must be hard, soft or complaint.")
	}
	if v.Source != "" && !slices.Contains(store.BounceSources, v.Source) {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The source must be smtp, mailbox, ses, postmark, sendgrid or mailgun.")
	}
	var ok bool
	if bq.Since, ok = parseWhen(v.Since, false); !ok {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "\"Since\" must be a date such as 2026-01-31.")
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The page link is damaged; start again from the first page.")
		}
		bq.BeforeID = n
	}
	rows, err := a.deps.DB.ListBounces(r.Context(), bq)
	if err != nil {
		return err
	}
	for _, b := range rows {
		row := bounceRow{Bounce: b, When: b.At.UTC().Format("2006-01-02 15:04:05")}
		if b.SubscriberID != 0 {
			row.Subscriber = strconv.FormatInt(b.SubscriberID, 10)
		}
		v.Rows = append(v.Rows, row)
	}
	if len(rows) == bouncesPageSize {
		next := url.Values{}
		for k, val := range q {
			next[k] = val
		}
		next.Set("cursor", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		v.Next = "/admin/bounces?" + next.Encode()
	}
	return a.pages.Render(w, http.StatusOK, "bounces.html", v)
}
