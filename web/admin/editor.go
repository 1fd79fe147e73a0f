package admin

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"herald/releases"
	"herald/staff"
	"herald/store"
	"herald/subscribers"
	"herald/web/ui"
)

// maxEditorBody caps a posted editor form: the largest body the release
// service takes (1 MiB) and the other fields.
const maxEditorBody = releases.MaxBody + 64<<10

// localLayout is the value format of <input type="datetime-local">.
const localLayout = "2006-01-02T15:04"

// contactRow is a press contact's fields in the form.
type contactRow struct {
	N                  int
	Name, Email, Phone string
}

// releaseForm is the editor's fields, as stored or as submitted.
type releaseForm struct {
	ID                                 int64
	Action                             string
	Title, Summary, Body, BodyFormat   string
	URL, Slug, Dateline, Language, Key string
	Status                             string
	PublishedLocal, Timezone           string
	OrigLocal, OrigZone                string // to tell an untouched time from a changed one
	PublishedUTC                       string // the stored time, for the hint
	Live                               bool
	SummaryDerived                     bool
	Topics                             []ui.Option
	Regions                            []ui.RegionOption
	Languages                          []ui.Option
	Zones                              []ui.ZoneGroup
	Groups                             []groupOption
	Contacts                           []contactRow
	Errors                             map[string]string
	ErrorList                          []ui.FieldError
	Detect                             bool // a new form: the script may pick the browser's zone
}

// groupOption is an existing translation group offered in the picker.
type groupOption struct {
	Key, Label string
}

// HasError reports whether field has an error.
func (f releaseForm) HasError(field string) bool { return f.Errors[field] != "" }

// previewLinks are a stored preview's frames and plain text.
type previewLinks struct {
	Page, Mail string // URLs of the framed documents
	Subject    string
	Text       string
}

// editorView is the data of admin/release.html.
type editorView struct {
	Page     adminPage
	Form     releaseForm
	Preview  *previewLinks
	AlertURL string
	// Media are the release's images and PDFs (SPEC 10), MediaAction
	// the upload form's target; "" for a new release or without the
	// media service.
	Media       []mediaRow
	MediaAction string
}

// CanSave reports whether the signed-in role may save this form: a
// publisher always; an editor a new release or a draft (saved as a draft:
// the server checks the status chosen, saveRule).
func (v editorView) CanSave() bool {
	return v.Page.CanPublish() || v.Page.CanEdit() && (v.Form.ID == 0 || v.Form.Status == releases.StatusDraft)
}

// editorFields is the release as the form edits it.
type editorFields struct {
	Title, Summary, Body, BodyFormat, URL, Slug, Dateline, Language, Key, Status string
	Topics, Regions                                                              []string
	Contacts                                                                     []store.Contact
	PublishedLocal, Timezone, OrigLocal, OrigZone                                string
}

// fieldsOf reads a stored release into the form's fields, its time shown
// in zone.
func fieldsOf(r *store.Release, zone string) editorFields {
	f := editorFields{Title: r.Title, Summary: r.Summary, Body: r.Body, BodyFormat: r.BodyFormat, URL: r.URL,
		Slug: r.Slug, Dateline: r.Dateline, Language: r.Language, Key: r.TranslationKey, Status: r.Status,
		Topics: r.Topics, Regions: r.Regions, Contacts: r.Contacts, Timezone: zone}
	if r.SummaryDerived {
		f.Summary = ""
	}
	if loc, err := time.LoadLocation(zone); err == nil && !r.PublishedAt.IsZero() {
		f.PublishedLocal = r.PublishedAt.In(loc).Format(localLayout)
	}
	f.OrigLocal, f.OrigZone = f.PublishedLocal, zone
	return f
}

