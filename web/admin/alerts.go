package admin

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"herald/dispatch"
	"herald/feeds"
	"herald/releases"
	"herald/store"
	"herald/web/ui"
)

// The alert dialog: who would get the alert (a dry run of the same
// dispatch.Alert the API calls), an optional test copy, the confirmation,
// then the progress page, which the script updates from a status URL.

// alertDialogView is the data of admin/alert.html.
type alertDialogView struct {
	Page       adminPage
	ReleaseID  int64
	Title      string
	Live       bool
	State      string // why it cannot be sent, when not live
	Audience   string
	Audiences  []ui.Option
	Recipients int
	ByCadence  []countView
	ByLanguage []countView
	TestTo     string
	TestError  string
	TestAlert  string // progress URL of the test copy just queued
	Action     string
	EditURL    string
}

func (a *Console) alertDialog(w http.ResponseWriter, r *http.Request, sess *session) error {
	rel, err := a.getRelease(r)
	if err != nil {
		return err
	}
	v, err := a.alertView(r, sess, &rel, r.URL.Query().Get("audience"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("done") == "test" {
		v.Page.Notice = a.notice(r)
		if id, err := strconv.ParseInt(r.URL.Query().Get("alert"), 10, 64); err == nil && id > 0 {
			v.TestAlert = "/admin/alerts/" + strconv.FormatInt(id, 10)
		}
	}
	return a.pages.Render(w, http.StatusOK, "alert.html", v)
}

// alertView counts the audience with a dry run.
func (a *Console) alertView(r *http.Request, sess *session, rel *store.Release, audience string) (alertDialogView, error) {
	if audience != dispatch.AudienceImmediate {
		audience = dispatch.AudienceMatching
	}
	id := strconv.FormatInt(rel.ID, 10)
	v := alertDialogView{Page: a.page(sess, "Send alert", "releases"), ReleaseID: rel.ID, Title: rel.Title,
		Audience: audience, Action: "/admin/releases/" + id + "/alert", EditURL: "/admin/releases/" + id,
		Audiences: []ui.Option{
			{Value: dispatch.AudienceMatching, Label: "Every active subscriber this release matches", Checked: audience == dispatch.AudienceMatching},
			{Value: dispatch.AudienceImmediate, Label: "Only those who asked for immediate alerts", Checked: audience == dispatch.AudienceImmediate},
		}}
	now := a.now()
	switch {
	case rel.Status == releases.StatusDraft:
		v.State = "This release is a draft. Publish it before sending an alert."
		return v, nil
	case !releases.IsLive(rel, now):
		v.State = "This release is under embargo: it goes live " + untilText(rel.PublishedAt.Sub(now)) +
			". Its automatic alert then goes to the subscribers who asked for immediate alerts."
		return v, nil
	}
	v.Live = true
	res, err := a.deps.Dispatch.Alert(r.Context(), dispatch.AlertRequest{ReleaseID: rel.ID, Audience: audience, DryRun: true})
	if errors.Is(err, dispatch.ErrNotLive) {
		v.Live, v.State = false, "This release is not live."
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.Recipients = res.Recipients
	for _, c := range []string{dispatch.CadenceImmediate, dispatch.CadenceDaily, dispatch.CadenceWeekly} {
		v.ByCadence = append(v.ByCadence, countView{Label: c, N: res.ByCadence[c]})
	}
	for l, n := range res.ByLanguage {
		v.ByLanguage = append(v.ByLanguage, countView{Label: feeds.LanguageName(l) + " (" + l + ")", N: n})
	}
	sort.Slice(v.ByLanguage, func(i, j int) bool {
		if v.ByLanguage[i].N != v.ByLanguage[j].N {
			return v.ByLanguage[i].N > v.ByLanguage[j].N
		}
		return v.ByLanguage[i].Label < v.ByLanguage[j].Label
	})
	return v, nil
}

// sendAlert: POST /admin/releases/{id}/alert with action=test (one copy to
// test_to) or action=send (the alert itself). Sending twice is harmless:
// dispatch queues at most one alert per subscriber and release group.
func (a *Console) sendAlert(w http.ResponseWriter, r *http.Request, sess *session) error {
	rel, gerr := a.getRelease(r)
	if gerr != nil {
		return gerr
	}
	audience := r.PostForm.Get("audience")
	req := dispatch.AlertRequest{ReleaseID: rel.ID, Audience: audience}
	test := r.PostForm.Get("action") == "test"
	var res dispatch.AlertResult
	var err error
	if test {
		// An empty address is a mistake here, never "send to everyone".
		req.TestTo = strings.TrimSpace(r.PostForm.Get("test_to"))
		if req.TestTo == "" {
			err = &dispatch.ValidationError{Field: "test_to", Msg: "is required"}
		}
	}
	if err == nil {
		res, err = a.deps.Dispatch.Alert(r.Context(), req)
	}
	var ve *dispatch.ValidationError
	switch {
	case errors.As(err, &ve) || errors.Is(err, dispatch.ErrNotLive):
		v, verr := a.alertView(r, sess, &rel, audience)
		if verr != nil {
			return verr
		}
		v.TestTo = shownLong(r.PostForm.Get("test_to"))
		if ve != nil && ve.Field == "test_to" {
			v.TestError = "Enter one email address, such as press@example.org."
		} else {
			v.Page.Error = "The alert could not be sent: " + err.Error()
		}
		return a.pages.Render(w, http.StatusUnprocessableEntity, "alert.html", v)
	case err != nil:
		return err
	}
	id := strconv.FormatInt(res.AlertID, 10)
	if test {
		a.log.Info("alert test copy from the console", "alert_id", res.AlertID, "release_id", rel.ID)
		http.Redirect(w, r, "/admin/releases/"+strconv.FormatInt(rel.ID, 10)+"/alert?audience="+url.QueryEscape(req.Audience)+"&done=test&alert="+id, http.StatusSeeOther)
		return nil
	}
	a.log.Info("alert sent from the console", "alert_id", res.AlertID, "release_id", rel.ID, "recipients", res.Recipients)
	http.Redirect(w, r, "/admin/alerts/"+id, http.StatusSeeOther)
	return nil
}

// alertProgress is the progress of an alert, for the page and its script.
type alertProgress struct {
	dispatch.AlertDocument
	Percent  int            `json:"percent"`
	Done     bool           `json:"done"`
	Summary  string         `json:"summary"`
	Problems []alertProblem `json:"problems"`
}

type alertProblem struct {
	To       string `json:"to"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
}

// maxProblems is how many problem messages the progress page lists.
const maxProblems = 50

func (a *Console) progress(r *http.Request) (alertProgress, error) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return alertProgress{}, ui.NotFound("This alert")
	}
	al, err := a.deps.Dispatch.AlertStatus(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return alertProgress{}, ui.NotFound("This alert")
	}
	if err != nil {
		return alertProgress{}, err
	}
	p := alertProgress{AlertDocument: dispatch.NewAlertDocument(al), Problems: []alertProblem{}}
	processed := al.Sent + al.Failed + al.Expired + al.Cancelled
	p.Done = !al.QueuedAt.IsZero() && al.Pending == 0
	switch {
	case p.Done:
		p.Percent = 100
	case al.Recipients > 0:
		p.Percent = min(99, processed*100/al.Recipients)
	}
	p.Summary = strconv.Itoa(al.Sent) + " of " + strconv.Itoa(al.Recipients) + " sent"
	if al.Failed > 0 {
		p.Summary += ", " + strconv.Itoa(al.Failed) + " failed"
	}
	if n := al.Expired + al.Cancelled; n > 0 {
		p.Summary += ", " + strconv.Itoa(n) + " dropped"
	}
	if p.Done {
		p.Summary += ". Finished."
	} else {
		p.Summary += ", " + strconv.Itoa(al.Pending) + " waiting."
	}
	probs, err := a.deps.DB.AlertProblems(ctx, al.ID, maxProblems)
	if err != nil {
		return p, err
	}
	for _, x := range probs {
		to := x.To
		if to == "" {
			to = "(erased subscriber)"
		}
		state := x.State
		if state == store.OutboxQueued {
			state = "deferred"
		}
		p.Problems = append(p.Problems, alertProblem{To: to, State: state, Attempts: x.Attempts, Error: releases.Clip(x.Error, 300)})
	}
	return p, nil
}

// alertProgressView is the data of admin/progress.html.
type alertProgressView struct {
	Page      adminPage
	P         alertProgress
	Title     string
	StatusURL string
	EditURL   string
}

func (a *Console) alertProgress(w http.ResponseWriter, r *http.Request, sess *session) error {
	p, err := a.progress(r)
	if err != nil {
		return err
	}
	v := alertProgressView{Page: a.page(sess, "Alert #"+p.ID, "releases"), P: p,
		StatusURL: "/admin/alerts/" + p.ID + "/status", EditURL: "/admin/releases/" + p.ReleaseID}
	rid, _ := strconv.ParseInt(p.ReleaseID, 10, 64)
	if rel, err := a.deps.Releases.Get(r.Context(), rid); err == nil {
		v.Title = rel.Title
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return a.pages.Render(w, http.StatusOK, "progress.html", v)
}

// alertStatus: GET /admin/alerts/{id}/status, the progress as JSON (the
// shape of GET /api/v1/alerts/{id}, plus percent, done and problems).
func (a *Console) alertStatus(w http.ResponseWriter, r *http.Request, sess *session) error {
	p, err := a.progress(r)
	if err != nil {
		return err
	}
	ui.WriteJSON(w, http.StatusOK, p)
	return nil
}
