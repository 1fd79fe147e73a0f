package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/audit"
	"herald/media"
	"herald/releases"
	"herald/store"
	"herald/store/storetest"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 120, A: 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, testImage(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const pdfDoc = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// upload posts one file (and fields) as multipart/form-data.
func upload(t testing.TB, base, token, releaseID, name string, data []byte, fields map[string]string) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if data != nil {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/releases/"+releaseID+"/media", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type mediaSite struct {
	srv *httptest.Server
	db  *store.DB
	rel *releases.Service
}

func newMediaSite(t *testing.T) *mediaSite {
	t.Helper()
	db := storetest.New(t)
	rec := audit.New(db, nil)
	rel := releases.New(db, releases.Options{Audit: rec})
	if _, err := rel.EnsureDefaultTaxonomy(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := New(Options{AdminToken: testToken, BaseURL: "https://press.example.org"}, Deps{Releases: rel, Audit: db,
		Media: media.New(db, rel, media.Options{Audit: rec})})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &mediaSite{srv: srv, db: db, rel: rel}
}

func (s *mediaSite) release(t *testing.T, status string) string {
	t.Helper()
	r, err := s.rel.Create(context.Background(), releases.Input{Title: ptr("With media"), Body: ptr("b"),
		Topics: &releases.List{"migration"}, Status: ptr(status)})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(r.ID)
}

func ptr[T any](v T) *T { return &v }

// stored counts media rows, blobs in the database and files on disk.
func (s *mediaSite) stored(t *testing.T) string {
	t.Helper()
	rows, blobs, err := s.db.CountMedia(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	if dir := s.db.MediaDir(); dir != "" {
		entries, _ := os.ReadDir(dir)
		files = len(entries)
	}
	return fmt.Sprintf("rows=%d blobs=%d files=%d", rows, blobs, files)
}

func TestMedia_EachTypeAccepted(t *testing.T) {
	s := newMediaSite(t)
	id := s.release(t, "draft")
	webp, err := os.ReadFile(filepath.Join("..", "media", "testdata", "uniform-2400x1600.webp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name               string
		data               []byte
		typ                string
		w, h               int
		displayType        string
		displayW, displayH int
	}{
		{"photo.jpg", jpegBytes(t, 2000, 1000), "image/jpeg", 2000, 1000, "image/jpeg", 1200, 600},
		{"chart.png", pngBytes(t, 1500, 300), "image/png", 1500, 300, "image/png", 1200, 240},
		{"small.png", pngBytes(t, 640, 480), "image/png", 640, 480, "image/png", 640, 480},
		{"anim.gif", gifBytes(t, 1300, 100), "image/gif", 1300, 100, "image/png", 1200, 92},
		{"wide.webp", webp, "image/webp", 2400, 1600, "image/jpeg", 1200, 800},
		{"report.exe", []byte(pdfDoc), "application/pdf", 0, 0, "application/pdf", 0, 0}, // the name does not count
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, out := upload(t, s.srv.URL, testToken, id, tt.name, tt.data, map[string]string{"alt": "A <b>bold</b> claim", "credit": "Ana"})
			if st != http.StatusCreated {
				t.Fatalf("%d %s", st, out)
			}
			var m releases.MediaDocument
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			if m.Type != tt.typ || m.Bytes != int64(len(tt.data)) || m.Width != tt.w || m.Height != tt.h || m.Alt != "A <b>bold</b> claim" ||
				m.Credit != "Ana" || m.DisplayType != tt.displayType || m.DisplayWidth != tt.displayW || m.DisplayHeight != tt.displayH ||
				!strings.HasPrefix(m.URL, "https://press.example.org/media/") || m.DisplayWidth > media.DisplayWidth {
				t.Fatalf("answer %+v", m)
			}
			if (tt.w <= media.DisplayWidth) != (m.DisplayURL == m.URL) {
				t.Fatalf("display copy: %s vs %s", m.DisplayURL, m.URL)
			}
			// The copy really is the size the answer says.
			if tt.w > 0 {
				key := strings.TrimPrefix(m.DisplayURL, "https://press.example.org/media/")
				b, err := s.db.Blob(context.Background(), key)
				if err != nil {
					t.Fatal(err)
				}
				cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
				if err != nil || cfg.Width != tt.displayW || cfg.Height != tt.displayH || int64(len(b)) != m.DisplayBytes {
					t.Fatalf("display file %+v %v, %d bytes", cfg, err, len(b))
				}
			}
		})
	}
	r, err := s.rel.Get(context.Background(), mustID(t, id))
	if err != nil || len(r.Media) != 6 || r.Media[0].Kind != "image" || r.Media[5].Kind != "pdf" || r.Media[5].Name != "report.pdf" {
		t.Fatalf("release media %+v %v", r.Media, err)
	}
	// The release JSON carries them, in order.
	req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/releases/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc releases.Document
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if len(doc.Media) != 6 || doc.Media[0].Position != 1 || doc.Media[5].Type != "application/pdf" {
		t.Fatalf("release JSON media: %+v", doc.Media)
	}
	entries, err := s.db.ListAudit(context.Background(), store.AuditQuery{Action: "media.add", Limit: 10})
	if err != nil || len(entries) != 6 {
		t.Fatalf("audit: %d entries, %v", len(entries), err)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMedia_BadUploadsStoreNothing(t *testing.T) {
	s := newMediaSite(t)
	id := s.release(t, "draft")
	jpg := jpegBytes(t, 400, 300)
	png := pngBytes(t, 10, 10)
	bomb := append([]byte{}, png...)
	// A PNG declaring 50,000 × 50,000 pixels: its header, a valid CRC.
	copy(bomb[16:24], []byte{0, 0, 0xc3, 0x50, 0, 0, 0xc3, 0x50})
	crc := crc32IEEE(bomb[12:29])
	copy(bomb[29:33], []byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	big := append(append([]byte{}, jpg...), make([]byte, media.MaxImageBytes)...)
	bigPDF := []byte(pdfDoc + strings.Repeat(" ", media.MaxPDFBytes) + "%%EOF")
	before := s.stored(t)
	for _, tt := range []struct {
		name   string
		file   string
		data   []byte
		fields map[string]string
		status int
		field  string
	}{
		{"no file", "", nil, nil, 422, "file"},
		{"empty file", "a.png", []byte{}, nil, 422, "file"},
		{"renamed executable", "photo.jpg", []byte("\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00", 100)), nil, 415, "file"},
		{"windows executable", "photo.png", []byte("MZ\x90\x00" + strings.Repeat("\x00", 100)), nil, 415, "file"},
		{"svg", "logo.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), nil, 415, "file"},
		{"truncated jpeg", "photo.jpg", jpg[:len(jpg)/2], nil, 422, "file"},
		{"image bomb", "bomb.png", bomb, nil, 422, "file"},
		{"image over 10 MB", "big.jpg", big, nil, 413, "file"},
		{"pdf over 20 MB", "big.pdf", bigPDF, nil, 413, "file"},
		{"pdf with javascript", "doc.pdf", []byte("%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n"), nil, 422, "file"},
		{"alt not utf-8", "a.png", png, map[string]string{"alt": "\xff\xfe"}, 422, "alt"},
		{"caption with control", "a.png", png, map[string]string{"caption": "a\x00b"}, 422, "caption"},
		{"credit too long", "a.png", png, map[string]string{"credit": strings.Repeat("x", media.MaxCredit+1)}, 422, "credit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, out := upload(t, s.srv.URL, testToken, id, tt.file, tt.data, tt.fields)
			var e errorBody
			_ = json.Unmarshal([]byte(out), &e)
			if st != tt.status || e.Field != tt.field || e.Error == "" {
				t.Fatalf("%d %s, want %d naming %q", st, out, tt.status, tt.field)
			}
			if after := s.stored(t); after != before {
				t.Fatalf("a refused upload stored something: %s, before %s", after, before)
			}
		})
	}
	// Not multipart at all; an unknown release.
	req, _ := http.NewRequest("POST", s.srv.URL+"/api/v1/releases/"+id+"/media", strings.NewReader(`{"file":"x"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != 400 {
		t.Fatalf("JSON body: %d", resp.StatusCode)
	}
	resp.Body.Close()
	if st, _ := upload(t, s.srv.URL, testToken, "99999", "a.png", png, nil); st != 404 {
		t.Fatalf("unknown release: %d", st)
	}
	if after := s.stored(t); after != before {
		t.Fatalf("stored %s", after)
	}
}

func TestMedia_Delete(t *testing.T) {
	s := newMediaSite(t)
	id := s.release(t, "draft")
	empty := s.stored(t)
	st, out := upload(t, s.srv.URL, testToken, id, "photo.jpg", jpegBytes(t, 1600, 900), nil)
	if st != 201 {
		t.Fatalf("%d %s", st, out)
	}
	mid := idOf(t, out)
	if got := s.stored(t); got == empty {
		t.Fatal("nothing stored")
	}
	v := s.rel.Version()
	del := func(path string) int {
		req, _ := http.NewRequest("DELETE", s.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	other := s.release(t, "draft")
	if code := del("/api/v1/releases/" + other + "/media/" + mid); code != 404 {
		t.Fatalf("deleting through another release: %d", code)
	}
	if code := del("/api/v1/releases/" + id + "/media/" + mid); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if got := s.stored(t); got != empty {
		t.Fatalf("after delete: %s, want %s", got, empty)
	}
	if s.rel.Version() == v {
		t.Fatal("the releases version did not move: cached feeds and pages would keep the image")
	}
	if code := del("/api/v1/releases/" + id + "/media/" + mid); code != 404 {
		t.Fatalf("second delete: %d", code)
	}
	// Deleting a release removes its media and their files.
	if st, _ := upload(t, s.srv.URL, testToken, id, "photo.jpg", jpegBytes(t, 1600, 900), nil); st != 201 {
		t.Fatal(st)
	}
	if code := del("/api/v1/releases/" + id); code != 204 {
		t.Fatalf("delete release: %d", code)
	}
	if got := s.stored(t); got != empty {
		t.Fatalf("after deleting the release: %s, want %s", got, empty)
	}
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
