package mailer

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"herald/mailer/smtptest"
	"herald/store/storetest"
)

// testKeys makes one RSA and one Ed25519 key through GenerateDKIMKey and
// LoadDKIMKey (as herald dkim keygen and HERALD_DKIM do), and the DNS
// records a verifier finds for them.
func testKeys(t *testing.T) ([]DKIMKey, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	var keys []DKIMKey
	dns := map[string]string{}
	for _, typ := range []string{"rsa", "ed25519"} {
		pemBytes, signer, err := GenerateDKIMKey(typ)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, typ+".pem")
		if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := LoadDKIMKey("s"+typ, "press.example.org", path)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := DKIMRecord(signer)
		if err != nil {
			t.Fatal(err)
		}
		dns["s"+typ+"._domainkey.press.example.org"] = rec
		keys = append(keys, k)
	}
	return keys, dns
}

func verify(t *testing.T, raw []byte, dns map[string]string) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if r, ok := dns[name]; ok {
			return []string{r}, nil
		}
		return nil, fmt.Errorf("no TXT record at %s", name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestDeliver_DKIMSignsWhatGoesOut checks SPEC 8.1 on the received bytes,
// with go-msgauth's verifier and a stub DNS: both signatures (RSA and
// Ed25519) verify on alerts and confirm messages, 8bit and
// quoted-printable, cover the headers SPEC 8.1 lists, and a message
// changed after signing fails.
func TestDeliver_DKIMSignsWhatGoesOut(t *testing.T) {
	keys, dns := testKeys(t)
	for _, qp := range []bool{false, true} {
		e := newEnv(t, smtptest.Options{}, func(o *Options) { o.DKIM = keys; o.QuotedPrintable = qp })
		ids := storetest.Subscribers(t, e.db, 2, "example.net", "active", "en")
		pending := storetest.Subscribers(t, e.db, 1, "example.com", "pending", "en")
		e.enqueue(t, alertItem("a1", ids[0], "Título con acentos . y un punto"), alertItem("a2", ids[1], "Second"),
			confirmItem(t, "c1", pending[0]))
		if st, _ := e.deliver(t); st.Sent != 3 {
			t.Fatalf("qp=%v: stats %+v, want 3 sent", qp, st)
		}
		for _, m := range e.srv.Messages() {
			vs := verify(t, m.Data, dns)
			if len(vs) != 2 {
				t.Fatalf("qp=%v: %d signatures, want 2", qp, len(vs))
			}
			for _, v := range vs {
				if v.Err != nil || v.Domain != "press.example.org" {
					t.Errorf("qp=%v: signature of %s: %v", qp, v.Domain, v.Err)
				}
				signed := strings.ToLower(strings.Join(v.HeaderKeys, ":"))
				for _, h := range []string{"from", "to", "subject", "date", "message-id", "mime-version", "content-type"} {
					if !strings.Contains(":"+signed+":", ":"+h+":") {
						t.Errorf("%s not signed (h=%s)", h, signed)
					}
				}
			}
			p := parseMessage(t, m.Data)
			if p.hdr.Get("List-Id") != "" {
				for _, h := range []string{"list-id", "list-unsubscribe", "list-unsubscribe-post"} {
					if !strings.Contains(strings.ToLower(strings.Join(vs[0].HeaderKeys, ":")), h) {
						t.Errorf("%s present but not signed", h)
					}
				}
			}
			// Altered after signing: a body byte, then the subject.
			for _, alter := range []func([]byte) []byte{
				func(b []byte) []byte { return bytes.Replace(b, []byte("Summary."), []byte("Summary!"), 1) },
				func(b []byte) []byte { return bytes.Replace(b, []byte("Subject: "), []byte("Subject: X"), 1) },
			} {
				bad := alter(bytes.Clone(m.Data))
				if bytes.Equal(bad, m.Data) && !bytes.Contains(m.Data, []byte("Summary.")) {
					continue // a confirm message has no summary
				}
				for _, v := range verify(t, bad, dns) {
					if v.Err == nil {
						t.Errorf("qp=%v: an altered message still verifies (%s)", qp, v.Domain)
					}
				}
			}
		}
	}
}

// TestLoadDKIMKey_Refuses: a missing file, a file that is no key, and an
// RSA key under 2048 bits are refused with an error saying why.
func TestLoadDKIMKey_Refuses(t *testing.T) {
	dir := t.TempDir()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	weakPath := write("weak.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)}))
	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "none.pem"), "read key"},
		{"not a key", write("junk.pem", []byte("hello")), "no PEM"},
		{"weak RSA", weakPath, "too weak"},
	} {
		_, err := LoadDKIMKey("s", "example.org", tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := GenerateDKIMKey("dsa"); err == nil {
		t.Error("an unknown key type was accepted")
	}
}

// TestDeliver_VERPAndFeedbackID checks SPEC 8.2: alerts and digests go
// with a signed per-row envelope sender and a Feedback-ID; confirm
// messages keep the From address.
func TestDeliver_VERPAndFeedbackID(t *testing.T) {
	verp := NewVERP("bounces@news.example.org", []byte("link secret"))
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.VERP = verp })
	ids := storetest.Subscribers(t, e.db, 1, "example.net", "active", "en")
	pending := storetest.Subscribers(t, e.db, 1, "example.com", "pending", "en")
	it := alertItem("a1", ids[0], "Title")
	it.AlertID = 42
	e.enqueue(t, it, confirmItem(t, "c1", pending[0]))
	e.deliver(t)
	row := e.row(t, "a1")
	var sawAlert bool
	for _, m := range e.srv.Messages() {
		p := parseMessage(t, m.Data)
		if p.hdr.Get("X-Herald-Kind") != KindAlert {
			if m.From != "press@press.example.org" || p.hdr.Get("Feedback-Id") != "" {
				t.Errorf("confirm: envelope from %q, Feedback-ID %q", m.From, p.hdr.Get("Feedback-Id"))
			}
			continue
		}
		sawAlert = true
		if got := p.hdr.Get("Feedback-Id"); got != "alert:42:herald" {
			t.Errorf("Feedback-ID %q", got)
		}
		if m.From != verp.Address(row.ID) || !strings.HasPrefix(m.From, "bounces+") || !strings.HasSuffix(m.From, "@news.example.org") {
			t.Errorf("envelope from %q, want %q", m.From, verp.Address(row.ID))
		}
		for _, a := range []string{m.From, strings.ToUpper(m.From), "<" + m.From + ">"} {
			if id, ok := verp.Parse(a); !ok || id != row.ID {
				t.Errorf("Parse(%q) = %d, %v; want %d", a, id, ok, row.ID)
			}
		}
	}
	if !sawAlert {
		t.Fatal("no alert received")
	}
	good := verp.Address(7)
	for _, forged := range []string{
		strings.Replace(good, "+7-", "+8-", 1),                             // another row, same signature
		good[:len(good)-len("@news.example.org")-1] + "0@news.example.org", // signature changed
		"bounces+7@news.example.org", "bounces@news.example.org", "other+7-" + good[strings.Index(good, "-")+1:],
		strings.Replace(good, "news.example.org", "evil.example", 1),
		NewVERP("bounces@news.example.org", []byte("another secret")).Address(7),
	} {
		if _, ok := verp.Parse(forged); ok {
			t.Errorf("forged %q accepted", forged)
		}
	}
}

