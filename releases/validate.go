package releases

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"herald/store"
)

// Limits of release fields (SPEC 2, Release).
const (
	MaxTitle    = 300
	MaxSummary  = 1000
	MaxBody     = 1 << 20 // bytes, the API's request cap
	MaxSlug     = 120
	MaxDateline = 120
	MaxURL      = 2048
	MaxKey      = 200
	MaxContacts = 20
)

// Body formats.
const (
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
)

// Statuses.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether s is a well-formed taxonomy or release slug.
func ValidSlug(s string) bool { return len(s) <= MaxSlug && slugRE.MatchString(s) }

// apply validates in and applies it onto r (a new release's defaults, or the
// stored release for a patch). It does not assign a slug or touch the store.
func (s *Service) apply(r *store.Release, in Input, tax *Taxonomy, now time.Time) error {
	create := r.ID == 0
	if in.Title != nil || create {
		title := OneLine(deref(in.Title))
		if title == "" {
			return invalid("title", "is required")
		}
		if n := utf8.RuneCountInString(title); n > MaxTitle {
			return invalid("title", "is %d characters long; at most %d are allowed", n, MaxTitle)
		}
		r.Title = title
	}
	if err := s.applyBody(r, in, create); err != nil {
		return err
	}
	if err := applySummary(r, in); err != nil {
		return err
	}
	if err := applyMeta(r, in); err != nil {
		return err
	}
	if err := applyTerms(r, in, tax, create); err != nil {
		return err
	}
	if err := applyContacts(r, in); err != nil {
		return err
	}
	return applySchedule(r, in, now)
}

func (s *Service) applyBody(r *store.Release, in Input, create bool) error {
	if in.BodyFormat != nil {
		f := strings.ToLower(strings.TrimSpace(*in.BodyFormat))
		if f == "" {
			f = FormatMarkdown
		}
		if f != FormatMarkdown && f != FormatHTML {
			return invalid("body_format", "must be %q or %q", FormatMarkdown, FormatHTML)
		}
		r.BodyFormat = f
	} else if create {
		r.BodyFormat = FormatMarkdown
	}
	if in.Body == nil && !create && in.BodyFormat == nil {
		return nil
	}
	body := r.Body
	if in.Body != nil || create {
		body = PlainText(deref(in.Body))
	}
	if strings.TrimSpace(body) == "" {
		return invalid("body", "is required")
	}
	if len(body) > MaxBody {
		return invalid("body", "is %d bytes long; at most %d are allowed", len(body), MaxBody)
	}
	h, err := s.render.HTML(body, r.BodyFormat)
	if err != nil {
		return invalid("body", "cannot be rendered: %v", err)
	}
	if strings.TrimSpace(FirstParagraph(h)) == "" && !strings.Contains(h, "<img") {
		return invalid("body", "has no text once sanitized")
	}
	if r.BodyFormat == FormatHTML {
		body = h // stored HTML is sanitized (SPEC 2); Markdown stays the author's source
	}
	r.Body, r.BodyHTML = body, h
	return nil
}

func applySummary(r *store.Release, in Input) error {
	if in.Summary != nil {
		sum := OneLine(*in.Summary)
		if n := utf8.RuneCountInString(sum); n > MaxSummary {
			return invalid("summary", "is %d characters long; at most %d are allowed", n, MaxSummary)
		}
		r.Summary, r.SummaryDerived = sum, sum == ""
	}
	if r.Summary == "" || r.SummaryDerived {
		r.Summary, r.SummaryDerived = Truncate(FirstParagraph(r.BodyHTML), MaxSummary), true
	}
	return nil
}

func applyMeta(r *store.Release, in Input) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if u != "" {
			if err := checkURL(u); err != nil {
				return invalid("url", "%v", err)
			}
		}
		r.URL = u
	}
	if in.Slug != nil {
		slug := strings.TrimSpace(*in.Slug)
		if slug != "" && !ValidSlug(slug) {
			return invalid("slug", "must be lower-case letters, digits and single hyphens (at most %d)", MaxSlug)
		}
		r.Slug = slug
	}
	if in.Dateline != nil {
		d := OneLine(*in.Dateline)
		if utf8.RuneCountInString(d) > MaxDateline {
			return invalid("dateline", "is longer than %d characters", MaxDateline)
		}
		r.Dateline = d
	}
	if in.Language != nil || r.Language == "" {
		lang, err := NormalizeLanguage(deref(in.Language))
		if err != nil {
			return invalid("language", "%v", err)
		}
		r.Language = lang
	}
	if in.TranslationKey != nil {
		k := OneLine(*in.TranslationKey)
		if utf8.RuneCountInString(k) > MaxKey {
			return invalid("translation_key", "is longer than %d characters", MaxKey)
		}
		r.TranslationKey = k
	}
	return nil
}

