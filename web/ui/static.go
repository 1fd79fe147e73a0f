package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Static holds the files of static/ (stylesheets, scripts), each served
// under a content-hashed name, so that it can be cached for a year and
// still change with a new binary. The public site and the console share
// one Static.
type Static struct {
	byURL map[string]staticFile
	urls  map[string]string // plain name -> hashed URL
}

// staticFile is one asset as served.
type staticFile struct {
	contentType string
	body        []byte
}

// LoadStatic reads static/* of fsys and names each file name.<hash>.ext.
func LoadStatic(fsys fs.FS) (*Static, error) {
	files, err := fs.Glob(fsys, "static/*")
	if err != nil {
		return nil, err
	}
	s := &Static{byURL: map[string]staticFile{}, urls: map[string]string{}}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f, err)
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
		s.byURL["/static/"+hashed] = staticFile{contentType: ct, body: b}
		s.urls[base] = "/static/" + hashed
	}
	return s, nil
}

// URL is the hashed URL of the static file name ("herald.css"), or "".
func (s *Static) URL(name string) string { return s.urls[name] }

// ServeHTTP serves GET /static/{hashed name}.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := s.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(f.body)
}
