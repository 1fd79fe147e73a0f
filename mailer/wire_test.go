package mailer

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/textproto"
	"strings"
	"testing"
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
