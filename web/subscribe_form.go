package web

import (
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"herald/releases"
	"herald/store"
	"herald/subscribers"
)

// maxFormBody caps the body of the public subscription forms.
const maxFormBody = 64 << 10

// pageLangs are the languages the public pages are written in.
var pageLangs = []string{"en", "fr", "es"}

// languageNames are the languages offered in the forms, in their own words.
var languageNames = []struct{ code, name string }{{"en", "English"}, {"fr", "Français"}, {"es", "Español"}}

// pageLang picks the language of a page (SPEC: the subscriber's language
// when known, else Accept-Language among en, fr and es, else English). A
// ?lang= parameter (the language links of the form) wins over both.
func pageLang(r *http.Request, known string) string {
	if l := r.URL.Query().Get("lang"); isPageLang(l) {
		return l
	}
	if isPageLang(known) {
		return known
	}
	return acceptLang(r.Header.Get("Accept-Language"))
}

func isPageLang(l string) bool {
	for _, x := range pageLangs {
		if l == x {
			return true
		}
	}
	return false
}

// acceptLang reads an Accept-Language header: the supported language with
// the highest q (the first of equals), or English.
func acceptLang(h string) string {
	best, bestQ := "en", 0.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if isPageLang(primary) && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// clientIP is the client's address (r.RemoteAddr; herald trusts no
// forwarding header).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipLimiter is the per-client rate limit of POST /subscribe (SPEC 3). It
// keeps at most maxEntries clients, forgetting idle ones first.
type ipLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	clients map[string]*ipClient
}

type ipClient struct {
	lim  *rate.Limiter
	seen time.Time
}

const maxLimiterEntries = 10000

// Defaults of the subscribe rate limit per client IP: a burst of 20 (a
// newsroom behind one address, a scripted test), then one every 2 s. The
// 10-minute limit per address is what protects inboxes.
const (
	DefaultSubscribeLimit = rate.Limit(1.0 / 2)
	DefaultSubscribeBurst = 20
)

func newIPLimiter(limit rate.Limit, burst int) *ipLimiter {
	if limit <= 0 {
		limit = DefaultSubscribeLimit
	}
	if burst <= 0 {
		burst = DefaultSubscribeBurst
	}
	return &ipLimiter{limit: limit, burst: burst, clients: map[string]*ipClient{}}
}

// allow reports whether ip may post now, and if not, how long to wait.
func (l *ipLimiter) allow(ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= maxLimiterEntries {
			l.sweep(now)
		}
		c = &ipClient{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets clients idle long enough for their bucket to be full again,
// or everyone if that frees nothing.
func (l *ipLimiter) sweep(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.limit) * float64(time.Second))
	for ip, c := range l.clients {
		if now.Sub(c.seen) > refill {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) >= maxLimiterEntries {
		clear(l.clients)
	}
}

// submission is a posted subscribe or preferences form, or its JSON.
type submission struct {
	JSON   bool
	Email  string
	Action string // preferences: save | unsubscribe | resubscribe
	Prefs  subscribers.PrefsInput
}

// errMalformed is a body that is neither a form nor a JSON object.
var errMalformed = errors.New("web: malformed request body")

// jsonSubmission is the JSON form of the subscribe and preferences forms.
type jsonSubmission struct {
	Email    string         `json:"email"`
	Topics   *releases.List `json:"topics"`
	Regions  *releases.List `json:"regions"`
	Language *string        `json:"language"`
	Cadence  *string        `json:"cadence"`
	Timezone *string        `json:"timezone"`
	Action   string         `json:"action"`
}

// wantsJSON reports a JSON request body.
func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// readSubmission parses a form (repeated topics and regions fields; a
// value may also be comma-separated) or a JSON object (lists as arrays or
// comma-separated strings). A form always carries topics and regions (no
// ticked box means all); JSON leaves absent fields as they are.
func readSubmission(w http.ResponseWriter, r *http.Request) (submission, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if wantsJSON(r) {
		var in jsonSubmission
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&in); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return submission{JSON: true}, err
			}
			return submission{JSON: true}, errMalformed
		}
		sub := submission{JSON: true, Email: in.Email, Action: in.Action}
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
	sub := submission{Email: f.Get("email"), Action: f.Get("action")}
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

// option is a checkbox, radio button or select option.
type option struct {
	Value, Label string
	Checked      bool
}

// regionOption is a region with its countries (SPEC 2: country -> region).
type regionOption struct {
	option
	Children []option
}

