package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/web/ui"
)

// releaseRow is a release in the console's list.
type releaseRow struct {
	ID        int64
	Title     string
	Lang      string
	State     string // live | embargoed | draft
	StateText string
	Date      ui.DateView
	Countdown string // embargoed: "in 2 h 5 min"
	Topics    string
	EditURL   string
	AlertURL  string // live only
	PageURL   string // live only
}

// releaseFilters are the list's filters, as chosen.
type releaseFilters struct {
	Status, Lang, Topic, Region string
	Statuses                    []ui.Option
	Topics, Regions, Languages  []ui.Option
}

// releaseListView is the data of admin/releases.html.
type releaseListView struct {
	Page    adminPage
	Filters releaseFilters
	Rows    []releaseRow
	Next    string // URL of the next page, "" on the last
}

const releasePageSize = 50

func (a *Console) releaseList(w http.ResponseWriter, r *http.Request, sess *session) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := releaseFilters{Status: q.Get("status"), Lang: q.Get("lang"), Topic: q.Get("topic"), Region: q.Get("region")}
	lq := releases.ListQuery{Status: f.Status, Limit: releasePageSize}
	if f.Lang != "" {
		lq.Langs = []string{f.Lang}
	}
	if f.Topic != "" {
		lq.Topics = []string{f.Topic}
	}
	if f.Region != "" {
		lq.Regions = []string{f.Region}
	}
	v := releaseListView{Page: a.page(sess, "Releases", "releases")}
	if c := q.Get("cursor"); c != "" {
		cur, err := releases.DecodeCursor(c)
		if err != nil {
			return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "This page link is damaged. Go back to the first page of the list.")
		}
		lq.After = &cur
	}
	tax, err := a.deps.Releases.Taxonomy(ctx)
	if err != nil {
		return err
	}
	f.Statuses = []ui.Option{{Value: "", Label: "All"}, {Value: "live", Label: "Live"}, {Value: "embargoed", Label: "Embargoed"}, {Value: "draft", Label: "Draft"}}
	for i := range f.Statuses {
		f.Statuses[i].Checked = f.Statuses[i].Value == f.Status
	}
	f.Topics = []ui.Option{{Value: "", Label: "All topics"}}
	for _, t := range tax.Topics {
		f.Topics = append(f.Topics, ui.Option{Value: t.Slug, Label: t.Name, Checked: t.Slug == f.Topic})
	}
	f.Regions = []ui.Option{{Value: "", Label: "All regions"}}
	for _, g := range tax.Regions {
		label := g.Name
		if g.Parent != "" {
			label = "— " + label
		}
		f.Regions = append(f.Regions, ui.Option{Value: g.Slug, Label: label, Checked: g.Slug == f.Region})
	}
	f.Languages = languageOptions(f.Lang, true)
	v.Filters = f
	page, err := a.deps.Releases.List(ctx, lq)
	var fe interface{ InvalidField() string }
	if errors.As(err, &fe) {
		v.Page.Error = "The filter is not valid: " + err.Error()
		return a.pages.Render(w, http.StatusUnprocessableEntity, "releases.html", v)
	}
	if err != nil {
		return err
	}
	now := a.now()
	for i := range page.Items {
		rel := &page.Items[i]
		row := releaseRow{ID: rel.ID, Title: rel.Title, Lang: rel.Language, Date: ui.FormatDate(rel.PublishedAt, "en"),
			EditURL: "/admin/releases/" + strconv.FormatInt(rel.ID, 10)}
		switch {
		case rel.Status == releases.StatusDraft:
			row.State, row.StateText = "draft", "Draft"
		case releases.IsLive(rel, now):
			row.State, row.StateText = "live", "Live"
			row.AlertURL = row.EditURL + "/alert"
			row.PageURL = "/releases/" + rel.Slug
		default:
			row.State, row.StateText = "embargoed", "Embargoed"
			row.Countdown = untilText(rel.PublishedAt.Sub(now))
		}
		names := make([]string, 0, len(rel.Topics))
		for _, t := range rel.Topics {
			names = append(names, tax.TopicName(t, "en"))
		}
		row.Topics = strings.Join(names, ", ")
		v.Rows = append(v.Rows, row)
	}
	if page.NextCursor != "" {
		nq := url.Values{}
		for k, val := range map[string]string{"status": f.Status, "lang": f.Lang, "topic": f.Topic, "region": f.Region} {
			if val != "" {
				nq.Set(k, val)
			}
		}
		nq.Set("cursor", page.NextCursor)
		v.Next = "/admin/releases?" + nq.Encode()
	}
	return a.pages.Render(w, http.StatusOK, "releases.html", v)
}

// editorLanguages are offered in the editor and the filters; a release in
// another language keeps its own as an extra option.
var editorLanguages = []string{"en", "fr", "es", "ar", "pt", "ru", "zh"}

func languageOptions(chosen string, any bool) []ui.Option {
	var out []ui.Option
	if any {
		out = append(out, ui.Option{Value: "", Label: "All languages", Checked: chosen == ""})
	}
	known := false
	for _, l := range editorLanguages {
		out = append(out, ui.Option{Value: l, Label: feeds.LanguageName(l) + " (" + l + ")", Checked: l == chosen})
		known = known || l == chosen
	}
	if !known && chosen != "" {
		out = append(out, ui.Option{Value: releases.Clip(chosen, 100), Label: releases.Clip(chosen, 100), Checked: true})
	}
	return out
}

// releaseID reads the {id} of a console URL.
func releaseID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, ui.NotFound("This release")
	}
	return id, nil
}

// getRelease reads a release, a missing one being a 404.
func (a *Console) getRelease(r *http.Request) (store.Release, error) {
	id, err := releaseID(r)
	if err != nil {
		return store.Release{}, err
	}
	rel, err := a.deps.Releases.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return rel, ui.NotFound("This release")
	}
	return rel, err
}
