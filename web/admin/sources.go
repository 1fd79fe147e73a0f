package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
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
	// Edit is the edit form of the selected source; EditError says why
	// it was refused.
	Edit      sourceEdit
	EditError string
}

type sourceForm struct{ URL, Mode, Topics, Interval string }

// sourceEdit is the edit form: lists are comma-separated slugs, the
// category map one "Feed category = slug" per line.
type sourceEdit struct {
	URL, Mode, Topics, Regions, CategoryMap, Interval string
	Enabled                                           bool
}

func editOf(d sources.Document) sourceEdit {
	var cm []string
	for k, v := range d.CategoryMap {
		cm = append(cm, k+" = "+v)
	}
	slices.Sort(cm)
	return sourceEdit{URL: d.URL, Mode: d.Mode, Topics: strings.Join(d.Topics, ", "), Regions: strings.Join(d.Regions, ", "),
		CategoryMap: strings.Join(cm, "\n"), Interval: d.Interval, Enabled: d.Enabled}
}

// slugList splits a comma-separated form field.
func slugList(s string) releases.List {
	out := releases.List{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

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
		if v.EditError == "" {
			v.Edit = editOf(d)
		}
		if v.Runs, err = a.deps.Sources.Runs(ctx, id, 50); err != nil {
			return err
		}
	}
	if r.URL.Query().Get("saved") != "" {
		v.Page.Notice = "Source saved."
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
	topics := slugList(f.Topics)
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

// editSource: POST /admin/sources/{id} changes a source (URL, mode, topics,
// regions, category map, interval, enabled); the sources service audits it
// (source.update).
func (a *Console) editSource(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.Sources == nil {
		return ui.NotFound("This page")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return ui.NotFound("This source")
	}
	f := sourceEdit{URL: r.PostFormValue("url"), Mode: r.PostFormValue("mode"), Topics: r.PostFormValue("topics"),
		Regions: r.PostFormValue("regions"), CategoryMap: r.PostFormValue("category_map"), Interval: r.PostFormValue("interval"),
		Enabled: r.PostFormValue("enabled") != ""}
	in := sources.Input{URL: &f.URL, Mode: &f.Mode, Interval: &f.Interval, Enabled: &f.Enabled}
	topics, regions := slugList(f.Topics), slugList(f.Regions)
	in.Topics, in.Regions = &topics, &regions
	cm := map[string]string{}
	for n, line := range strings.Split(f.CategoryMap, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return a.refuseEdit(w, r, sess, id, f, "category_map: line "+strconv.Itoa(n+1)+" must read Feed category = slug")
		}
		cm[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	in.CategoryMap = &cm
	_, err = a.deps.Sources.Update(r.Context(), id, in)
	var ve *releases.ValidationError
	if errors.As(err, &ve) {
		return a.refuseEdit(w, r, sess, id, f, ve.Error())
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/sources?id="+strconv.FormatInt(id, 10)+"&saved=1", http.StatusSeeOther)
	return nil
}

// refuseEdit shows the edit form again, as sent, with why it was refused.
func (a *Console) refuseEdit(w http.ResponseWriter, r *http.Request, sess *session, id int64, f sourceEdit, msg string) error {
	q := r.URL.Query()
	q.Set("id", strconv.FormatInt(id, 10))
	r.URL.RawQuery = q.Encode()
	v := sourcesView{Page: a.page(sess, "Sources", "sources"), Form: sourceForm{Mode: "draft", Interval: "15m"}, Edit: f, EditError: msg}
	return a.renderSources(w, r, v, http.StatusUnprocessableEntity)
}
