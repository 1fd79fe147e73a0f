package mailer

import (
	"html/template"
	"sync"
	"time"
)

// Frame is what the base layout (mail/<lang>/layout.html and layout.txt)
// shows around every message. The mailer fills it from the view.
type Frame struct {
	Lang     string // the language of the templates used (after fallback)
	SiteName string // HERALD_SITE_NAME
	BaseURL  string // HERALD_BASE_URL, no trailing slash
	Title    string // the message's heading (often its subject)
	// Preheader is the hidden preview line that mail clients show next to
	// the subject.
	Preheader      string
	PreferencesURL string // shown in the footer when set
	UnsubscribeURL string // shown in the footer when set
}

// ReleaseView is one release as dispatch hands it to the templates. The
// texts come from the stored release: Title is one line, BodyHTML is the
// sanitized HTML (never re-sanitized here), URL is the canonical link.
type ReleaseView struct {
	ID          int64
	Title       string
	Summary     string
	Dateline    string
	PublishedAt time.Time
	Language    string // the release's own language (lang attribute)
	URL         string
	BodyHTML    template.HTML
	Topics      []string // display names, in the recipient's language
	Regions     []string
	Contacts    []ContactView
	// Lead is the release's first image (SPEC 10), or nil; Attachments its
	// PDFs, as links (never attached files).
	Lead        *ImageView
	Attachments []AttachmentView
}

// ImageView is an image in mail: an absolute URL, its text alternative,
// and the width to show it at (at most the mail's 600 px column).
type ImageView struct {
	URL, Alt, Caption, Credit string
	Width                     int
}

// AttachmentView is a PDF linked from mail: absolute URL, name and size.
type AttachmentView struct {
	URL, Name, Size string
}

// ContactView is a press contact of a release.
type ContactView struct {
	Name, Email, Phone string
}

// ReleasePart is a release rendered once for one language, reused for every
// recipient of that language: the full release for alerts
// (Templates.Release) or a digest entry (Templates.DigestItem). It holds no
// personal data.
type ReleasePart struct {
	Lang  string // template language used
	Title string
	URL   string
	HTML  template.HTML
	Text  string // wrapped plain text, links written out

	mu     sync.Mutex
	frames map[frameKey]*alertFrame // whole alerts with stand-in links
}

// frame returns the cached alert frame for key, building it once.
func (p *ReleasePart) frame(key frameKey, build func() (*alertFrame, error)) (*alertFrame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.frames[key]; ok {
		return f, nil
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	if p.frames == nil {
		p.frames = map[frameKey]*alertFrame{}
	}
	p.frames[key] = f
	return f, nil
}

// AlertView is one alert to one recipient: the shared release part plus the
// personal links. Dispatch builds it per recipient; it is cheap.
type AlertView struct {
	Lang           string // recipient's language; falls back to English
	Release        *ReleasePart
	UnsubscribeURL string // required: HTTPS link with a signed token in production
	PreferencesURL string
}

// DigestView is one digest to one recipient: shared entries (newest first)
// plus the personal links.
type DigestView struct {
	Lang           string
	Cadence        string // daily | weekly
	Since          time.Time
	Items          []*ReleasePart
	UnsubscribeURL string
	PreferencesURL string
}

// alertData is what alert.html and alert.txt receive.
type alertData struct {
	Frame
	Release *ReleasePart
}

// digestData is what digest.html and digest.txt receive.
type digestData struct {
	Frame
	Cadence string
	Since   time.Time
	Count   int
	Items   []*ReleasePart
}

// noticeData is what confirm.* and manage.* receive.
type noticeData struct {
	Frame
	Notice NoticeData
}

// releaseData is what release.* and digest_item.* receive.
type releaseData struct {
	Lang     string
	SiteName string
	BaseURL  string
	ReleaseView
	BodyText string // plain text of BodyHTML, for the .txt templates
}
