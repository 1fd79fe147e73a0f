package mailer

import (
	"errors"
	"fmt"
	htmltpl "html/template"
	"strings"
	"sync"
)

// Release renders a release in full for alerts, once per language; every
// recipient's alert then reuses the part.
func (t *Templates) Release(lang string, r ReleaseView) (*ReleasePart, error) {
	return t.part("release", lang, r)
}

// DigestItem renders a release as a digest entry (title, dateline, date,
// summary, link), once per language.
func (t *Templates) DigestItem(lang string, r ReleaseView) (*ReleasePart, error) {
	return t.part("digest_item", lang, r)
}

func (t *Templates) part(name, lang string, r ReleaseView) (*ReleasePart, error) {
	lang, set := t.lang(lang)
	r.Title = oneLine(r.Title)
	d := releaseData{Lang: lang, SiteName: t.opts.SiteName, BaseURL: t.opts.BaseURL, ReleaseView: r}
	if name == "release" {
		d.BodyText = strings.TrimRight(HTMLToText(string(r.BodyHTML)), "\n")
	}
	h, x, err := set.execute(name, d, false)
	if err != nil {
		return nil, err
	}
	return &ReleasePart{Lang: lang, Title: r.Title, URL: r.URL, HTML: htmltpl.HTML(strings.TrimSpace(h)),
		Text: strings.TrimRight(x, " \n")}, nil
}

// Alert renders one recipient's alert around a shared release part. The
// subject is the release's title exactly (SPEC 5.2).
func (t *Templates) Alert(v AlertView) (Content, error) {
	if v.Release == nil {
		return Content{}, errors.New("mailer: alert without a release")
	}
	lang, set := t.lang(v.Lang)
	subject := oneLine(v.Release.Title)
	if !plainURL(v.UnsubscribeURL) || !plainURL(v.PreferencesURL) {
		h, x, err := t.renderAlert(lang, set, v.Release, v.UnsubscribeURL, v.PreferencesURL)
		if err != nil {
			return Content{}, err
		}
		return Content{Subject: subject, HTML: h, Text: x, UnsubscribeURL: v.UnsubscribeURL}, nil
	}
	// The whole message is rendered once per release part, language and
	// set of links, with stand-ins for the links; each recipient then
	// costs two string replacements instead of a template execution.
	key := frameKey{lang: lang, unsub: v.UnsubscribeURL != "", prefs: v.PreferencesURL != ""}
	f, err := v.Release.frame(key, func() (*alertFrame, error) {
		h, x, err := t.renderAlert(lang, set, v.Release, stand(key.unsub, standUnsub), stand(key.prefs, standPrefs))
		if err != nil {
			return nil, err
		}
		return &alertFrame{html: h, text: x}, nil
	})
	if err != nil {
		return Content{}, err
	}
	// The links are plain ASCII without quotes or angle brackets, so the
	// only HTML escaping they need is & (html/template writes it &amp;).
	return Content{Subject: subject, UnsubscribeURL: v.UnsubscribeURL,
		HTML: substitute(f.html, htmlAmp(v.UnsubscribeURL), htmlAmp(v.PreferencesURL)),
		Text: substitute(f.text, v.UnsubscribeURL, v.PreferencesURL)}, nil
}

func (t *Templates) renderAlert(lang string, set *langSet, part *ReleasePart, unsub, prefs string) (string, string, error) {
	d := alertData{Frame: t.frame(lang, part.Title), Release: part}
	d.PreferencesURL, d.UnsubscribeURL = prefs, unsub
	return set.execute(KindAlert, d, true)
}

// Stand-ins for the personal links in a cached alert frame. They are valid
// URLs that html/template leaves as they are and no release contains.
const (
	standUnsub = "https://herald.invalid/unsubscribe-5f1c9a0e7b"
	standPrefs = "https://herald.invalid/preferences-5f1c9a0e7b"
)

func stand(set bool, s string) string {
	if set {
		return s
	}
	return ""
}

