package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"herald/releases"
	"herald/sources"
	"herald/web/ui"
)

// sourcesView is the data of admin/sources.html: every ingest source, a
// form to add one, and the polls of the one chosen.
type sourcesView struct {
	Page     adminPage
	Sources  []sources.Document
	Selected *sources.Document
	Runs     []sources.RunDocument
	Error    string // why the add form was refused
	Form     sourceForm
}

type sourceForm struct{ URL, Mode, Topics, Interval string }

// sourceList: GET /admin/sources (?id= shows that source's polls).
func (a *Console) sourceList(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.Sources == nil {
		return ui.NotFound("This page")
	}
	v := sourcesView{Page: a.page(sess, "Sources", "sources"), Form: sourceForm{Mode: "draft", Interval: "15m"}}
	return a.renderSources(w, r, v, http.StatusOK)
}

func (a *Console) renderSources(w http.ResponseWriter, r *http.Request, v sourcesView, status int) error {
	ctx := r.Context()
	ss, err := a.deps.Sources.List(ctx)
	if err != nil {
		return err
	}
	for _, s := range ss {
		v.Sources = append(v.Sources, sources.NewDocument(s))
	}
	if q := r.URL.Query().Get("id"); q != "" {
		id, err := strconv.ParseInt(q, 10, 64)
		if err != nil || id <= 0 {
			return ui.NotFound("This source")
		}
		src, err := a.deps.Sources.Get(ctx, id)
		if err != nil {
			return err
		}
		d := sources.NewDocument(src)
		v.Selected = &d
		if v.Runs, err = a.deps.Sources.Runs(ctx, id, 50); err != nil {
			return err
		}
	}
	if n := r.URL.Query().Get("done"); n != "" {
		v.Page.Notice = "Poll finished: " + releases.Clip(n, 200)
	}
	return a.pages.Render(w, status, "sources.html", v)
}

// addSource: POST /admin/sources adds a source from the form.
func (a *Console) addSource(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.Sources == nil {
		return ui.NotFound("This page")
	}
	f := sourceForm{URL: r.PostFormValue("url"), Mode: r.PostFormValue("mode"), Topics: r.PostFormValue("topics"),
		Interval: r.PostFormValue("interval")}
	topics := releases.List{}
	for _, t := range strings.Split(f.Topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	src, err := a.deps.Sources.Create(r.Context(), sources.Input{URL: &f.URL, Mode: &f.Mode, Topics: &topics, Interval: &f.Interval})
	var ve *releases.ValidationError
	if errors.As(err, &ve) {
		v := sourcesView{Page: a.page(sess, "Sources", "sources"), Form: f, Error: ve.Error()}
		return a.renderSources(w, r, v, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/sources?id="+strconv.FormatInt(src.ID, 10), http.StatusSeeOther)
	return nil
}

// runSourceNow: POST /admin/sources/{id}/run polls the source at once.
func (a *Console) runSourceNow(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.Sources == nil {
		return ui.NotFound("This page")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return ui.NotFound("This source")
	}
	run, err := a.deps.Sources.RunNow(r.Context(), id)
	if err != nil {
		return err
	}
	msg := run.Status + ", " + strconv.Itoa(run.New) + " new, " + strconv.Itoa(run.Updated) + " updated"
	http.Redirect(w, r, "/admin/sources?id="+strconv.FormatInt(id, 10)+"&done="+url.QueryEscape(msg), http.StatusSeeOther)
	return nil
}