// TestBuildMsg_LongArabicSubject checks SPEC 8.4: a 300-character Arabic
// title gives no header line over 998 octets and decodes back exactly;
// so does a 1,200-character ASCII title without spaces.
func TestBuildMsg_LongArabicSubject(t *testing.T) {
	keys, _ := testKeys(t)
	arabic := ""
	for len([]rune(arabic)) < 300 {
		arabic += "اليمن: ارتفاع عدد المهاجرين "
	}
	arabic = string([]rune(arabic)[:300])
	for _, title := range []string{arabic, strings.Repeat("x", 1200)} {
		var w wireMsg
		err := w.encode(Content{Subject: title, Text: "t", HTML: "<p>h</p>", UnsubscribeURL: "https://p.example/u?token=x"},
			envelope{From: &mail.Address{Address: "press@example.org"}, To: "a@example.org", Kind: KindAlert,
				Date: newClock().Now(), MsgID: "1.x@example.org", ListID: "<l.example.org>", DKIM: keys, FeedbackID: "alert:1:herald"})
		if err != nil {
			t.Fatal(err)
		}
		raw := w.raw.Bytes()
		head := raw[:bytes.Index(raw, []byte("\r\n\r\n"))]
		for _, l := range strings.Split(string(head), "\r\n") {
			if len(l) > 998 {
				t.Errorf("header line of %d octets: %.60q...", len(l), l)
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeHeader(t, msg.Header.Get("Subject")); got != title {
			t.Errorf("subject decodes to %q, want %q", got, title)
		}
	}
}

// BenchmarkEncode measures building one alert's bytes unsigned, with an
// RSA 2048 key, an Ed25519 key, and both (the cost DKIM adds per message).
func BenchmarkEncode(b *testing.B) {
	dir := b.TempDir()
	keys := map[string]DKIMKey{}
	for _, typ := range []string{"rsa", "ed25519"} {
		p, _, err := GenerateDKIMKey(typ)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, typ)
		if err := os.WriteFile(path, p, 0o600); err != nil {
			b.Fatal(err)
		}
		if keys[typ], err = LoadDKIMKey("s", "example.org", path); err != nil {
			b.Fatal(err)
		}
	}
	body := strings.Repeat("A paragraph of the release, with some words in it. ", 400)
	c := Content{Subject: "Title of the release", Text: body, HTML: "<p>" + body + "</p>", UnsubscribeURL: "https://p.example/u?token=x"}
	for _, tc := range []struct {
		name string
		keys []DKIMKey
	}{{"none", nil}, {"rsa", []DKIMKey{keys["rsa"]}}, {"ed25519", []DKIMKey{keys["ed25519"]}}, {"both", []DKIMKey{keys["rsa"], keys["ed25519"]}}} {
		b.Run(tc.name, func(b *testing.B) {
			var w wireMsg
			e := envelope{From: &mail.Address{Address: "press@example.org"}, To: "a@example.org", Kind: KindAlert,
				Date: newClock().Now(), MsgID: "1.x@example.org", ListID: "<l.example.org>", EightBit: true, DKIM: tc.keys}
			for b.Loop() {
				if err := w.encode(c, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDKIMSign_Canonicalization signs bodies and headers that relaxed
// canonicalization changes (tabs, runs of spaces, white space at line
// ends, empty lines at the end, no final line end, folded headers) and
// checks them with go-msgauth's verifier.
func TestDKIMSign_Canonicalization(t *testing.T) {
	keys, dns := testKeys(t)
	head := "From: a@press.example.org\r\nTo:  b@example.net \r\nSubject: a\tfolded\r\n  subject  \r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n"
	for _, body := range []string{"", "x", "line\r\n", "a \t b  c \r\n\t\r\n\r\n", "one\r\n\r\ntwo  \t\r\n\r\n\r\n", "lf only\nend  "} {
		var dst bytes.Buffer
		msg := []byte(head + "\r\n" + body)
		if err := dkimSign(&dst, keys, msg, newClock().Now()); err != nil {
			t.Fatal(err)
		}
		dst.Write(msg)
		vs := verify(t, dst.Bytes(), dns)
		if len(vs) != 2 {
			t.Fatalf("%d signatures", len(vs))
		}
		for _, v := range vs {
			if v.Err != nil {
				t.Errorf("body %q: %v", body, v.Err)
			}
		}
		bad := bytes.Replace(dst.Bytes(), []byte("\r\n\r\n"), []byte("\r\n\r\nX"), 1)
		for _, v := range verify(t, bad, dns) {
			if v.Err == nil {
				t.Errorf("body %q: changed body verifies", body)
			}
		}
	}
}
