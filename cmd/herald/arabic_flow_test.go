package main

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/mailer/smtptest"
)

// arabicHTML checks that an HTML part is written right to left in Arabic.
func arabicHTML(t *testing.T, kind, html string) {
	t.Helper()
	if !strings.Contains(html, `<html lang="ar" dir="rtl">`) || !strings.Contains(html, `<body dir="rtl"`) {
		t.Errorf("%s: the HTML part is not marked Arabic, right to left:\n%.600s", kind, html)
	}
}

// rawSubject is the Subject header as sent, and decoded (RFC 2047).
func decodedSubject(t *testing.T, r received) string {
	t.Helper()
	raw := r.header.Get("Subject")
	s, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		t.Fatalf("Subject %q: %v", raw, err)
	}
	if raw == s {
		t.Errorf("Subject %q is not encoded: Arabic needs RFC 2047", raw)
	}
	return s
}

// TestFlow_ArabicSubscriber: an Arabic reader subscribes with the Arabic
// form, confirms from an Arabic page and gets the confirmation, the
// welcome and an alert in Arabic through a real SMTP server: right-to-left
// HTML, UTF-8 subjects (SPEC 5.5, 10).
func TestFlow_ArabicSubscriber(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	d := startDaemon(t, dir, "HERALD_ADDR="+addr, "HERALD_BASE_URL="+base,
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr))
	token := readToken(t, dir)

	// The form, in Arabic, offers Arabic; post it as a browser does.
	page := getPage(t, base+"/subscribe?lang=ar")
	if !strings.Contains(page, `<html lang="ar" dir="rtl">`) || !strings.Contains(page, `<option value="ar" lang="ar" selected>العربية</option>`) {
		t.Fatalf("the Arabic form:\n%.2000s", page)
	}
	form := url.Values{"email": {"reader@example.org"}, "topics": {"migration"}, "language": {"ar"}, "cadence": {"immediate"}, "timezone": {"Asia/Amman"}}
	resp, err := http.PostForm(base+"/subscribe?lang=ar", form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "تحقّق من بريدك الوارد") {
		t.Errorf("the answer is not in Arabic:\n%.1500s", body)
	}

	confirm := parseMail(t, srv.Wait(t, 1, 20*time.Second)[0])
	if s := decodedSubject(t, confirm); s != "أكّد اشتراكك في Press Office" {
		t.Errorf("confirmation subject %q", s)
	}
	arabicHTML(t, "confirm", confirm.html)
	if !strings.Contains(confirm.html, "تأكيد اشتراكي") || !strings.Contains(confirm.html, "يبقى الرابط صالحًا 7 أيام") || !strings.Contains(confirm.text, "المواضيع: الهجرة") {
		t.Errorf("the confirmation is not in Arabic:\n%s", confirm.text)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/confirm\?token=[A-Za-z0-9_\-]+`).FindString(confirm.text)
	if link == "" {
		t.Fatalf("no confirmation link:\n%s", confirm.text)
	}
	// The page of the link is Arabic, the subscriber's language, whatever
	// the browser says.
	req, _ := http.NewRequest("GET", link, nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `<html lang="ar" dir="rtl">`) || !strings.Contains(string(b), "تأكيد اشتراكي") {
		t.Errorf("the confirmation page is not Arabic:\n%.1500s", b)
	}
	if r, err = http.Post(link, "application/x-www-form-urlencoded", nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("POST confirm: %v %v", r, err)
	}
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), "تم تأكيد اشتراكك") {
		t.Errorf("the preferences page after confirming is not Arabic:\n%.1500s", b)
	}

	welcome := parseMail(t, srv.Wait(t, 2, 20*time.Second)[1])
	if welcome.header.Get("X-Herald-Kind") != "welcome" {
		t.Fatalf("second message is %q", welcome.header.Get("X-Herald-Kind"))
	}
	if s := decodedSubject(t, welcome); s != "مرحبًا بك في Press Office" {
		t.Errorf("welcome subject %q", s)
	}
	arabicHTML(t, "welcome", welcome.html)
	if !strings.Contains(welcome.html, "يصلك كل بيان عبر البريد الإلكتروني فور نشره") || !strings.Contains(welcome.html, "إدارة اشتراكي") {
		t.Errorf("the welcome is not in Arabic:\n%s", welcome.text)
	}

	// A release in English and Arabic goes live: the Arabic reader's alert
	// is the Arabic one, its title the subject.
	const title = "اليمن: ارتفاع عدد المهاجرين القادمين من القرن الأفريقي"
	for _, body := range []string{
		`{"title":"Yemen: arrivals rise","body":"English text.","topics":["migration"],"translation_key":"ye"}`,
		`{"title":"` + title + `","body":"وصل أكثر من **عشرة آلاف** مهاجر.","dateline":"عدن","topics":["migration"],"language":"ar","translation_key":"ye"}`,
	} {
		if code := d.api(t, token, "POST", "/api/v1/releases", body, nil); code != 201 {
			t.Fatalf("create release: %d", code)
		}
	}
	alert := parseMail(t, srv.Wait(t, 3, 20*time.Second)[2])
	if alert.header.Get("X-Herald-Kind") != "alert" {
		t.Fatalf("third message is %q", alert.header.Get("X-Herald-Kind"))
	}
	if s := decodedSubject(t, alert); s != title {
		t.Errorf("alert subject %q, want %q", s, title)
	}
	arabicHTML(t, "alert", alert.html)
	if !strings.Contains(alert.html, `<div lang="ar" dir="rtl">`) || !strings.Contains(alert.html, "<strong>عشرة آلاف</strong>") ||
		!strings.Contains(alert.html, "إلغاء الاشتراك") || !strings.Contains(alert.text, "اقرأ البيان على الموقع") {
		t.Errorf("the alert is not the Arabic release in Arabic words:\n%s", alert.text)
	}
	d.stop(t)
}

func getPage(t *testing.T, u string) string {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, r.StatusCode)
	}
	return string(b)
}
