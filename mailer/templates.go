package mailer

import (
	"bytes"
	"fmt"
	htmltpl "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	texttpl "text/template"
	"time"
)

// Template names under mail/<lang>/, each as .html and .txt. layout wraps
// every message; release and digest_item render the shared parts.
var (
	messageKinds = []string{KindConfirm, KindManage, KindWelcome, KindAlert, KindDigest, KindStaffInvite, KindStaffReset}
	partNames    = []string{"release", "digest_item"}
)

// fallbackLang is the language every template exists in (SPEC 5.5).
const fallbackLang = "en"

// TemplateOptions configures template loading.
type TemplateOptions struct {
	SiteName string
	BaseURL  string
	// OverrideDir is $HERALD_DATA_DIR/templates: only used to name a broken
	// override file by its full path in errors.
	OverrideDir string
}

// Templates are the parsed mail templates of every language. They are safe
// for concurrent use.
type Templates struct {
	opts    TemplateOptions
	langs   map[string]*langSet
	digests digestFrames
}

type langSet struct {
	html  map[string]*htmltpl.Template // kind or part name
	text  map[string]*texttpl.Template
	files map[string]string // file name -> the path it was read from
}

// LoadTemplates parses every mail template of fsys (templates.Overlay(...))
// and renders each once with sample data, so that a broken template, or an
// override that does not parse or names a missing field, stops startup with
// an error naming its file. A language directory may hold only some files:
// the others come from English.
func LoadTemplates(fsys fs.FS, opts TemplateOptions) (*Templates, error) {
	entries, err := fs.ReadDir(fsys, "mail")
	if err != nil {
		return nil, fmt.Errorf("templates: read mail/: %w", err)
	}
	t := &Templates{opts: opts, langs: map[string]*langSet{}}
	langs := []string{fallbackLang}
	for _, e := range entries {
		if e.IsDir() && e.Name() != fallbackLang {
			langs = append(langs, e.Name())
		}
	}
	for _, lang := range langs {
		set, err := t.parseLang(fsys, lang)
		if err != nil {
			return nil, err
		}
		t.langs[lang] = set
	}
	if err := t.selfTest(); err != nil {
		return nil, err
	}
	return t, nil
}

// Languages lists the languages that have templates, English first.
func (t *Templates) Languages() []string {
	out := make([]string, 0, len(t.langs))
	for l := range t.langs {
		if l != fallbackLang {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return append([]string{fallbackLang}, out...)
}

// file returns the path of name in lang, or in English when lang lacks it.
func file(fsys fs.FS, lang, name string) string {
	p := path.Join("mail", lang, name)
	if _, err := fs.Stat(fsys, p); err == nil {
		return p
	}
	return path.Join("mail", fallbackLang, name)
}

// where names a template file for an error: the override's full path when
// there is one.
func (t *Templates) where(p string) string {
	if t.opts.OverrideDir != "" {
		full := filepath.Join(t.opts.OverrideDir, filepath.FromSlash(p))
		if _, err := os.Stat(full); err == nil {
			return full
		}
	}
	return p
}

func (t *Templates) parseLang(fsys fs.FS, lang string) (*langSet, error) {
	set := &langSet{html: map[string]*htmltpl.Template{}, text: map[string]*texttpl.Template{}, files: map[string]string{}}
	read := func(name string) (string, string, error) {
		p := file(fsys, lang, name)
		set.files[name] = p
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return p, "", fmt.Errorf("templates: %s: %w", t.where(p), err)
		}
		return p, string(b), nil
	}
	hfuncs, tfuncs := htmlFuncs(lang), textFuncs(lang)
	lp, layoutHTML, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	baseHTML, err := htmltpl.New("layout").Funcs(hfuncs).Parse(layoutHTML)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", t.where(lp), err)
	}
	tp, layoutText, err := read("layout.txt")
	if err != nil {
		return nil, err
	}
	baseText, err := texttpl.New("layout").Funcs(tfuncs).Parse(layoutText)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", t.where(tp), err)
	}
	for _, kind := range messageKinds {
		p, src, err := read(kind + ".html")
		if err != nil {
			return nil, err
		}
		h, err := htmltpl.Must(baseHTML.Clone()).Parse(src)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", t.where(p), err)
		}
		set.html[kind] = h
		p, src, err = read(kind + ".txt")
		if err != nil {
			return nil, err
		}
		x, err := texttpl.Must(baseText.Clone()).Parse(src)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", t.where(p), err)
		}
		set.text[kind] = x
	}
	for _, name := range partNames {
		p, src, err := read(name + ".html")
		if err != nil {
			return nil, err
		}
		if set.html[name], err = htmltpl.New(name).Funcs(hfuncs).Parse(src); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", t.where(p), err)
		}
		p, src, err = read(name + ".txt")
		if err != nil {
			return nil, err
		}
		if set.text[name], err = texttpl.New(name).Funcs(tfuncs).Parse(src); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", t.where(p), err)
		}
	}
	return set, nil
}

// lang picks the template set of a language tag ("fr", "fr-CA", "FR"),
// falling back to English.
func (t *Templates) lang(tag string) (string, *langSet) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		tag = tag[:i]
	}
	if s, ok := t.langs[tag]; ok {
		return tag, s
	}
	return fallbackLang, t.langs[fallbackLang]
}

func (t *Templates) frame(lang, title string) Frame {
	return Frame{Lang: lang, SiteName: t.opts.SiteName, BaseURL: t.opts.BaseURL, Title: title}
}

