package admin

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"herald/dispatch"
	"herald/feeds"
	"herald/store"
	"herald/subscribers"
	"herald/web/ui"
)

// Days shown by the dashboard's charts.
const (
	growthDays   = 90
	deliveryDays = 14
)

// barTable is a breakdown table with its heading.
type barTable struct {
	Heading string
	Rows    []barRow
}

// countView is a labelled number.
type countView struct {
	Label string
	N     int
}

// dashboardView is the data of admin/dashboard.html.
type dashboardView struct {
	Page                    adminPage
	Statuses                []countView
	Total                   int
	Active                  int
	ByCadence               barTable
	ByLanguage              barTable
	ByTopic                 barTable
	ByRegion                barTable
	Growth                  svgChart
	GrowthRows              []store.GrowthDay
	Delivery                svgChart
	DeliveryRows            []store.DeliveryDay
	Queue                   store.OutboxQueue
	QueueNext               string
	LastError               store.LastSendError
	LastErrorAt             string
	Live, Embargoed, Drafts int
	Embed                   embedView
}

// embedView is the copy-paste snippet that puts the subscribe form on the
// organization's own pages (SPEC 11, HERALD_FORM_ORIGINS).
type embedView struct {
	Origins []string
	Frame   string // an iframe of the form
	Script  string // the JSON API from the page's own script
}

func (a *Console) embed() embedView {
	base := a.opts.BaseURL
	return embedView{
		Origins: a.opts.FormOrigins,
		Frame: `<iframe src="` + base + `/subscribe?lang=en" title="Subscribe to our press releases"
        width="100%" height="1100" loading="lazy"></iframe>`,
		Script: `// Solve the proof-of-work challenge (GET ` + base + `/subscribe/challenge, as the form does), then:
fetch("` + base + `/subscribe", {method: "POST",
  headers: {"Content-Type": "application/json", "Accept": "application/json"},
  body: JSON.stringify({email: "name@example.org", topics: ["migration"], language: "en",
                        cadence: "daily", altcha: solution})})`,
	}
}

func (a *Console) dashboard(w http.ResponseWriter, r *http.Request, sess *session) error {
	ctx := r.Context()
	now := a.now()
	v := dashboardView{Page: a.page(sess, "Dashboard", "dashboard"), Embed: a.embed()}
	v.Page.Notice = a.notice(r)
	counts, err := a.deps.Subscribers.Counts(ctx)
	if err != nil {
		return err
	}
	for _, st := range subscribers.Statuses {
		v.Statuses = append(v.Statuses, countView{Label: st, N: counts[st]})
		v.Total += counts[st]
	}
	db := a.deps.DB
	// The three scans of the big tables run side by side (the read pool
	// has several connections); on 100,000 subscribers and 300,000
	// messages that halves the page's time.
	var b store.SubscriberBreakdown
	var wg sync.WaitGroup
	var errB, errG, errD error
	wg.Go(func() { b, errB = db.SubscriberBreakdown(ctx) })
	wg.Go(func() { v.GrowthRows, errG = db.SubscriberGrowth(ctx, now, growthDays) })
	wg.Go(func() { v.DeliveryRows, errD = db.DeliveryHealth(ctx, now, deliveryDays) })
	wg.Wait()
	if err := errors.Join(errB, errG, errD); err != nil {
		return err
	}
	v.Active = b.Active
	tax, err := a.deps.Releases.Taxonomy(ctx)
	if err != nil {
		return err
	}
	var labels []string
	var ns []int
	for _, c := range subscribers.Cadences {
		labels, ns = append(labels, c), append(ns, b.ByCadence[c])
	}
	v.ByCadence = barTable{Heading: "Cadence", Rows: barRows(labels, ns)}
	v.ByLanguage = barTable{Heading: "Language", Rows: sortedBars(b.ByLanguage, feeds.LanguageName, 0)}
	v.ByTopic = barTable{Heading: "Topic", Rows: append(barRows([]string{"All topics"}, []int{b.AllTopics}),
		sortedBars(b.ByTopic, func(s string) string { return tax.TopicName(s, "en") }, 0)...)}
	v.ByRegion = barTable{Heading: "Region", Rows: append(barRows([]string{"All regions"}, []int{b.AllRegions}),
		sortedBars(b.ByRegion, func(s string) string { return tax.RegionName(s, "en") }, 15)...)}
	rescale(v.ByTopic.Rows)
	rescale(v.ByRegion.Rows)
	v.Growth = growthChart(v.GrowthRows)
	v.Delivery = deliveryChart(v.DeliveryRows)
	if v.Queue, err = db.OutboxQueue(ctx, now); err != nil {
		return err
	}
	if !v.Queue.NextAt.IsZero() {
		v.QueueNext = v.Queue.NextAt.UTC().Format("2 Jan 2006, 15:04 UTC")
	}
	if v.LastError, err = db.LastSendError(ctx); err != nil {
		return err
	}
	if !v.LastError.At.IsZero() {
		v.LastErrorAt = v.LastError.At.UTC().Format("2 Jan 2006, 15:04 UTC")
	}
	if v.Live, v.Embargoed, v.Drafts, err = db.CountReleases(ctx, now); err != nil {
		return err
	}
	return a.pages.Render(w, http.StatusOK, "dashboard.html", v)
}

