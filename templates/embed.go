// Package templates holds herald's template files and static assets,
// embedded in the binary: mail/ (html/template and text/template files per
// language, SPEC 5.5), web/ (public and admin pages) and static/ (CSS, a
// little JavaScript). Files in $HERALD_DATA_DIR/templates/ with the same
// relative path override the embedded ones. It imports only the standard
// library; parsing is done by the packages that render.
package templates

import (
	"embed"
	"errors"
	"io/fs"
	"os"
	"path"
)

//go:embed mail web static
var embedded embed.FS

// Embedded is the template tree built into the binary.
func Embedded() fs.FS { return embedded }

// Overlay returns the embedded tree with the files of dir laid over it:
// dir/mail/en/alert.html replaces mail/en/alert.html. A missing dir gives
// the embedded tree alone.
func Overlay(dir string) fs.FS {
	if dir == "" {
		return embedded
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return embedded
	}
	return overlay{top: os.DirFS(dir), base: embedded}
}

type overlay struct {
	top, base fs.FS
}

// Open prefers the override file; directories come from the embedded tree
// so that ReadDir and Glob list what the binary knows.
func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(name); err == nil {
		if st, err := f.Stat(); err == nil && !st.IsDir() {
			return f, nil
		}
		f.Close()
	}
	return o.base.Open(name)
}

// ReadDir lists the embedded entries plus override files that add new names.
func (o overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	base, err := fs.ReadDir(o.base, name)
	top, terr := fs.ReadDir(o.top, name)
	if err != nil && terr != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]fs.DirEntry, 0, len(base)+len(top))
	for _, e := range base {
		seen[e.Name()] = true
		out = append(out, e)
	}
	for _, e := range top {
		if !seen[e.Name()] && !e.IsDir() {
			out = append(out, e)
		}
	}
	return out, nil
}

// Overridden lists the override files present in dir (relative paths), so
// that startup can name a broken one.
func Overridden(dir string) ([]string, error) {
	var out []string
	root := os.DirFS(dir)
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == "." {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() && path.Base(p)[0] != '.' {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
