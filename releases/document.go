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
	Media          []MediaDocument `json:"media"`
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
	d.Media = make([]MediaDocument, 0, len(r.Media))
	for _, m := range r.Media {
		d.Media = append(d.Media, NewMediaDocument(m, baseURL))
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

// MediaDocument is a medium of a release as the API shows it (SPEC 10).
// url, type, bytes, width and height describe the file as uploaded; the
// display_* fields the copy that pages, feeds and mail show (an image at
// most 1200 px wide; the same file when no smaller copy was needed, and
// always for a PDF). URLs are absolute.
type MediaDocument struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"` // image | pdf
	URL           string `json:"url"`
	Type          string `json:"type"`
	Bytes         int64  `json:"bytes"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	Alt           string `json:"alt"`
	Caption       string `json:"caption"`
	Credit        string `json:"credit"`
	Name          string `json:"name"`
	Position      int64  `json:"position"`
	DisplayURL    string `json:"display_url"`
	DisplayType   string `json:"display_type"`
	DisplayBytes  int64  `json:"display_bytes"`
	DisplayWidth  int    `json:"display_width"`
	DisplayHeight int    `json:"display_height"`
}

// MediaPath is where a media file is served, relative to the site.
func MediaPath(key string) string { return "/media/" + key }

// NewMediaDocument builds the JSON view of m.
func NewMediaDocument(m store.Media, baseURL string) MediaDocument {
	return MediaDocument{
		ID: strconv.FormatInt(m.ID, 10), Kind: m.Kind, URL: baseURL + MediaPath(m.Key), Type: m.Type, Bytes: m.Bytes,
		Width: m.Width, Height: m.Height, Alt: m.Alt, Caption: m.Caption, Credit: m.Credit, Name: m.Name, Position: m.Position,
		DisplayURL: baseURL + MediaPath(m.DisplayKey), DisplayType: m.DisplayType, DisplayBytes: m.DisplayBytes,
		DisplayWidth: m.DisplayWidth, DisplayHeight: m.DisplayHeight,
	}
}

// LeadImage is the release's first image, or nil (SPEC 10: the lead image
// shown on its page, in Open Graph, in feeds and in alert mail).
func LeadImage(r *store.Release) *store.Media {
	for i := range r.Media {
		if r.Media[i].Kind == MediaImage {
			return &r.Media[i]
		}
	}
	return nil
}

// Attachments are the release's PDFs, in order.
func Attachments(r *store.Release) []store.Media {
	var out []store.Media
	for _, m := range r.Media {
		if m.Kind == MediaPDF {
			out = append(out, m)
		}
	}
	return out
}

// Kinds of media.
const (
	MediaImage = "image"
	MediaPDF   = "pdf"
)
