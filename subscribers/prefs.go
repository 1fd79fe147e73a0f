package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones are checked against the tz database even where the system has none

	"herald/releases"
	"herald/store"
)

// Cadences (SPEC 2, Subscriber).
const (
	CadenceImmediate = "immediate"
	CadenceDaily     = "daily"
	CadenceWeekly    = "weekly"
)

// Cadences lists the cadences in display order.
var Cadences = []string{CadenceImmediate, CadenceDaily, CadenceWeekly}

// maxTimezone bounds a time zone name (the longest IANA names are ~30).
const maxTimezone = 64

// Prefs are a subscriber's preferences. Empty Topics or Regions mean all.
type Prefs struct {
	Topics   []string `json:"topics"`
	Regions  []string `json:"regions"`
	Language string   `json:"language"`
	Cadence  string   `json:"cadence"`
	Timezone string   `json:"timezone"`
}

// PrefsOf reads a stored subscriber's preferences.
func PrefsOf(s *store.Subscriber) Prefs {
	return Prefs{Topics: s.Topics, Regions: s.Regions, Language: s.Language, Cadence: s.Cadence, Timezone: s.Timezone}
}

func (p Prefs) applyTo(s *store.Subscriber) {
	s.Topics, s.Regions, s.Language, s.Cadence, s.Timezone = p.Topics, p.Regions, p.Language, p.Cadence, p.Timezone
}

func (p Prefs) equal(q Prefs) bool {
	return slices.Equal(p.Topics, q.Topics) && slices.Equal(p.Regions, q.Regions) &&
		p.Language == q.Language && p.Cadence == q.Cadence && p.Timezone == q.Timezone
}

// JSON is the consent record's copy of the preferences.
func (p Prefs) JSON() string {
	b, _ := json.Marshal(Prefs{Topics: nonNil(p.Topics), Regions: nonNil(p.Regions),
		Language: p.Language, Cadence: p.Cadence, Timezone: p.Timezone})
	return string(b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// PrefsInput is submitted preferences: a nil field is left as it is (or
// takes its default for a new subscriber). Empty Topics or Regions mean all.
type PrefsInput struct {
	Topics   *[]string
	Regions  *[]string
	Language *string
	Cadence  *string
	Timezone *string
}

// validator checks preferences against the taxonomy and the tz database.
type validator struct {
	tax       *releases.Taxonomy
	defaultTZ string
	zones     *sync.Map // known zone names, shared by the service
}

// patch validates in, returning the normalized values; nil fields stay nil.
func (v *validator) patch(in PrefsInput) (PrefsInput, error) {
	var out PrefsInput
	if in.Topics != nil {
		t, err := checkTerms("topics", *in.Topics, v.tax.Topic)
		if err != nil {
			return out, err
		}
		out.Topics = &t
	}
	if in.Regions != nil {
		r, err := checkTerms("regions", *in.Regions, v.tax.Region)
		if err != nil {
			return out, err
		}
		out.Regions = &r
	}
	if in.Language != nil {
		l, err := releases.NormalizeLanguage(*in.Language)
		if err != nil {
			return out, invalid("language", "%v", err)
		}
		out.Language = &l
	}
	if in.Cadence != nil {
		c := strings.ToLower(strings.TrimSpace(*in.Cadence))
		if c == "" {
			c = CadenceDaily
		}
		if !slices.Contains(Cadences, c) {
			return out, invalid("cadence", "must be immediate, daily or weekly")
		}
		out.Cadence = &c
	}
	if in.Timezone != nil {
		tz, err := v.timezone(*in.Timezone)
		if err != nil {
			return out, err
		}
		out.Timezone = &tz
	}
	return out, nil
}

// apply lays a validated patch over base.
func (p PrefsInput) apply(base Prefs) Prefs {
	if p.Topics != nil {
		base.Topics = *p.Topics
	}
	if p.Regions != nil {
		base.Regions = *p.Regions
	}
	if p.Language != nil {
		base.Language = *p.Language
	}
	if p.Cadence != nil {
		base.Cadence = *p.Cadence
	}
	if p.Timezone != nil {
		base.Timezone = *p.Timezone
	}
	return base
}

// defaults are the preferences of a new subscriber before their choices.
func (v *validator) defaults() Prefs {
	return Prefs{Topics: []string{}, Regions: []string{}, Language: "en", Cadence: CadenceDaily, Timezone: v.defaultTZ}
}

// timezone checks an IANA name against the tz database ("" is the default).
func (v *validator) timezone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return v.defaultTZ, nil
	}
	if _, ok := v.zones.Load(s); ok {
		return s, nil
	}
	// Only known zones are cached, so hostile input cannot grow the cache.
	if len(s) > maxTimezone || s == "Local" || strings.ContainsAny(s, "\\\x00") || !loadable(s) {
		return "", badZone(s)
	}
	v.zones.Store(s, true)
	return s, nil
}

func loadable(name string) bool {
	_, err := time.LoadLocation(name)
	return err == nil
}

func badZone(s string) error {
	return invalid("timezone", "%q is not a time zone of the IANA database (such as Europe/Paris)", releases.Clip(s, 60))
}

// checkTerms trims, lower-cases, de-duplicates and sorts slugs, refusing
// unknown ones with the field named.
func checkTerms(field string, in []string, known func(string) (store.Term, bool)) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if _, ok := known(s); !ok {
			return nil, invalid(field, "unknown %s %q", strings.TrimSuffix(field, "s"), releases.Clip(s, 60))
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// Problems checks a form submission field by field and returns every
// invalid field, in form order, so that a form can show them all at once
// (Subscribe and UpdatePreferences stop at the first). email is nil when
// the form has none.
func (s *Service) Problems(ctx context.Context, email *string, in PrefsInput) []*ValidationError {
	v, err := s.validator(ctx)
	if err != nil {
		return nil
	}
	var out []*ValidationError
	add := func(err error) {
		var ve *ValidationError
		if errors.As(err, &ve) {
			out = append(out, ve)
		}
	}
	if email != nil {
		_, err := NormalizeAddress(*email)
		add(err)
	}
	for _, p := range []PrefsInput{{Topics: in.Topics}, {Regions: in.Regions}, {Language: in.Language}, {Cadence: in.Cadence}, {Timezone: in.Timezone}} {
		_, err := v.patch(p)
		add(err)
	}
	return out
}
