package mailer

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"mime"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"
)

// viaDotWriter is what go-mail's DATA stage writes: src through
// net/textproto's DotWriter, then Close.
func viaDotWriter(t testing.TB, src []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := textproto.NewWriter(bufio.NewWriter(&out))
	dw := w.DotWriter()
	if _, err := dw.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestDotStuff_MatchesDotWriter(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"one line", "hello"},
		{"crlf end", "hello\r\n"},
		{"lf lines", "a\nb\n"},
		{"leading dot", ".hidden\n..two\n.\n"},
		{"dot after crlf", "x\r\n.y\r\n"},
		{"lone cr", "a\rb\r"},
		{"cr cr lf", "a\r\r\nb"},
		{"cr then dot", "a\r.b"},
		{"only dot", "."},
		{"ends with cr", "abc\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := viaDotWriter(t, []byte(tt.in))
			if got := dotStuff(nil, []byte(tt.in)); !bytes.Equal(got, want) {
				t.Errorf("dotStuff(%q) = %q, want %q", tt.in, got, want)
			}
		})
	}
	// Random mixes of the bytes that matter.
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab.\r\n")
	for i := 0; i < 5000; i++ {
		src := make([]byte, r.IntN(40))
		for j := range src {
			src[j] = alphabet[r.IntN(len(alphabet))]
		}
		want := viaDotWriter(t, src)
		if got := dotStuff([]byte("keep"), src); !bytes.Equal(got[4:], want) || string(got[:4]) != "keep" {
			t.Fatalf("dotStuff(%q) = %q, want %q after the kept prefix", src, got, want)
		}
	}
}

func FuzzDotStuff(f *testing.F) {
	f.Add([]byte(".a\r\n\r.b\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := dotStuff(nil, src), viaDotWriter(t, src); !bytes.Equal(got, want) {
			t.Fatalf("dotStuff(%q) = %q, want %q", src, got, want)
		}
	})
}

func BenchmarkDotStuff(b *testing.B) {
	line := "The organization and the UN Refugee Agency welcome the adoption of a road map.\n"
	src := []byte("Subject: x\r\nTo: <a@example.org>\r\n\r\n" + strings.Repeat(line, 250))
	var dst []byte
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst = dotStuff(dst[:0], src)
	}
}

// TestWireEncode_SameBytesAsGoMail holds the spliced encoding to what
// go-mail writes for the whole message (buildMsg), byte for byte, in 8bit
// and quoted-printable, and its DATA form to the DotWriter's.
func TestWireEncode_SameBytesAsGoMail(t *testing.T) {
	long := strings.Repeat("word ", 300) + "\n"
	huge := strings.Repeat("x", 2000) + "\n" // cannot fold: quoted-printable
	contents := []struct {
		name string
		c    Content
	}{
		{"plain", Content{Subject: "Hello", Text: "Hello,\n\nA release.\n", HTML: "<p>Hello</p>\n"}},
		{"dots and CRs", Content{Subject: "Dots", Text: ".first\r\nsecond\r.third\n..\n", HTML: "<p>\n.x</p>"}},
		{"utf-8 and long lines", Content{Subject: "Réunion à Genève — ١٢", Text: "Déclaration " + long, HTML: "<p>" + long + "</p>"}},
		{"unfoldable", Content{Subject: "Huge", Text: huge, HTML: "<p>ok</p>"}},
		{"stand-in in the subject", Content{Subject: standText, Text: "t " + standHTML, HTML: standText}},
		{"alert", Content{Subject: "Alert", Text: "t=1\n", HTML: "<p>=</p>", UnsubscribeURL: "https://p.example/u?token=a&b=1"}},
	}
	for _, tt := range contents {
		for _, eight := range []bool{true, false} {
			kind := KindConfirm
			if tt.c.UnsubscribeURL != "" {
				kind = KindAlert
			}
			env := envelope{From: &mail.Address{Name: "Press Office", Address: "press@example.org"}, To: "reader@example.net",
				Kind: kind, Date: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), MsgID: "7.abc.herald@example.org",
				ListID: "Press Office alerts <alerts.example.org>", EightBit: eight}
			var w wireMsg
			if err := w.encode(tt.c, env); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			m, err := mail.ReadMessage(bytes.NewReader(w.raw.Bytes()))
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
			if err != nil || params["boundary"] == "" {
				t.Fatalf("%s: no boundary: %v", tt.name, err)
			}
			gm, err := buildMsg(tt.c, env)
			if err != nil {
				t.Fatal(err)
			}
			gm.SetBoundary(params["boundary"])
			var want bytes.Buffer
			if _, err := gm.WriteTo(&want); err != nil {
				t.Fatal(err)
			}
			if got, want := canonical(w.raw.Bytes()), canonical(want.Bytes()); got != want {
				t.Errorf("%s (8bit %v): spliced message differs from go-mail's:\n%q\nwant\n%q", tt.name, eight, got, want)
			}
			if got := viaDotWriter(t, w.raw.Bytes()); !bytes.Equal(w.data, got) {
				t.Errorf("%s (8bit %v): DATA form differs from the DotWriter's", tt.name, eight)
			}
			wantEight := eight && tt.name != "unfoldable"
			if w.eightBit != wantEight {
				t.Errorf("%s (8bit %v): eightBit %v, want %v", tt.name, eight, w.eightBit, wantEight)
			}
		}
	}
}

// canonical is a message with its header fields sorted: go-mail writes
// some of them in map order, so two writes of one message differ in that
// order only.
func canonical(raw []byte) string {
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var fields []string
	for _, l := range strings.Split(string(head), "\r\n") {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(fields) > 0 {
			fields[len(fields)-1] += "\r\n" + l
			continue
		}
		fields = append(fields, l)
	}
	slices.Sort(fields)
	return strings.Join(fields, "\r\n") + "\r\n\r\n" + string(body)
}
