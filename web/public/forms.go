package public

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"herald/releases"
	"herald/store"
	"herald/subscribers"
	"herald/web/ui"
)

// maxFormBody caps the body of the public subscription forms.
const maxFormBody = 64 << 10

// pageLang picks the language of a page (SPEC 10): ?lang=, the language
// switcher's cookie, the subscriber's language when known, Accept-Language,
// English (ui.RequestLang).
func pageLang(r *http.Request, known string) string { return ui.RequestLang(r, known) }

// submission is a posted subscribe or preferences form, or its JSON.
type submission struct {
	JSON   bool
	Email  string
	Action string // preferences: save | unsubscribe | resubscribe
	Prefs  subscribers.PrefsInput
	// Subscribe only: the proof-of-work solution and the honeypot field.
	Altcha, Honeypot string
}

// errMalformed is a body that is neither a form nor a JSON object.
var errMalformed = ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The request body is not a form or a JSON object.")

// jsonSubmission is the JSON form of the subscribe and preferences forms.
type jsonSubmission struct {
	Email    string         `json:"email"`
	Topics   *releases.List `json:"topics"`
	Regions  *releases.List `json:"regions"`
	Language *string        `json:"language"`
	Cadence  *string        `json:"cadence"`
	Timezone *string        `json:"timezone"`
	Action   string         `json:"action"`
	Altcha   string         `json:"altcha"`
	Website  string         `json:"website"` // the honeypot
}

// readSubmission parses a form (repeated topics and regions fields; a
// value may also be comma-separated) or a JSON object (lists as arrays or
// comma-separated strings). A form always carries topics and regions (no
// ticked box means all); JSON leaves absent fields as they are.
func readSubmission(w http.ResponseWriter, r *http.Request) (submission, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if ui.WantsJSON(r) {
		var in jsonSubmission
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&in); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return submission{JSON: true}, err
			}
			return submission{JSON: true}, errMalformed
		}
		sub := submission{JSON: true, Email: in.Email, Action: in.Action, Altcha: in.Altcha, Honeypot: in.Website}
		sub.Prefs = subscribers.PrefsInput{Language: in.Language, Cadence: in.Cadence, Timezone: in.Timezone}
		if in.Topics != nil {
			t := []string(*in.Topics)
			sub.Prefs.Topics = &t
		}
		if in.Regions != nil {
			g := []string(*in.Regions)
			sub.Prefs.Regions = &g
		}
		return sub, nil
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return submission{}, err
		}
		return submission{}, errMalformed
	}
	f := r.PostForm
	sub := submission{Email: f.Get("email"), Action: f.Get("action"), Altcha: f.Get("altcha"), Honeypot: f.Get("website")}
	topics, regions := splitValues(f["topics"]), splitValues(f["regions"])
	sub.Prefs.Topics, sub.Prefs.Regions = &topics, &regions
	for name, dst := range map[string]**string{"language": &sub.Prefs.Language, "cadence": &sub.Prefs.Cadence, "timezone": &sub.Prefs.Timezone} {
		if v, ok := f[name]; ok && len(v) > 0 {
			x := v[0]
			*dst = &x
		}
	}
	return sub, nil
}

func splitValues(vs []string) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, releases.SplitList(v)...)
	}
	return out
}

// prefsForm is the data of the preference fields of both forms.
type prefsForm struct {
	Email     string
	Topics    []ui.Option
	Regions   []ui.RegionOption
	Languages []ui.Option
	Cadences  []ui.Option
	Zones     []ui.ZoneGroup
	Errors    map[string]string
	ErrorList []ui.FieldError
	Detect    bool // the script may replace the zone with the browser's
}

// HasError reports whether field has an error (for aria-invalid).
func (f prefsForm) HasError(field string) bool { return f.Errors[field] != "" }

// buildForm lays prefs (as submitted or stored) over the taxonomy.
func buildForm(tax *releases.Taxonomy, lang string, email string, p subscribers.Prefs) prefsForm {
	f := prefsForm{Email: email, Errors: map[string]string{}}
	for _, t := range tax.Topics {
		f.Topics = append(f.Topics, ui.Option{Value: t.Slug, Label: tax.TopicName(t.Slug, lang), Checked: slices.Contains(p.Topics, t.Slug)})
	}
	f.Regions = ui.RegionTree(tax, lang, p.Regions)
	known := false
	for _, l := range ui.PageLanguages {
		f.Languages = append(f.Languages, ui.Option{Value: l.Code, Label: l.Name, Checked: l.Code == p.Language})
		known = known || l.Code == p.Language
	}
	if !known && p.Language != "" {
		f.Languages = append(f.Languages, ui.Option{Value: p.Language, Label: p.Language, Checked: true})
	}
	for _, c := range subscribers.Cadences {
		f.Cadences = append(f.Cadences, ui.Option{Value: c, Label: ui.T(lang, "sub_cadence_"+c), Checked: c == p.Cadence})
	}
	f.Zones = ui.ZoneGroups(subscribers.CommonZones(p.Timezone), p.Timezone)
	return f
}

// setError records err on the form with a message in lang, or reports
// false when err is not a validation error.
func (f *prefsForm) setError(lang string, err error) bool {
	var ve *subscribers.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	field := ve.Field
	key := "sub_err_" + field
	if field == "email" && strings.HasPrefix(ve.Msg, "cannot subscribe here") {
		key = "sub_err_email_domain" // HERALD_SIGNUP_DOMAINS_ALLOW / _BLOCK
	}
	msg := ui.T(lang, key)
	if msg == key {
		msg = ve.Msg
	}
	f.Errors[field] = msg
	f.ErrorList = append(f.ErrorList, ui.FieldError{Field: field, Label: ui.T(lang, "sub_field_"+field), Msg: msg})
	return true
}

// setErrors records every problem of a submission; err, the one that
// stopped it, is shown alone if the list does not have it.
func (f *prefsForm) setErrors(lang string, err error, all []*subscribers.ValidationError) {
	for _, ve := range all {
		f.setError(lang, ve)
	}
	var ve *subscribers.ValidationError
	if errors.As(err, &ve) && f.Errors[ve.Field] == "" {
		f.setError(lang, err)
	}
}

// submittedPrefs is what the user sent, laid over base, for showing a form
// again after an error (unknown values are dropped by buildForm).
func submittedPrefs(base subscribers.Prefs, in subscribers.PrefsInput) subscribers.Prefs {
	if in.Topics != nil {
		base.Topics = *in.Topics
	}
	if in.Regions != nil {
		base.Regions = *in.Regions
	}
	if in.Language != nil {
		base.Language = shown(*in.Language)
	}
	if in.Cadence != nil {
		base.Cadence = shown(*in.Cadence)
	}
	if in.Timezone != nil {
		base.Timezone = shown(*in.Timezone)
	}
	return base
}

// shown makes a submitted value fit to be shown again in a form: one line
// of valid UTF-8, at most 100 characters.
func shown(s string) string { return releases.Clip(s, 100) }

// storedPrefs are a subscriber's preferences for the form.
func storedPrefs(s *store.Subscriber) subscribers.Prefs { return subscribers.PrefsOf(s) }
