// Package ui holds what herald's public site (web/public) and staff
// console (web/admin) share: page rendering and static files, middleware,
// the words of the pages, form widgets, the client IP and its rate
// limiter, JSON answers, and the one error adapter of web (errors.go). It
// imports no other web package.
package ui

import (
	"bytes"
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
	Langs      []LangLink // the language switcher; nil leaves it out
}

// Alternate is a feed autodiscovery link (<link rel="alternate">).
type Alternate struct {
	Type, Title, Href string
}

// Pages holds every page template of one directory, parsed at startup,
// each page cloned from the layout so that pages can define their own
// "content" block.
type Pages struct {
	byName map[string]*template.Template
}

// ParsePages parses dir/layout.html and the partials dir/partial_*.html
// (shared blocks; go:embed leaves out names starting with "_"), then each
// other dir/*.html page on a clone of them, so that each page defines its
// own "content" block. It fails fast, naming the file, so that a broken
// override stops startup.
func ParsePages(fsys fs.FS, dir string, funcs template.FuncMap) (*Pages, error) {
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
	return &Pages{byName: out}, nil
}

// Render executes a page into a buffer first, so that a template error
// becomes a clean 500 rather than half a page: nothing is written then.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, view any) error {
	b, err := p.Bytes(name, view)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// Bytes renders a page into memory, for pages that are cached or framed.
func (p *Pages) Bytes(name string, view any) ([]byte, error) {
	t, ok := p.byName[name]
	if !ok {
		return nil, fmt.Errorf("web: no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
