package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// PageMeta is what the layout needs on every page.
type PageMeta struct {
	Lang       string
	Dir        string // "rtl" for right-to-left languages, else ""
	SiteName   string
	Title      string
	CSS        string // hashed URL of the stylesheet
	Alternates []Alternate
}

// Alternate is a feed autodiscovery link (<link rel="alternate">).
type Alternate struct {
	Type, Title, Href string
}

// pages holds every page template parsed at startup, each page cloned from
// the layout so that pages can define their own "content" block.
type pages struct {
	byName map[string]*template.Template
}

// parsePages parses the public pages of web/ (see parseDir).
func parsePages(fsys fs.FS, funcs template.FuncMap) (*pages, error) {
	byName, err := parseDir(fsys, "web", funcs)
	if err != nil {
		return nil, err
	}
	return &pages{byName: byName}, nil
}

// parseDir parses dir/layout.html and the partials dir/partial_*.html
// (shared blocks; go:embed leaves out names starting with "_"), then each
// other dir/*.html page on a clone of them, so that each page defines its
// own "content" block. It fails fast, naming the file, so that a broken
// override stops startup.
func parseDir(fsys fs.FS, dir string, funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, dir+"/layout.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %s/layout.html: %w", dir, err)
	}
	files, err := fs.Glob(fsys, dir+"/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: list %s pages: %w", dir, err)
	}
	var pages []string
	for _, f := range files {
		switch name := path.Base(f); {
		case name == "layout.html":
		case strings.HasPrefix(name, "partial_"):
			if _, err := base.ParseFS(fsys, f); err != nil {
				return nil, fmt.Errorf("templates: %s: %w", f, err)
			}
		default:
			pages = append(pages, f)
		}
	}
	out := map[string]*template.Template{}
	for _, f := range pages {
		t, err := template.Must(base.Clone()).ParseFS(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f, err)
		}
		out[path.Base(f)] = t
	}
	return out, nil
}

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, view any) error {
	t, ok := p.byName[name]
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// staticFile is an embedded asset served under a content-hashed name, so it
// can be cached for a year and still change with a new binary.
type staticFile struct {
	name, contentType string
	body              []byte
}

// loadStatic reads static/* and names each file name.<hash>.ext.
func loadStatic(fsys fs.FS) (map[string]staticFile, map[string]string, error) {
	files, err := fs.Glob(fsys, "static/*")
	if err != nil {
		return nil, nil, err
	}
	byURL := map[string]staticFile{}
	urls := map[string]string{} // plain name -> hashed URL
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, nil, fmt.Errorf("templates: %s: %w", f, err)
		}
		sum := sha256.Sum256(b)
		base := path.Base(f)
		ext := path.Ext(base)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ct := "application/octet-stream"
		switch ext {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		case ".png":
			ct = "image/png"
		}
		byURL["/static/"+hashed] = staticFile{name: hashed, contentType: ct, body: b}
		urls[base] = "/static/" + hashed
	}
	return byURL, urls, nil
}

func (s *Web) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(f.body)
}