// sortedBars orders counts by size (then name), keeping at most limit rows
// when limit > 0.
func sortedBars(m map[string]int, name func(string) string, limit int) []barRow {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	labels := make([]string, len(keys))
	ns := make([]int, len(keys))
	for i, k := range keys {
		labels[i], ns[i] = name(k), m[k]
	}
	return barRows(labels, ns)
}

// rescale scales rows built in parts against their common maximum.
func rescale(rows []barRow) {
	labels := make([]string, len(rows))
	ns := make([]int, len(rows))
	for i, r := range rows {
		labels[i], ns[i] = r.Label, r.N
	}
	copy(rows, barRows(labels, ns))
}

// notice turns the ?done= of a redirect into a sentence; only known keys
// are shown, so nothing from the URL is reflected as text except numbers.
func (a *Console) notice(r *http.Request) string {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("n"))
	switch q.Get("done") {
	case "digest-daily", "digest-weekly":
		if n == 0 {
			return "No digest was due: nobody of that cadence has new matching releases."
		}
		return "The digest is on its way: " + strconv.Itoa(n) + " digests queued."
	case "created":
		return "The release is saved."
	case "saved":
		return "Your changes are saved."
	case "test":
		return "A test copy is queued. It is sent within moments."
	case "media-added":
		return "The file is added."
	case "media-moved":
		return "The order of the files is saved. The first image is the lead image."
	case "media-removed":
		return "The file is removed."
	}
	return ""
}

// runDigest: POST /admin/digests/{cadence} sends that digest now, as
// POST /api/v1/digests/{cadence}/run does.
func (a *Console) runDigest(w http.ResponseWriter, r *http.Request, sess *session) error {
	cadence := r.PathValue("cadence")
	if cadence != dispatch.CadenceDaily && cadence != dispatch.CadenceWeekly {
		return ui.NotFound("This digest")
	}
	res, err := a.deps.Dispatch.RunDigest(r.Context(), dispatch.DigestRequest{Cadence: cadence})
	if err != nil {
		return err
	}
	a.log.Info("digest run from the console", "cadence", cadence, "run_id", res.RunID, "recipients", res.Recipients)
	http.Redirect(w, r, "/admin/?done=digest-"+cadence+"&n="+strconv.Itoa(res.Recipients), http.StatusSeeOther)
	return nil
}

// exportSubscribers: GET /admin/subscribers.csv streams every subscriber
// as CSV, like GET /api/v1/subscribers/export.
func (a *Console) exportSubscribers(w http.ResponseWriter, r *http.Request, sess *session) error {
	name := "subscribers-" + a.now().UTC().Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	n, err := a.deps.Subscribers.Export(r.Context(), w, nil)
	if err != nil {
		// The header is gone; the truncated file is all that can be done.
		a.log.Error("subscriber export failed", "rows", n, "err", err)
		return nil
	}
	a.log.Info("subscribers exported from the console", "rows", n)
	return nil
}

// untilText is a countdown such as "in 2 h 5 min".
func untilText(d time.Duration) string {
	if d <= 0 {
		return "now"
	}
	d = d.Round(time.Minute)
	days := int(d / (24 * time.Hour))
	h := int(d%(24*time.Hour)) / int(time.Hour)
	m := int(d%time.Hour) / int(time.Minute)
	switch {
	case days > 0:
		return "in " + strconv.Itoa(days) + " d " + strconv.Itoa(h) + " h"
	case h > 0:
		return "in " + strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	case m > 0:
		return "in " + strconv.Itoa(m) + " min"
	}
	return "in less than a minute"
}
