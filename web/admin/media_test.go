package admin

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"herald/releases"
	"herald/store"
)

// TestConsoleMedia: the editor uploads (a plain multipart form, no
// script), orders and removes files; a refused file comes back with its
// reason and nothing stored; each change is audited.
func TestConsoleMedia(t *testing.T) {
	s := newAdminSite(t, adminSiteOpts{})
	c, csrf := s.signIn(url.Values{"token": {adminToken}})
	r := s.release("With photos", func(in *releases.Input) { in.Status = ptr("draft") })
	edit := s.srv.URL + "/admin/releases/" + strconv.FormatInt(r.ID, 10)
	post := func(name string, data []byte, alt string) (int, string) {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", csrf)
		_ = mw.WriteField("alt", alt)
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(data)
		_ = mw.Close()
		req, _ := http.NewRequest("POST", edit+"/media", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, _ := post("first.png", tinyPNG(t), "The first"); st != http.StatusSeeOther {
		t.Fatalf("upload: %d", st)
	}
	if st, _ := post("second.png", tinyPNG(t), "The <second>"); st != http.StatusSeeOther {
		t.Fatalf("upload: %d", st)
	}
	st, body := post("virus.png", []byte("MZ\x90\x00 not an image at all"), "")
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "The file was not added") {
		t.Fatalf("refused upload: %d\n%s", st, body)
	}
	rel, _ := s.rel.Get(context.Background(), r.ID)
	if len(rel.Media) != 2 || rel.Media[0].Alt != "The first" {
		t.Fatalf("media %+v", rel.Media)
	}
	res, err := c.Get(edit)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(b)
	for _, want := range []string{`enctype="multipart/form-data"`, `<label for="media-file">`, `<label for="media-alt">`,
		`alt="The &lt;second&gt;"`, "Lead image", `aria-label="Move second.png up"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the editor lacks %s", want)
		}
	}
	second := strconv.FormatInt(rel.Media[1].ID, 10)
	form := func(path string, v url.Values) int {
		t.Helper()
		v.Set("csrf", csrf)
		req, _ := http.NewRequest("POST", edit+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := form("/media/"+second+"/move", url.Values{"direction": {"up"}}); st != http.StatusSeeOther {
		t.Fatalf("move: %d", st)
	}
	rel, _ = s.rel.Get(context.Background(), r.ID)
	if rel.Media[0].Alt != "The <second>" || releases.LeadImage(&rel).Alt != "The <second>" {
		t.Fatalf("after moving up: %+v", rel.Media)
	}
	if st := form("/media/"+second+"/delete", url.Values{}); st != http.StatusSeeOther {
		t.Fatalf("remove: %d", st)
	}
	rel, _ = s.rel.Get(context.Background(), r.ID)
	if len(rel.Media) != 1 || rel.Media[0].Alt != "The first" {
		t.Fatalf("after removing: %+v", rel.Media)
	}
	var actions []string
	entries, _ := s.db.ListAudit(context.Background(), store.AuditQuery{Action: "media.*", Limit: 10})
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "media.remove,media.move,media.add,media.add" {
		t.Fatalf("audit: %v", actions)
	}
}
