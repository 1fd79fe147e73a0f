package mailer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/mailer/smtptest"
	"herald/store/storetest"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"paragraphs", "<p>One.</p><p>Two.</p>", "One.\n\nTwo.\n"},
		{"link written out", `<p>See <a href="https://x.example/a">the report</a>.</p>`, "See the report <https://x.example/a>.\n"},
		{"bare link once", `<p><a href="https://x.example/a">https://x.example/a</a></p>`, "https://x.example/a\n"},
		{"mailto", `<p><a href="mailto:a@x.example">a@x.example</a></p>`, "a@x.example\n"},
		{"list", "<ul><li>one</li><li>two</li></ul>", "- one\n- two\n"},
		{"ordered", "<ol><li>one</li><li>two</li></ol>", "1. one\n2. two\n"},
		{"quote", "<blockquote><p>Said.</p></blockquote>", "> Said.\n"},
		{"table", "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>", "A | B\n1 | 2\n"},
		{"entities and spaces", "<p>Caf&eacute;   &amp;\n  tea</p>", "Café & tea\n"},
		{"br", "<p>a<br>b</p>", "a\nb\n"},
		{"wrapped", "<p>" + strings.Repeat("word ", 30) + "</p>", strings.TrimSpace(strings.Repeat("word ", 14)) + "\n" + strings.TrimSpace(strings.Repeat("word ", 14)) + "\nword word\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTMLToText(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWrap_KeepsLongWords(t *testing.T) {
	url := "https://press.example.org/unsubscribe?token=" + strings.Repeat("x", 90)
	got := Wrap("Unsubscribe here: "+url+" now", 72, "", "")
	if got != "Unsubscribe here:\n"+url+"\nnow" {
		t.Errorf("got %q", got)
	}
}

func TestFoldLines(t *testing.T) {
	long := strings.Repeat("abcdefghi ", 300) // 3000 bytes on one line
	out, ok := foldLines(long, 900)
	if !ok || strings.ReplaceAll(out, "\n", " ") != long {
		t.Fatalf("fold changed the text or failed (ok=%v)", ok)
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 900 {
			t.Fatalf("line of %d bytes", len(l))
		}
	}
	if _, ok := foldLines(strings.Repeat("x", 2000), 900); ok {
		t.Error("an unbreakable line must be reported")
	}
}

func TestBackoff(t *testing.T) {
	for attempts, base := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 20: maxBackoff} {
		for i := 0; i < 50; i++ {
			d := Backoff(time.Minute, attempts)
			if d < base*8/10 || d > base*12/10 {
				t.Fatalf("attempt %d: %v outside %v±20%%", attempts, d, base)
			}
		}
	}
}

func TestMaildir(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.SMTP = nil })
	ids := storetest.Subscribers(t, e.db, 2, "example.net", "active", "es")
	e.enqueue(t, alertItem("a:1", ids[0], "Título con acentos: ñ"), alertItem("a:2", ids[1], "Otro"))
	if st, _ := e.deliver(t); st.Sent != 2 {
		t.Fatalf("stats %+v", st)
	}
	if e.srv.Count() != 0 {
		t.Fatal("nothing goes to SMTP when no server is configured")
	}
	files, _ := filepath.Glob(filepath.Join(e.opts.MaildirDir, "new", "*"))
	tmp, _ := filepath.Glob(filepath.Join(e.opts.MaildirDir, "tmp", "*"))
	if len(files) != 2 || len(tmp) != 0 {
		t.Fatalf("new/ has %d files, tmp/ %d; want 2 and 0", len(files), len(tmp))
	}
	subjects := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "\r") {
			t.Errorf("%s: Maildir files use LF line ends", f)
		}
		p := parseMessage(t, raw)
		subjects[decodeHeader(t, p.hdr.Get("Subject"))] = true
		if !strings.Contains(p.text, "Darse de baja") {
			t.Errorf("want the Spanish template:\n%s", p.text)
		}
	}
	if !subjects["Título con acentos: ñ"] || !subjects["Otro"] {
		t.Errorf("subjects %v", subjects)
	}
}
