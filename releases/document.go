package releases

import (
	"net/url"
	"strconv"
	"time"

	"herald/store"
)

// Document is a release as the API and `herald releases list --json` show
// it (SPEC 2, Release): the input fields plus id, created_at, updated_at.
type Document struct {
	ID             string          `json:"id"`
	Title          string          `json:"title"`
	Summary        string          `json:"summary"`
	Body           string          `json:"body"`
	BodyFormat     string          `json:"body_format"`
	BodyHTML       string          `json:"body_html"`
	URL            string          `json:"url"`
	Slug           string          `json:"slug"`
	Dateline       string          `json:"dateline"`
	Language       string          `json:"language"`
	TranslationKey string          `json:"translation_key"`
	Topics         []string        `json:"topics"`
	Regions        []string        `json:"regions"`
	Contacts       []store.Contact `json:"contacts"`
	PublishedAt    string          `json:"published_at"`
	Status         string          `json:"status"`
	Live           bool            `json:"live"`
	LiveAt         *string         `json:"live_at"`
	CreatedAt      string          `json:"created_at"`
	UpdatedAt      string          `json:"updated_at"`
}

// NewDocument builds the JSON view of r; baseURL completes the default url
// (herald's own page), now decides "live".
func NewDocument(r store.Release, baseURL string, now time.Time) Document {
	d := Document{
		ID: strconv.FormatInt(r.ID, 10), Title: r.Title, Summary: r.Summary, Body: r.Body,
		BodyFormat: r.BodyFormat, BodyHTML: r.BodyHTML, URL: CanonicalURL(r, baseURL), Slug: r.Slug,
		Dateline: r.Dateline, Language: r.Language, TranslationKey: r.TranslationKey,
		Topics: nonNilStrings(r.Topics), Regions: nonNilStrings(r.Regions), Contacts: r.Contacts,
		PublishedAt: FormatTime(r.PublishedAt), Status: r.Status, Live: IsLive(&r, now),
		CreatedAt: FormatTime(r.CreatedAt), UpdatedAt: FormatTime(r.UpdatedAt),
	}
	if d.Contacts == nil {
		d.Contacts = []store.Contact{}
	}
	if !r.LiveAt.IsZero() {
		s := FormatTime(r.LiveAt)
		d.LiveAt = &s
	}
	return d
}

// CanonicalURL is the release's url, or herald's own page for it.
func CanonicalURL(r store.Release, baseURL string) string {
	if r.URL != "" {
		return r.URL
	}
	return baseURL + "/releases/" + url.PathEscape(r.Slug)
}

// FormatTime writes a time as RFC 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