// zoneGroup is an <optgroup> of time zones.
type zoneGroup struct {
	Area    string
	Options []option
}

// fieldError is a form error, shown in the summary and next to its field.
type fieldError struct {
	Field, Label, Msg string
}

// prefsForm is the data of the preference fields of both forms.
type prefsForm struct {
	Email     string
	Topics    []option
	Regions   []regionOption
	Languages []option
	Cadences  []option
	Zones     []zoneGroup
	Errors    map[string]string
	ErrorList []fieldError
	Detect    bool // the script may replace the zone with the browser's
}

// HasError reports whether field has an error (for aria-invalid).
func (f prefsForm) HasError(field string) bool { return f.Errors[field] != "" }

// buildForm lays prefs (as submitted or stored) over the taxonomy.
func buildForm(tax *releases.Taxonomy, lang string, email string, p subscribers.Prefs) prefsForm {
	f := prefsForm{Email: email, Errors: map[string]string{}}
	has := func(list []string, x string) bool {
		for _, y := range list {
			if x == y {
				return true
			}
		}
		return false
	}
	for _, t := range tax.Topics {
		f.Topics = append(f.Topics, option{Value: t.Slug, Label: tax.TopicName(t.Slug, lang), Checked: has(p.Topics, t.Slug)})
	}
	f.Regions = regionTree(tax, lang, p.Regions, has)
	known := false
	for _, l := range languageNames {
		f.Languages = append(f.Languages, option{Value: l.code, Label: l.name, Checked: l.code == p.Language})
		known = known || l.code == p.Language
	}
	if !known && p.Language != "" {
		f.Languages = append(f.Languages, option{Value: p.Language, Label: p.Language, Checked: true})
	}
	for _, c := range subscribers.Cadences {
		f.Cadences = append(f.Cadences, option{Value: c, Label: T(lang, "sub_cadence_"+c), Checked: c == p.Cadence})
	}
	for _, g := range subscribers.CommonZones(p.Timezone) {
		zg := zoneGroup{Area: g.Area}
		for _, z := range g.Zones {
			zg.Options = append(zg.Options, option{Value: z, Label: strings.ReplaceAll(z, "_", " "), Checked: z == p.Timezone})
		}
		f.Zones = append(f.Zones, zg)
	}
	return f
}

// regionTree nests countries under their region; terms whose parent is
// unknown are shown at the top level.
func regionTree(tax *releases.Taxonomy, lang string, chosen []string, has func([]string, string) bool) []regionOption {
	var out []regionOption
	index := map[string]int{}
	for _, t := range tax.Regions {
		if _, ok := tax.Region(t.Parent); t.Parent == "" || !ok {
			index[t.Slug] = len(out)
			out = append(out, regionOption{option: option{Value: t.Slug, Label: tax.RegionName(t.Slug, lang), Checked: has(chosen, t.Slug)}})
		}
	}
	for _, t := range tax.Regions {
		top := t.Parent
		for seen := 0; top != "" && seen < len(tax.Regions); seen++ {
			if _, ok := index[top]; ok {
				break
			}
			p, _ := tax.Region(top)
			top = p.Parent
		}
		if i, ok := index[top]; ok && t.Parent != "" {
			out[i].Children = append(out[i].Children, option{Value: t.Slug, Label: tax.RegionName(t.Slug, lang), Checked: has(chosen, t.Slug)})
		}
	}
	for i := range out {
		sort.SliceStable(out[i].Children, func(a, b int) bool { return out[i].Children[a].Label < out[i].Children[b].Label })
	}
	return out
}

// setError records err on the form with a message in lang, or reports
// false when err is not a validation error.
func (f *prefsForm) setError(lang string, err error) bool {
	var ve *subscribers.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	field := ve.Field
	msg := T(lang, "sub_err_"+field)
	if msg == "sub_err_"+field {
		msg = ve.Msg
	}
	f.Errors[field] = msg
	f.ErrorList = append(f.ErrorList, fieldError{Field: field, Label: T(lang, "sub_field_"+field), Msg: msg})
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

// writeJSONBody answers v as JSON.
func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeJSONError answers {"error","field"} like the admin API.
func writeJSONError(w http.ResponseWriter, status int, msg, field string) {
	writeJSONBody(w, status, map[string]string{"error": msg, "field": field})
}

// AnyChildChecked reports whether a country of the region is chosen (its
// list is then shown open).
func (o regionOption) AnyChildChecked() bool {
	for _, c := range o.Children {
		if c.Checked {
			return true
		}
	}
	return false
}