// NormalizeLanguage turns "", "EN", "fr-CA" into a known BCP 47 primary
// language subtag ("en", "en", "fr").
func NormalizeLanguage(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "en", nil
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-")
	if len(primary) < 2 || len(primary) > 3 {
		return "", fmt.Errorf("%q is not a BCP 47 language tag (e.g. en, fr, es)", s)
	}
	base, err := language.ParseBase(primary)
	if err != nil {
		return "", fmt.Errorf("%q is not a known language (e.g. en, fr, es)", s)
	}
	return base.String(), nil
}

func checkURL(raw string) error {
	if len(raw) > MaxURL {
		return fmt.Errorf("is longer than %d characters", MaxURL)
	}
	if strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("must not contain spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL")
	}
	return nil
}

func applyTerms(r *store.Release, in Input, tax *Taxonomy, create bool) error {
	if in.Topics != nil || create {
		topics, err := checkSlugs("topics", deref(in.Topics), tax.Topic)
		if err != nil {
			return err
		}
		if len(topics) == 0 {
			return invalid("topics", "at least one topic is required")
		}
		r.Topics = topics
	}
	if in.Regions != nil || create {
		regions, err := checkSlugs("regions", deref(in.Regions), tax.Region)
		if err != nil {
			return err
		}
		r.Regions = regions
	}
	return nil
}

// checkSlugs trims, de-duplicates and checks slugs against the taxonomy.
func checkSlugs(field string, in []string, known func(string) (store.Term, bool)) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || seen[s] {
			continue
		}
		if _, ok := known(s); !ok {
			return nil, invalid(field, "unknown %s %q", strings.TrimSuffix(field, "s"), Clip(s, 60))
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

// Clip shortens s for an error message and makes it printable.
func Clip(s string, n int) string { return Truncate(OneLine(s), n) }

func applyContacts(r *store.Release, in Input) error {
	if in.Contacts == nil {
		return nil
	}
	cs := *in.Contacts
	if len(cs) > MaxContacts {
		return invalid("contacts", "at most %d contacts are allowed", MaxContacts)
	}
	out := make([]store.Contact, 0, len(cs))
	for i, c := range cs {
		c = store.Contact{Name: OneLine(c.Name), Email: OneLine(c.Email), Phone: OneLine(c.Phone)}
		field := fmt.Sprintf("contacts[%d]", i)
		if c.Name == "" && c.Email == "" && c.Phone == "" {
			continue
		}
		if utf8.RuneCountInString(c.Name) > 200 || utf8.RuneCountInString(c.Phone) > 60 {
			return invalid(field, "name or phone is too long")
		}
		if c.Email != "" {
			a, err := mail.ParseAddress(c.Email)
			if err != nil || a.Name != "" || len(c.Email) > 254 {
				return invalid(field+".email", "%q is not an email address", Clip(c.Email, 60))
			}
		}
		out = append(out, c)
	}
	r.Contacts = out
	return nil
}

func applySchedule(r *store.Release, in Input, now time.Time) error {
	if in.Status != nil || r.Status == "" {
		st := strings.ToLower(strings.TrimSpace(deref(in.Status)))
		if st == "" {
			st = StatusPublished
		}
		if st != StatusDraft && st != StatusPublished {
			return invalid("status", "must be %q or %q", StatusDraft, StatusPublished)
		}
		r.Status = st
	}
	if in.PublishedAt != nil && strings.TrimSpace(*in.PublishedAt) != "" {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*in.PublishedAt))
		if err != nil {
			return invalid("published_at", "must be an RFC 3339 time such as 2026-07-05T09:00:00Z")
		}
		if t.Year() < 1900 || t.Year() > 9999 {
			return invalid("published_at", "is out of range")
		}
		r.PublishedAt = t.UTC().Truncate(time.Millisecond)
	} else if r.PublishedAt.IsZero() {
		r.PublishedAt = now.UTC().Truncate(time.Millisecond)
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
