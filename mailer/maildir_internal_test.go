package mailer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failingWriter takes limit bytes, then fails as a full disk does.
type failingWriter struct {
	w     io.Writer
	limit int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.w.Write(p[:f.limit])
		f.limit = 0
		return n, errors.New("no space left on device")
	}
	f.limit -= len(p)
	return f.w.Write(p)
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"tmp", "new", "cur"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out = append(out, sub+"/"+e.Name())
		}
	}
	return out
}

// TestMaildir_FullDiskThenRetryDeliversOnce: a write that fails half-way
// reports a temporary failure and leaves no file; the retry writes the
// message once; a further try of the same message (its outcome was not
// recorded) writes nothing more, also once a reader moved it to cur/.
func TestMaildir_FullDiskThenRetryDeliversOnce(t *testing.T) {
	dir := t.TempDir()
	tr, err := newMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	msg := &wireMsg{id: "42.0123456789abcdef.herald@example.org"}
	msg.raw.WriteString("Subject: x\r\n\r\n" + strings.Repeat("line of text\r\n", 1000))

	tr.wrap = func(w io.Writer) io.Writer { return &failingWriter{w: w, limit: 4096} }
	err = maildirSession{tr}.send(msg)
	var se *sendErr
	if !errors.As(err, &se) || !se.temp || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("send on a full disk: %v, want a temporary failure", err)
	}
	if f := files(t, dir); len(f) != 0 {
		t.Fatalf("files after the failed write: %v", f)
	}

	tr.wrap = nil
	for i := 0; i < 3; i++ {
		if err := (maildirSession{tr}).send(msg); err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	f := files(t, dir)
	if len(f) != 1 || !strings.HasPrefix(f[0], "new/42.0123456789abcdef.herald.") {
		t.Fatalf("files after three tries: %v, want one in new/", f)
	}
	b, _ := os.ReadFile(filepath.Join(dir, f[0]))
	if len(b) != len("Subject: x\n\n")+1000*len("line of text\n") {
		t.Fatalf("message file has %d bytes", len(b))
	}
	// A mail reader moves it to cur/ with flags; a retry still sees it.
	name := strings.TrimPrefix(f[0], "new/")
	if err := os.Rename(filepath.Join(dir, f[0]), filepath.Join(dir, "cur", name+":2,S")); err != nil {
		t.Fatal(err)
	}
	if err := (maildirSession{tr}).send(msg); err != nil {
		t.Fatal(err)
	}
	if f := files(t, dir); len(f) != 1 {
		t.Fatalf("files after a retry of a read message: %v", f)
	}
}
