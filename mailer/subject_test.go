package mailer

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// TestBuildMsg_SubjectIsTheTitleExactly checks SPEC 5.2 at the byte level:
// a long non-ASCII title stays on the Subject line as encoded-words and
// decodes back to itself, with no leading space a strict parser would keep.
func TestBuildMsg_SubjectIsTheTitleExactly(t *testing.T) {
	for _, title := range []string{
		"Campaña regional contra la trata de personas llega a 2 millones de jóvenes en Centroamérica",
		"Haïti : des milliers de personnes déplacées reçoivent des abris d'urgence « maintenant »",
		"اليمن: ارتفاع عدد المهاجرين القادمين من القرن الأفريقي",
		"Plain ASCII title that is rather long, longer than seventy-eight characters in all",
		"Short",
	} {
		m, err := buildMsg(Content{Subject: title, Text: "t", HTML: "<p>h</p>", UnsubscribeURL: "https://p.example/u?token=x"},
			envelope{From: &mail.Address{Address: "press@example.org"}, To: "a@example.org", Kind: KindAlert,
				Date: time.Now(), MsgID: "1.x@example.org", ListID: "<l.example.org>"})
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		if _, err := m.WriteTo(&raw); err != nil {
			t.Fatal(err)
		}
		// The Subject field, its folded lines joined as net/mail does
		// (SPEC 8.4 folds between encoded-words).
		var line string
		in := false
		for _, l := range strings.Split(raw.String(), "\r\n") {
			if len(l) > 998 {
				t.Fatalf("line of %d octets", len(l))
			}
			switch {
			case strings.HasPrefix(l, "Subject:"):
				line, in = l, true
			case in && strings.HasPrefix(l, " "):
				line += l
			default:
				in = false
			}
		}
		if !strings.HasPrefix(line, "Subject: ") || strings.HasPrefix(line, "Subject:  ") {
			t.Fatalf("Subject line %q", line)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(strings.TrimPrefix(line, "Subject: "))
		if err != nil || got != title {
			t.Fatalf("subject decodes to %q (%v), want %q", got, err, title)
		}
	}
}
