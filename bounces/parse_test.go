package bounces

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	testVERP  = "bounces+2n-0123456789abcdef@news.example.org"
	testRcpt  = "ana@example.net"
	testMsgID = "72.0011223344556677.herald@news.example.org"
)

// sample reads a testdata message with its placeholders filled in.
func sample(t testing.TB, name, verp, rcpt, msgID string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{VERP}}", verp, "{{RCPT}}", rcpt, "{{MSGID}}", msgID).Replace(string(b))
	return []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
}

func TestParse_Samples(t *testing.T) {
	tests := []struct {
		file, kind, format, status string
		recipient                  string
		verp, msgID                bool // the VERP address / Message-ID is found
		diag                       string
	}{
		{"dsn-rfc3464.eml", "hard", "dsn", "5.1.1", testRcpt, true, true, "User unknown"},
		{"dsn-postfix.eml", "hard", "dsn", "5.2.1", testRcpt, true, true, "Mailbox disabled"},
		{"dsn-gmail.eml", "hard", "dsn", "5.1.1", testRcpt, true, true, "does not exist"},
		{"ndr-exchange.eml", "hard", "dsn", "5.1.10", testRcpt, true, true, "RecipientNotFound"},
		{"ndr-exchange-text.eml", "hard", "text", "5.1.1", testRcpt, true, true, "RecipNotFound"},
		{"text-qmail-soft.eml", "soft", "text", "4.2.2", testRcpt, true, true, "Mailbox full"},
		{"dsn-delayed.eml", "soft", "dsn", "4.4.7", testRcpt, true, true, "timed out"},
		{"arf-abuse.eml", "complaint", "arf", "", testRcpt, true, true, "abuse"},
		{"arf-redacted.eml", "complaint", "arf", "", "redacted@example.net", false, true, "abuse"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := Parse(sample(t, tt.file, testVERP, testRcpt, testMsgID))
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind || r.Format != tt.format || r.Status != tt.status || !strings.EqualFold(r.Recipient, tt.recipient) {
				t.Fatalf("report %+v", r)
			}
			if got := slices.Contains(r.Addresses, testVERP); got != tt.verp {
				t.Errorf("VERP address found %v in %q", got, r.Addresses)
			}
			if got := slices.Contains(r.MessageIDs, "<"+testMsgID+">"); got != tt.msgID {
				t.Errorf("Message-ID found %v in %q", got, r.MessageIDs)
			}
			if !strings.Contains(r.Diagnostic, tt.diag) {
				t.Errorf("diagnostic %q, want it to hold %q", r.Diagnostic, tt.diag)
			}
		})
	}
}

func TestParse_NotReports(t *testing.T) {
	for _, file := range []string{"not-a-bounce.eml", "dsn-no-recipient.eml"} {
		if r, err := Parse(sample(t, file, testVERP, testRcpt, testMsgID)); !errors.Is(err, ErrNotReport) {
			t.Errorf("%s: %+v, %v; want ErrNotReport", file, r, err)
		}
	}
	for _, raw := range []string{"", "garbage", "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nbroken",
		"From: MAILER-DAEMON@x\r\nSubject: Undelivered\r\n\r\nno address here 550"} {
		if _, err := Parse([]byte(raw)); !errors.Is(err, ErrNotReport) {
			t.Errorf("%q: %v, want ErrNotReport", raw, err)
		}
	}
}

// FuzzParse: no input makes the parser panic, and whatever it reports has
// a known kind.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"dsn-rfc3464.eml", "arf-abuse.eml", "ndr-exchange-text.eml", "dsn-gmail.eml"} {
		f.Add(sample(f, name, testVERP, testRcpt, testMsgID))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Parse(raw)
		if err == nil && r.Kind != "hard" && r.Kind != "soft" && r.Kind != "complaint" {
			t.Fatalf("kind %q", r.Kind)
		}
	})
}
