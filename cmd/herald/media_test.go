package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"herald/mailer/smtptest"
)

// TestFlow_Media: a photo and a PDF uploaded to a draft through the API
// are served with immutable caching; when the release goes live the photo
// is the lead image of its page (figure, Open Graph), of every feed and of
// the alert mail, and the PDF is linked; removing the photo removes it
// from the page and the feeds at once.
func TestFlow_Media(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	d := startDaemon(t, dir, "HERALD_ADDR="+addr, "HERALD_BASE_URL="+base,
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr), "HERALD_FROM=Press Office <press@example.org>")
	token := readToken(t, dir)
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"desk@example.org","cadence":"immediate","confirmed":true}`, nil); code != 201 {
		t.Fatalf("add subscriber: %d", code)
	}
	var rel struct{ ID, Slug string }
	if code := d.api(t, token, "POST", "/api/v1/releases", `{"title":"Harvest begins","body":"Fields.","topics":["migration"],"status":"draft"}`, &rel); code != 201 {
		t.Fatalf("create: %d", code)
	}
	img := image.NewRGBA(image.Rect(0, 0, 2000, 1000))
	for x := range 2000 {
		img.Set(x, x/2, color.RGBA{R: 200, A: 255})
	}
	var photo bytes.Buffer
	_ = jpeg.Encode(&photo, img, nil)
	photoDoc := uploadFile(t, d.base, token, rel.ID, "harvest.jpg", photo.Bytes(), map[string]string{
		"alt": "Workers in a wheat field", "caption": "Dawn <script>alert(1)</script>", "credit": "Ana Ruiz"})
	pdfDoc := uploadFile(t, d.base, token, rel.ID, "Fact sheet.pdf",
		[]byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), nil)
	display := jsonString(t, photoDoc, "display_url")
	if !strings.HasPrefix(display, base+"/media/") || !strings.HasSuffix(display, ".jpg") || jsonString(t, photoDoc, "display_width") != "1200" {
		t.Fatalf("upload answer: %s", photoDoc)
	}

	// Served: own type, immutable caching, ETag, nosniff; a PDF downloads.
	resp := fetch(t, display, nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || etag == "" ||
		resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("served photo: %d %v", resp.StatusCode, resp.Header)
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(resp.body)); err != nil || cfg.Width != 1200 || cfg.Height != 600 {
		t.Fatalf("display copy %+v %v", cfg, err)
	}
	if r := fetch(t, display, map[string]string{"If-None-Match": etag}); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	pdfURL := jsonString(t, pdfDoc, "url")
	r := fetch(t, pdfURL, nil)
	if r.Header.Get("Content-Type") != "application/pdf" || r.Header.Get("Content-Disposition") != `attachment; filename="Fact sheet.pdf"` {
		t.Fatalf("served PDF: %v", r.Header)
	}
	if r := fetch(t, base+"/media/nothere.jpg", nil); r.StatusCode != 404 {
		t.Fatalf("unknown media: %d", r.StatusCode)
	}

	// Publish: the alert carries the photo (absolute URL, alt, width) and
	// links the PDF.
	if code := d.api(t, token, "PATCH", "/api/v1/releases/"+rel.ID, `{"status":"published"}`, nil); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	var alert *received
	deadline := time.Now().Add(20 * time.Second)
	for alert == nil && time.Now().Before(deadline) {
		for _, msg := range srv.Messages() {
			if p := parseMail(t, msg); p.header.Get("X-Herald-Kind") == "alert" {
				alert = &p
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if alert == nil {
		t.Fatal("no alert mail")
	}
	if !strings.Contains(alert.html, `<img src="`+display+`" alt="Workers in a wheat field" width="600"`) ||
		!strings.Contains(alert.html, `href="`+pdfURL+`"`) || !strings.Contains(alert.html, "Dawn &lt;script&gt;") {
		t.Fatalf("alert HTML lacks the lead image or the PDF link:\n%s", alert.html)
	}
	if !strings.Contains(alert.text, display) || !strings.Contains(alert.text, pdfURL) {
		t.Fatalf("alert text lacks the image or PDF URL:\n%s", alert.text)
	}

	// The page: a figure, Open Graph, the PDF listed.
	page := string(fetch(t, base+"/releases/"+rel.Slug, nil).body)
	path := strings.TrimPrefix(display, base)
	for _, want := range []string{
		`<figure class="lead">`, `<img src="` + path + `" alt="Workers in a wheat field" width="1200" height="600" loading="lazy"`,
		"Dawn &lt;script&gt;alert(1)&lt;/script&gt;", "Ana Ruiz",
		`<meta property="og:image" content="` + display + `">`, `<meta property="og:image:width" content="1200">`,
		`<meta property="og:image:height" content="600">`, `<meta property="og:image:alt" content="Workers in a wheat field">`,
		`href="` + strings.TrimPrefix(pdfURL, base) + `"`, "Fact sheet.pdf",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Fatal("the caption's markup reached the page")
	}

	// The feeds: RSS enclosure, Atom link rel=enclosure, JSON Feed image.
	length := jsonString(t, photoDoc, "display_bytes")
	for _, f := range []string{"/feed.rss", "/feed.atom", "/feed.json"} {
		feed, err := gofeed.NewParser().Parse(bytes.NewReader(fetch(t, base+f, nil).body))
		if err != nil || len(feed.Items) != 1 {
			t.Fatalf("%s: %v", f, err)
		}
		it := feed.Items[0]
		if f == "/feed.json" {
			if it.Image == nil || it.Image.URL != display {
				t.Errorf("%s: image %+v", f, it.Image)
			}
			continue
		}
		if len(it.Enclosures) != 1 || it.Enclosures[0].URL != display || it.Enclosures[0].Type != "image/jpeg" || it.Enclosures[0].Length != length {
			t.Errorf("%s: enclosures %+v, want %s (%s bytes)", f, it.Enclosures, display, length)
		}
	}

	// Remove the photo: gone from the page and the feeds at once.
	if code := d.api(t, token, "DELETE", "/api/v1/releases/"+rel.ID+"/media/"+jsonString(t, photoDoc, "id"), "", nil); code != 204 {
		t.Fatalf("delete media: %d", code)
	}
	if page := string(fetch(t, base+"/releases/"+rel.Slug, nil).body); strings.Contains(page, "<figure") || strings.Contains(page, "og:image") ||
		!strings.Contains(page, "Fact sheet.pdf") {
		t.Fatal("the page still shows the removed photo, or lost the PDF")
	}
	if rss := string(fetch(t, base+"/feed.rss", nil).body); strings.Contains(rss, "enclosure") {
		t.Fatalf("the feed still has the enclosure:\n%s", rss)
	}
	if r := fetch(t, display, nil); r.StatusCode != 404 {
		t.Fatalf("the removed photo is still served: %d", r.StatusCode)
	}
	d.stop(t)
}

type fetched struct {
	*http.Response
	body []byte
}

func fetch(t *testing.T, url string, header map[string]string) fetched {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp, b}
}

func uploadFile(t *testing.T, base, token, id, name string, data []byte, fields map[string]string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/releases/"+id+"/media", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	return string(b)
}

// jsonString reads a top-level field of a JSON object as text.
func jsonString(t *testing.T, doc, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	switch v := m[field].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	}
	t.Fatalf("no %s in %s", field, doc)
	return ""
}
