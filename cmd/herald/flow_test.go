package main

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/mailer/smtptest"
)

// freeAddr returns a 127.0.0.1 address that was free a moment ago, so that
// HERALD_BASE_URL can name the daemon's port before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// mailParts parses a received message: its headers and the decoded text
// and HTML parts of its multipart/alternative body.
type received struct {
	header     mail.Header
	text, html string
}

func parseMail(t *testing.T, m smtptest.Message) received {
	t.Helper()
	msg, err := m.Parse()
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, m.Data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	out := received{header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s has charset %q, want UTF-8", ct, cp["charset"])
		}
		switch ct {
		case "text/plain":
			out.text = string(body)
		case "text/html":
			out.html = string(body)
		}
	}
	if out.text == "" || out.html == "" {
		t.Fatalf("message lacks a text or an HTML part")
	}
	return out
}

// toAddr is the one address of the To header.
func toAddr(t *testing.T, h mail.Header) string {
	t.Helper()
	list, err := h.AddressList("To")
	if err != nil || len(list) != 1 {
		t.Fatalf("To: %q (%v), want exactly one address", h.Get("To"), err)
	}
	return list[0].Address
}

// TestFlow_SubscribeConfirmAlertUnsubscribe walks a journalist's whole
// journey through the real binary, a real SMTP server and real HTTP.
func TestFlow_SubscribeConfirmAlertUnsubscribe(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	d := startDaemon(t, dir, "HERALD_ADDR="+addr, "HERALD_BASE_URL="+base,
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr), "HERALD_FROM=Press Office <press@example.org>")
	token := readToken(t, dir)

	// Subscribe (JSON), in Spanish, to migration, immediately.
	resp, err := http.Post(base+"/subscribe", "application/json",
		strings.NewReader(`{"email":"Ana@Example.ORG","topics":["migration"],"language":"es","cadence":"immediate"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	resp.Body.Close()
	confirm := parseMail(t, srv.Wait(t, 1, 20*time.Second)[0])
	h := confirm.header
	if h.Get("X-Herald-Kind") != "confirm" || toAddr(t, h) != "Ana@example.org" || !strings.Contains(h.Get("From"), "press@example.org") ||
		h.Get("Date") == "" || h.Get("Message-Id") == "" {
		t.Fatalf("confirmation headers: %v", h)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/confirm\?token=[A-Za-z0-9_\-]+`).FindString(confirm.text)
	if link == "" {
		t.Fatalf("no confirmation link in the text part:\n%s", confirm.text)
	}
	// A link scanner's GET confirms nothing; the button's POST does.
	for i := 0; i < 2; i++ {
		r, err := http.Get(link)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("GET confirm: %v %v", r, err)
		}
		r.Body.Close()
	}
	var list struct {
		Items []struct{ ID, Status string }
	}
	d.api(t, token, "GET", "/api/v1/subscribers", "", &list)
	if len(list.Items) != 1 || list.Items[0].Status != "pending" {
		t.Fatalf("after GET /confirm: %+v", list.Items)
	}
	r, err := http.Post(link, "application/x-www-form-urlencoded", nil)
	if err != nil || r.StatusCode >= 400 {
		t.Fatalf("POST confirm: %v %v", r, err)
	}
	r.Body.Close()
	d.api(t, token, "GET", "/api/v1/subscribers", "", &list)
	if list.Items[0].Status != "active" {
		t.Fatalf("after POST /confirm: %+v", list.Items)
	}
	// The welcome (SPEC 11), in Spanish; no release matches yet.
	welcome := parseMail(t, srv.Wait(t, 2, 20*time.Second)[1])
	if welcome.header.Get("X-Herald-Kind") != "welcome" || !strings.Contains(welcome.text, "Todavía no hay comunicados") ||
		!strings.Contains(welcome.text, base+"/preferences?token=") || !strings.Contains(welcome.text, "en cuanto se publica") {
		t.Fatalf("welcome: %v\n%s", welcome.header, welcome.text)
	}

	// A translation pair goes live: one alert, in Spanish, with the title as
	// subject and the list headers.
	for _, body := range []string{
		`{"title":"Road Map Adopted","body":"English text.","topics":["migration"],"translation_key":"rm"}`,
		`{"title":"Hoja de ruta adoptada: «integración»","body":"Texto en español.","topics":["migration"],"language":"es","translation_key":"rm"}`,
	} {
		if code := d.api(t, token, "POST", "/api/v1/releases", body, nil); code != 201 {
			t.Fatalf("create release: %d", code)
		}
	}
	msgs := srv.Wait(t, 3, 20*time.Second)
	alert := parseMail(t, msgs[2])
	h = alert.header
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(h.Get("Subject"))
	unsub := strings.Trim(h.Get("List-Unsubscribe"), "<>")
	if h.Get("X-Herald-Kind") != "alert" || subject != "Hoja de ruta adoptada: «integración»" ||
		!strings.HasPrefix(unsub, base+"/unsubscribe?token=") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
		h.Get("List-Id") == "" || toAddr(t, h) != "Ana@example.org" {
		t.Fatalf("alert headers: subject %q, %v", subject, h)
	}
	for name, part := range map[string]string{"text": alert.text, "html": alert.html} {
		if !strings.Contains(part, "/unsubscribe?token=") || !strings.Contains(part, "/preferences?token=") {
			t.Errorf("the %s part lacks the unsubscribe or preferences link", name)
		}
	}
	time.Sleep(3 * time.Second)
	if n := srv.Count(); n != 3 {
		t.Fatalf("%d messages after the pair went live, want 3 (confirm, welcome, one alert per translation group)", n)
	}

	// One-click unsubscribe (RFC 8058), as a mail client sends it.
	r, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %v %v", r, err)
	}
	r.Body.Close()
	d.api(t, token, "GET", "/api/v1/subscribers", "", &list)
	if list.Items[0].Status != "unsubscribed" {
		t.Fatalf("after one-click: %+v", list.Items)
	}
	if code := d.api(t, token, "POST", "/api/v1/releases", `{"title":"Later news","body":"b","topics":["migration"]}`, nil); code != 201 {
		t.Fatal("create release")
	}
	time.Sleep(4 * time.Second)
	if n := srv.Count(); n != 3 {
		t.Fatalf("an unsubscribed address got mail: %d messages", n)
	}
	d.stop(t)
}