// readFields reads a posted editor form (already parsed by the CSRF check).
func readFields(r *http.Request) editorFields {
	p := r.PostForm
	f := editorFields{Title: p.Get("title"), Summary: p.Get("summary"), Body: p.Get("body"), BodyFormat: p.Get("body_format"),
		URL: p.Get("url"), Slug: p.Get("slug"), Dateline: p.Get("dateline"), Language: p.Get("language"),
		Key: p.Get("translation_key"), Status: p.Get("status"), Topics: p["topics"], Regions: p["regions"],
		PublishedLocal: strings.TrimSpace(p.Get("published_local")), Timezone: strings.TrimSpace(p.Get("timezone")),
		OrigLocal: p.Get("orig_local"), OrigZone: p.Get("orig_zone")}
	names, emails, phones := p["contact_name"], p["contact_email"], p["contact_phone"]
	for i := range min(max(len(names), len(emails), len(phones)), releases.MaxContacts+5) {
		c := store.Contact{Name: at(names, i), Email: at(emails, i), Phone: at(phones, i)}
		if strings.TrimSpace(c.Name+c.Email+c.Phone) != "" {
			f.Contacts = append(f.Contacts, c)
		}
	}
	return f
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

var zoneName = regexp.MustCompile(`^[A-Za-z0-9_+\-/]{1,64}$`)

// input turns the fields into the release service's input. Every field is
// sent, so a save is what the form shows; the publication time is sent
// only when it was changed (a stored time with seconds is kept as it is),
// converted from the chosen zone to UTC.
func (f editorFields) input(create bool) (releases.Input, error) {
	topics, regions := releases.List(f.Topics), releases.List(f.Regions)
	contacts := f.Contacts
	if contacts == nil {
		contacts = []store.Contact{}
	}
	in := releases.Input{Title: &f.Title, Summary: &f.Summary, Body: &f.Body, BodyFormat: &f.BodyFormat,
		URL: &f.URL, Slug: &f.Slug, Dateline: &f.Dateline, Language: &f.Language, TranslationKey: &f.Key,
		Status: &f.Status, Topics: &topics, Regions: &regions, Contacts: &contacts}
	if f.PublishedLocal == "" || (!create && f.PublishedLocal == f.OrigLocal && f.Timezone == f.OrigZone) {
		return in, nil
	}
	layout := localLayout
	if _, err := time.Parse(layout, f.PublishedLocal); err != nil {
		layout += ":05" // browsers send seconds when the value has them
		if _, err := time.Parse(layout, f.PublishedLocal); err != nil {
			return in, &releases.ValidationError{Field: "published_at", Msg: "enter a date and a time such as 2026-07-05 09:00"}
		}
	}
	loc, err := time.UTC, error(nil)
	if !zoneName.MatchString(f.Timezone) {
		err = errors.New("bad zone")
	} else {
		loc, err = time.LoadLocation(f.Timezone)
	}
	if err != nil {
		return in, &releases.ValidationError{Field: "timezone", Msg: "choose a time zone from the list"}
	}
	// A local time that a clock change skips or repeats is read as Go
	// does: the skipped hour moves forward, a repeated one is the first.
	t, err := time.ParseInLocation(layout, f.PublishedLocal, loc)
	if err != nil {
		return in, &releases.ValidationError{Field: "published_at", Msg: "enter a date and a time such as 2026-07-05 09:00"}
	}
	s := t.UTC().Format(time.RFC3339)
	in.PublishedAt = &s
	return in, nil
}

// form lays the fields over the taxonomy and the choices.
func (a *Console) form(r *http.Request, id int64, f editorFields) (releaseForm, error) {
	ctx := r.Context()
	tax, err := a.deps.Releases.Taxonomy(ctx)
	if err != nil {
		return releaseForm{}, err
	}
	rf := releaseForm{ID: id, Action: "/admin/releases", Title: f.Title, Summary: f.Summary, Body: f.Body,
		BodyFormat: f.BodyFormat, URL: f.URL, Slug: f.Slug, Dateline: f.Dateline, Language: f.Language, Key: f.Key,
		Status: f.Status, PublishedLocal: f.PublishedLocal, Timezone: f.Timezone, OrigLocal: f.OrigLocal, OrigZone: f.OrigZone,
		Errors: map[string]string{}}
	if id != 0 {
		rf.Action = "/admin/releases/" + strconv.FormatInt(id, 10)
	}
	if rf.BodyFormat == "" {
		rf.BodyFormat = releases.FormatMarkdown
	}
	if rf.Status == "" {
		rf.Status = releases.StatusPublished
	}
	for _, t := range tax.Topics {
		rf.Topics = append(rf.Topics, ui.Option{Value: t.Slug, Label: t.Name, Checked: slices.Contains(f.Topics, t.Slug)})
	}
	rf.Regions = ui.RegionTree(tax, "en", f.Regions)
	rf.Languages = languageOptions(f.Language, false)
	rf.Zones = ui.ZoneGroups(subscribers.CommonZones(f.Timezone, a.opts.Timezone), f.Timezone)
	groups, err := a.deps.DB.TranslationGroups(ctx, 200)
	if err != nil {
		return rf, err
	}
	for _, g := range groups {
		rf.Groups = append(rf.Groups, groupOption{Key: g.Key, Label: releases.Truncate(g.Title, 80) + " (" + strings.Join(g.Languages, ", ") + ")"})
	}
	for i, c := range f.Contacts {
		rf.Contacts = append(rf.Contacts, contactRow{N: i + 1, Name: shownLong(c.Name), Email: shownLong(c.Email), Phone: shownLong(c.Phone)})
	}
	for n := len(rf.Contacts); len(rf.Contacts) < n+2 && len(rf.Contacts) < releases.MaxContacts; {
		rf.Contacts = append(rf.Contacts, contactRow{N: len(rf.Contacts) + 1})
	}
	return rf, nil
}

// shownLong keeps a submitted one-line value for the form, bounded.
func shownLong(s string) string { return releases.Clip(s, 300) }

// setError shows a validation error next to its field (contacts[2].email
// goes to the contacts) and in the summary at the top.
func (f *releaseForm) setError(err error) bool {
	var fe interface{ InvalidField() string }
	if !errors.As(err, &fe) {
		return false
	}
	field := fe.InvalidField()
	msg := err.Error()
	var ve *releases.ValidationError
	if errors.As(err, &ve) {
		msg = ve.Msg
	}
	if strings.HasPrefix(field, "contacts") {
		field = "contacts"
	}
	if field == "" {
		field = "title"
	}
	label := strings.ReplaceAll(field, "_", " ")
	if field == "published_at" {
		label = "publication time"
	}
	label = strings.ToUpper(label[:1]) + label[1:]
	f.Errors[field] = sentence(label, msg)
	f.ErrorList = append(f.ErrorList, ui.FieldError{Field: field, Label: label, Msg: msg})
	return true
}

// sentence makes a field's message readable on its own: "is required"
// becomes "Title is required", "at least one ..." "At least one ...".
func sentence(label, msg string) string {
	for _, p := range []string{"is ", "must ", "has ", "cannot "} {
		if strings.HasPrefix(msg, p) {
			return label + " " + msg + "."
		}
	}
	if msg == "" {
		return label + " is not valid."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (a *Console) newRelease(w http.ResponseWriter, r *http.Request, sess *session) error {
	f := editorFields{Language: "en", Status: releases.StatusPublished, BodyFormat: releases.FormatMarkdown, Timezone: a.opts.Timezone}
	if sess.Principal.Role < staff.Publisher {
		f.Status = releases.StatusDraft // what an editor may save
	}
	rf, err := a.form(r, 0, f)
	if err != nil {
		return err
	}
	rf.Detect = true
	v := editorView{Page: a.page(sess, "New release", "releases"), Form: rf}
	w.Header().Set("Content-Security-Policy", adminFrameCSP)
	return a.pages.Render(w, http.StatusOK, "release.html", v)
}

func (a *Console) editRelease(w http.ResponseWriter, r *http.Request, sess *session) error {
	rel, err := a.getRelease(r)
	if err != nil {
		return err
	}
	zone := r.URL.Query().Get("tz")
	if _, err := time.LoadLocation(zone); zone == "" || !zoneName.MatchString(zone) || err != nil {
		zone = a.opts.Timezone
	}
	rf, err := a.form(r, rel.ID, fieldsOf(&rel, zone))
	if err != nil {
		return err
	}
	v := a.editorView(sess, &rel, rf)
	v.Page.Notice = a.notice(r)
	w.Header().Set("Content-Security-Policy", adminFrameCSP)
	return a.pages.Render(w, http.StatusOK, "release.html", v)
}

// editorView completes the view of a stored release's editor.
func (a *Console) editorView(sess *session, rel *store.Release, rf releaseForm) editorView {
	v := editorView{Page: a.page(sess, "Edit: "+releases.Truncate(rel.Title, 60), "releases"), Form: rf}
	v.Form.PublishedUTC = rel.PublishedAt.UTC().Format("2 Jan 2006, 15:04 UTC")
	v.Form.SummaryDerived = rel.SummaryDerived
	if a.deps.Media != nil && rel.ID != 0 {
		v.Media = mediaRows(rel)
		v.MediaAction = "/admin/releases/" + strconv.FormatInt(rel.ID, 10) + "/media"
	}
	if releases.IsLive(rel, a.now()) {
		v.Form.Live = true
		v.AlertURL = "/admin/releases/" + strconv.FormatInt(rel.ID, 10) + "/alert"
	}
	return v
}

// saveRelease: POST /admin/releases (create) and /admin/releases/{id}
// (update) through the release service; with action=preview it only shows
// the preview (for browsers without script). Validation errors come back
// next to their fields with the input kept.
func (a *Console) saveRelease(w http.ResponseWriter, r *http.Request, sess *session) error {
	ctx := r.Context()
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = releaseID(r); err != nil {
			return err
		}
	}
	f := readFields(r)
	in, err := f.input(id == 0)
	var rel store.Release
	if err == nil {
		switch {
		case r.PostForm.Get("action") == "preview":
			return a.previewPage(w, r, sess, id, f, in)
		case id == 0:
			rel, err = a.deps.Releases.Create(ctx, in)
		default:
			rel, err = a.deps.Releases.Update(ctx, id, in)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return ui.NotFound("This release")
	}
	if err != nil {
		rf, ferr := a.form(r, id, f)
		if ferr != nil {
			return ferr
		}
		if !rf.setError(err) {
			return err
		}
		v := editorView{Page: a.page(sess, "New release", "releases"), Form: rf}
		if id != 0 {
			v.Page.Title = "Edit release"
		}
		w.Header().Set("Content-Security-Policy", adminFrameCSP)
		return a.pages.Render(w, http.StatusUnprocessableEntity, "release.html", v)
	}
	done := "saved"
	if id == 0 {
		done = "created"
	}
	a.log.Info("release saved from the console", "release_id", rel.ID, "created", id == 0)
	target := "/admin/releases/" + strconv.FormatInt(rel.ID, 10) + "?done=" + done
	if f.Timezone != "" && zoneName.MatchString(f.Timezone) {
		target += "&tz=" + url.QueryEscape(f.Timezone)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}