// plainURL reports whether a link can be put into a cached frame as it is:
// printable ASCII, no quotes, angle brackets, spaces or backslashes (the
// signed links herald makes always are).
func plainURL(u string) bool {
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' || c == '`' {
			return false
		}
	}
	return !strings.Contains(u, "herald.invalid")
}

func htmlAmp(u string) string { return strings.ReplaceAll(u, "&", "&amp;") }

// standPrefix starts both stand-ins.
const standPrefix = "https://herald.invalid/"

// substitute puts the links in place of the stand-ins in one pass.
func substitute(s, unsub, prefs string) string {
	var b strings.Builder
	b.Grow(len(s) + 4*(len(unsub)+len(prefs)))
	for {
		i := strings.Index(s, standPrefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, standUnsub):
			b.WriteString(unsub)
			s = s[len(standUnsub):]
		case strings.HasPrefix(s, standPrefs):
			b.WriteString(prefs)
			s = s[len(standPrefs):]
		default:
			b.WriteString(standPrefix)
			s = s[len(standPrefix):]
		}
	}
}

// frameKey names one cached alert frame of a release part.
type frameKey struct {
	lang         string
	unsub, prefs bool
}

type alertFrame struct{ html, text string }

// Digest renders one recipient's digest around shared entries; the subject
// (from digest.txt) names the site and the count (SPEC 5.3). Subscribers
// with the same preferences get the same entries, so the whole digest is
// rendered once per language, cadence, window start and list of entries,
// with stand-ins for the links, and each recipient costs two replacements.
func (t *Templates) Digest(v DigestView) (Content, error) {
	if len(v.Items) == 0 {
		return Content{}, ErrSkip
	}
	lang, set := t.lang(v.Lang)
	if !plainURL(v.UnsubscribeURL) || !plainURL(v.PreferencesURL) {
		return t.renderDigest(lang, set, v)
	}
	key := digestKey(lang, v)
	f, err := t.digests.get(key, func() (*digestFrame, error) {
		sv := v
		sv.UnsubscribeURL, sv.PreferencesURL = stand(v.UnsubscribeURL != "", standUnsub), stand(v.PreferencesURL != "", standPrefs)
		c, err := t.renderDigest(lang, set, sv)
		return &digestFrame{subject: c.Subject, html: c.HTML, text: c.Text}, err
	})
	if err != nil {
		return Content{}, err
	}
	return Content{Subject: f.subject, UnsubscribeURL: v.UnsubscribeURL,
		HTML: substitute(f.html, htmlAmp(v.UnsubscribeURL), htmlAmp(v.PreferencesURL)),
		Text: substitute(f.text, v.UnsubscribeURL, v.PreferencesURL)}, nil
}

func (t *Templates) renderDigest(lang string, set *langSet, v DigestView) (Content, error) {
	d := digestData{Frame: t.frame(lang, ""), Cadence: v.Cadence, Since: v.Since, Count: len(v.Items), Items: v.Items}
	d.PreferencesURL, d.UnsubscribeURL = v.PreferencesURL, v.UnsubscribeURL
	subj, err := set.subject(KindDigest, d)
	if err != nil {
		return Content{}, err
	}
	d.Title = subj
	h, x, err := set.execute(KindDigest, d, true)
	if err != nil {
		return Content{}, err
	}
	return Content{Subject: subj, HTML: h, Text: x, UnsubscribeURL: v.UnsubscribeURL}, nil
}

// digestKey names a cached digest frame. Entries are named by identity: a
// part is rebuilt (a new pointer) when its release changes.
func digestKey(lang string, v DigestView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%d|%t|%t", lang, v.Cadence, v.Since.UnixMilli(), v.UnsubscribeURL != "", v.PreferencesURL != "")
	for _, p := range v.Items {
		fmt.Fprintf(&b, "|%p", p)
	}
	return b.String()
}

// maxDigestFrames bounds the digest frame cache; it is emptied when full
// (a run has as many distinct digests as distinct preference sets).
const maxDigestFrames = 2048

type digestFrame struct{ subject, html, text string }

// digestFrames caches whole digests with stand-in links.
type digestFrames struct {
	mu sync.Mutex
	m  map[string]*digestFrame
}

func (c *digestFrames) get(key string, build func() (*digestFrame, error)) (*digestFrame, error) {
	c.mu.Lock()
	f, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxDigestFrames {
		c.m = map[string]*digestFrame{}
	}
	c.m[key] = f
	c.mu.Unlock()
	return f, nil
}

// Notice renders a confirm, manage or welcome message.
func (t *Templates) Notice(kind string, d NoticeData) (Content, error) {
	if !isNotice(kind) {
		return Content{}, fmt.Errorf("mailer: %q is not a notice kind", kind)
	}
	lang, set := t.lang(d.Language)
	nd := noticeData{Frame: t.frame(lang, ""), Notice: d}
	nd.PreferencesURL, nd.UnsubscribeURL = d.PreferencesURL, d.UnsubscribeURL
	subj, err := set.subject(kind, nd)
	if err != nil {
		return Content{}, err
	}
	nd.Title = subj
	h, x, err := set.execute(kind, nd, true)
	if err != nil {
		return Content{}, err
	}
	return Content{Subject: subj, HTML: h, Text: x}, nil
}