// TestFlow_DigestOncePerRun checks a digest through the binary: one mail
// naming the site and the count, and nothing more on a repeated run.
func TestFlow_DigestOncePerRun(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	d := startDaemon(t, dir, fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr), "HERALD_SITE_NAME=IOM Press")
	token := readToken(t, dir)
	if code := d.api(t, token, "POST", "/api/v1/subscribers",
		`{"email":"desk@example.org","cadence":"daily","regions":["americas"],"confirmed":true}`, nil); code != 201 {
		t.Fatalf("add subscriber: %d", code)
	}
	time.Sleep(20 * time.Millisecond)
	for _, body := range []string{
		`{"title":"Argentina release","body":"b","topics":["migration"],"regions":["argentina"]}`,
		`{"title":"Global release","body":"b","topics":["refugees"]}`,
		`{"title":"France release","body":"b","topics":["migration"],"regions":["france"]}`,
	} {
		if code := d.api(t, token, "POST", "/api/v1/releases", body, nil); code != 201 {
			t.Fatal("create release")
		}
	}
	var run struct{ Recipients int }
	if code := d.api(t, token, "POST", "/api/v1/digests/daily/run", `{"dry_run":true}`, &run); code != 202 || run.Recipients != 1 {
		t.Fatalf("dry run: %d %+v", code, run)
	}
	if code := d.api(t, token, "POST", "/api/v1/digests/daily/run", "", &run); code != 202 || run.Recipients != 1 {
		t.Fatalf("run: %d %+v", code, run)
	}
	got := parseMail(t, srv.Wait(t, 1, 20*time.Second)[0])
	subject, _ := new(mime.WordDecoder).DecodeHeader(got.header.Get("Subject"))
	if got.header.Get("X-Herald-Kind") != "digest" || !strings.Contains(subject, "IOM Press") || !strings.Contains(subject, "2") {
		t.Fatalf("digest subject %q kind %q", subject, got.header.Get("X-Herald-Kind"))
	}
	if !strings.Contains(got.text, "Argentina release") || !strings.Contains(got.text, "Global release") || strings.Contains(got.text, "France release") {
		t.Fatalf("digest text:\n%s", got.text)
	}
	if strings.Index(got.text, "Global release") > strings.Index(got.text, "Argentina release") {
		t.Fatalf("digest is not newest first:\n%s", got.text)
	}
	if code := d.api(t, token, "POST", "/api/v1/digests/daily/run", "", &run); code != 202 || run.Recipients != 0 {
		t.Fatalf("repeated run: %d %+v", code, run)
	}

	// A staff alert: its progress reaches the totals.
	var rel struct{ ID string }
	d.api(t, token, "POST", "/api/v1/releases", `{"title":"Urgent","body":"b","topics":["emergencies"],"regions":["americas"]}`, &rel)
	var alert struct {
		AlertID    string `json:"alert_id"`
		Recipients int
	}
	if code := d.api(t, token, "POST", "/api/v1/releases/"+rel.ID+"/alert", `{"audience":"matching"}`, &alert); code != 202 || alert.Recipients != 1 {
		t.Fatalf("alert: %d %+v", code, alert)
	}
	var st struct {
		Recipients, Queued, Sent, Failed int
		FinishedAt                       *string `json:"finished_at"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.FinishedAt == nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		d.api(t, token, "GET", "/api/v1/alerts/"+alert.AlertID, "", &st)
	}
	if st.FinishedAt == nil || st.Sent != 1 || st.Recipients != 1 || st.Queued != 0 || st.Failed != 0 {
		t.Fatalf("alert progress: %+v", st)
	}
	d.stop(t)
}

// TestFlow_DigestMissedWhileDownIsMadeUpOnce stops the daemon over a
// scheduled digest time (a cron spec firing every minute) and checks that
// the next start sends exactly one digest.
func TestFlow_DigestMissedWhileDownIsMadeUpOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a minute boundary")
	}
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	env := []string{fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr), "HERALD_DIGEST_DAILY=* * * * *"}
	if s := time.Now().Second(); s > 40 { // leave the setup a quiet minute
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	d := startDaemon(t, dir, env...)
	token := readToken(t, dir)
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"desk@example.org","cadence":"daily","confirmed":true}`, nil); code != 201 {
		t.Fatalf("add subscriber: %d", code)
	}
	time.Sleep(20 * time.Millisecond)
	if code := d.api(t, token, "POST", "/api/v1/releases", `{"title":"While you were away","body":"b","topics":["migration"]}`, nil); code != 201 {
		t.Fatal("create release")
	}
	d.stop(t)
	if srv.Count() != 0 {
		t.Fatal("a digest went out before the scheduled time")
	}
	next := time.Now().Truncate(time.Minute).Add(time.Minute)
	time.Sleep(time.Until(next) + time.Second) // the daemon is down at the fire time

	d = startDaemon(t, dir, env...)
	got := parseMail(t, srv.Wait(t, 1, 20*time.Second)[0])
	if got.header.Get("X-Herald-Kind") != "digest" || !strings.Contains(got.text, "While you were away") {
		t.Fatalf("made-up digest: %v\n%s", got.header, got.text)
	}
	time.Sleep(3 * time.Second)
	d.stop(t)
	if n := srv.Count(); n != 1 {
		t.Fatalf("%d digests after the restart, want exactly 1", n)
	}
}
