package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAxe_FindsViolations shows that the vendored axe-core runs and finds
// what it should on a page built to fail, behind a CSP like herald's.
func TestAxe_FindsViolations(t *testing.T) {
	ctx := New(t, 800, 600)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>bad</title></head><body>
<main><h1>Bad page</h1><img src="/x.png"><form><input type="text" name="q"></form>
<p style="color:#aaa;background:#fff">low contrast</p></main></body></html>`))
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	vs, err := Axe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID+"/"+v.Impact)
		if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 {
			t.Errorf("%s has no target", v.ID)
		}
	}
	for _, want := range []string{"html-has-lang/serious", "image-alt/critical", "label/critical"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe did not report %s: %v", want, ids)
		}
	}
}