// execute renders the html and text templates of name with data.
func (s *langSet) execute(name string, data any, layout bool) (string, string, error) {
	var hb, tb bytes.Buffer
	hname, tname := name, name
	if layout {
		hname, tname = "layout", "layout"
	}
	if err := s.html[name].ExecuteTemplate(&hb, hname, data); err != nil {
		return "", "", fmt.Errorf("mailer: render %s.html: %w", name, err)
	}
	if err := s.text[name].ExecuteTemplate(&tb, tname, data); err != nil {
		return "", "", fmt.Errorf("mailer: render %s.txt: %w", name, err)
	}
	return hb.String(), tb.String(), nil
}

// subject renders the "subject" template of a kind's .txt file, on one line.
func (s *langSet) subject(kind string, data any) (string, error) {
	var b bytes.Buffer
	if s.text[kind].Lookup("subject") == nil {
		return "", fmt.Errorf("mailer: %s.txt defines no \"subject\"", kind)
	}
	if err := s.text[kind].ExecuteTemplate(&b, "subject", data); err != nil {
		return "", fmt.Errorf("mailer: render %s subject: %w", kind, err)
	}
	return oneLine(b.String()), nil
}

// selfTest renders every template of every language with sample data, so
// that an error only execution finds (a missing field) stops startup too.
func (t *Templates) selfTest() error {
	r := ReleaseView{ID: 1, Title: "Sample", Summary: "Summary.", Dateline: "Geneva", PublishedAt: time.Unix(0, 0),
		Language: "en", URL: "https://example.org/r", BodyHTML: "<p>Body <a href=\"https://example.org\">link</a></p>",
		Topics: []string{"Topic"}, Regions: []string{"Region"}, Contacts: []ContactView{{Name: "A", Email: "a@example.org", Phone: "1"}}}
	notice := NoticeData{ConfirmURL: "https://example.org/c", PreferencesURL: "https://example.org/p",
		UnsubscribeURL: "https://example.org/u", Topics: []string{"Topic"}, Regions: []string{"Region"}, Cadence: "daily"}
	for lang := range t.langs {
		rel, err := t.Release(lang, r)
		if err != nil {
			return t.blame(lang, "release", err)
		}
		item, err := t.DigestItem(lang, r)
		if err != nil {
			return t.blame(lang, "digest_item", err)
		}
		if _, err := t.Alert(AlertView{Lang: lang, Release: rel, UnsubscribeURL: "https://example.org/u", PreferencesURL: "https://example.org/p"}); err != nil {
			return t.blame(lang, KindAlert, err)
		}
		if _, err := t.Digest(DigestView{Lang: lang, Cadence: "daily", Items: []*ReleasePart{item}, UnsubscribeURL: "https://example.org/u"}); err != nil {
			return t.blame(lang, KindDigest, err)
		}
		notice.Language = lang
		notice.Releases = []NoticeRelease{{Title: "Sample", URL: "https://example.org/r", Dateline: "Geneva", PublishedAt: time.Unix(0, 0)}}
		for _, k := range []string{KindConfirm, KindManage, KindWelcome} {
			if _, err := t.Notice(k, notice); err != nil {
				return t.blame(lang, k, err)
			}
		}
		for _, k := range []string{KindStaffInvite, KindStaffReset} {
			sd := StaffData{Language: lang, Name: "Ana", Role: "editor", LinkURL: "https://example.org/s", Expires: time.Unix(0, 0)}
			if _, err := t.Staff(k, sd); err != nil {
				return t.blame(lang, k, err)
			}
		}
	}
	return nil
}

// blame names the files behind a template that failed to render: the
// override among them if there is one, since that is what changed.
func (t *Templates) blame(lang, name string, err error) error {
	files := []string{name + ".html", name + ".txt"}
	if name != "release" && name != "digest_item" {
		files = append(files, "layout.html", "layout.txt")
	}
	var used []string
	for _, f := range files {
		p := t.langs[lang].files[f]
		if w := t.where(p); w != p {
			return fmt.Errorf("templates: %s: %w", w, err)
		}
		used = append(used, p)
	}
	return fmt.Errorf("templates: %s: %w", strings.Join(used, " or "), err)
}

// oneLine collapses CR, LF and tabs into spaces and drops other control
// characters: a header value taken from data never spans lines.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// months are month names per language for dates in mail.
var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"ar": {"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
}

// FormatDate writes a date the way lang does ("2 July 2025", "2 juillet
// 2025", "2 de julio de 2025", "2 يوليو 2025"), in UTC.
func FormatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	m, ok := months[lang]
	if !ok {
		m = months[fallbackLang]
	}
	name := m[t.Month()-1]
	if lang == "es" {
		return fmt.Sprintf("%d de %s de %d", t.Day(), name, t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), name, t.Year())
}

func htmlFuncs(lang string) htmltpl.FuncMap {
	return htmltpl.FuncMap{
		"date": func(t time.Time) string { return FormatDate(lang, t) },
		"join": strings.Join,
		"dir":  Dir,
	}
}

// Dir is the dir attribute of text in a language: "rtl" for the languages
// written right to left (Arabic, Hebrew, Persian, Urdu...), else "ltr".
// An Arabic message may carry an English release, and the reverse.
func Dir(lang string) string {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch primary {
	case "ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb":
		return "rtl"
	}
	return "ltr"
}

func textFuncs(lang string) texttpl.FuncMap {
	return texttpl.FuncMap{
		"date": func(t time.Time) string { return FormatDate(lang, t) },
		"join": strings.Join,
		// wrap wraps a paragraph to the text width; links stay whole.
		"wrap": func(s string) string { return Wrap(oneLine(s), textWidth, "", "") },
		// indent wraps a paragraph with a prefix on every line.
		"indent": func(prefix, s string) string { return Wrap(oneLine(s), textWidth, prefix, prefix) },
	}
}
