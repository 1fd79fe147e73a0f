package releases_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"herald/releases"
)

// FuzzCreate feeds arbitrary JSON to decoding and validation: it must never
// panic, and whatever is accepted must be stored normalized (one-line valid
// UTF-8 title within limits, sanitized HTML, a well-formed slug).
func FuzzCreate(f *testing.F) {
	f.Add([]byte(`{"title":"Road map","body":"Text","topics":["migration"]}`))
	f.Add([]byte(`{"title":"a\r\nBcc: x@y","body":"<script>x</script>hi","body_format":"html","topics":"migration,health"}`))
	f.Add([]byte(`{"title":"\u0000\u202e","body":"**b**","topics":["migration"],"regions":["americas"],"published_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"title":["x"]}`))
	f.Add([]byte("{\"title\":\"caf\xe9\",\"body\":\"x\",\"topics\":[\"migration\"],\"slug\":\"a--b\"}"))
	svc, _ := newService(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := releases.DecodeInput(data)
		if err != nil {
			var ve *releases.ValidationError
			if !errors.Is(err, releases.ErrMalformed) && !errors.As(err, &ve) {
				t.Fatalf("DecodeInput error of unknown kind: %v", err)
			}
			return
		}
		r, err := svc.Create(context.Background(), in)
		if err != nil {
			return
		}
		if r.Title == "" || utf8.RuneCountInString(r.Title) > releases.MaxTitle || !utf8.ValidString(r.Title) ||
			strings.ContainsAny(r.Title, "\r\n\t\x00") {
			t.Fatalf("accepted bad title %q", r.Title)
		}
		if !releases.ValidSlug(r.Slug) {
			t.Fatalf("accepted bad slug %q", r.Slug)
		}
		if strings.Contains(strings.ToLower(r.BodyHTML), "<script") {
			t.Fatalf("script survived: %s", r.BodyHTML)
		}
	})
}
