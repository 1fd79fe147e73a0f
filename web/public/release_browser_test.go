package public

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"herald/internal/browsertest"
)

// layoutProbe measures a page as the visitor sees it: horizontal overflow,
// the scroll position, and whether the title is on screen and not covered
// (elementFromPoint at its centre is the title itself).
const layoutProbe = `(function(){
  var d = document.documentElement, h = document.querySelector("article.release h1");
  var r = h ? h.getBoundingClientRect() : null;
  var hit = r ? document.elementFromPoint(r.left + Math.min(r.width, d.clientWidth) / 2, r.top + r.height / 2) : null;
  return {
    scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, scrollX: window.scrollX,
    dir: d.dir, title: h ? h.textContent.trim() : "",
    left: r ? r.left : -1, right: r ? r.right : -1, height: r ? r.height : 0,
    titleVisible: !!(hit && h.contains(hit))
  };
})()`

type layout struct {
	ScrollWidth  float64 `json:"scrollWidth"`
	ClientWidth  float64 `json:"clientWidth"`
	ScrollX      float64 `json:"scrollX"`
	Dir          string  `json:"dir"`
	Title        string  `json:"title"`
	Left         float64 `json:"left"`
	Right        float64 `json:"right"`
	Height       float64 `json:"height"`
	TitleVisible bool    `json:"titleVisible"`
}

// overflowProbe measures the document's width against the viewport's.
const overflowProbe = `(function(){ var d = document.documentElement; return [d.scrollWidth, d.clientWidth]; })()`

// TestReleasePages_Browser loads an Arabic (right-to-left) and an English
// release page in headless Chromium at desktop and phone widths (SPEC 10:
// no horizontal overflow, also with the skip link focused) and checks that
// the title is on screen; the Arabic subscribe form, the widest page, too.
// Screenshots go to $HERALD_ARTIFACTS (or a temporary directory).
func TestReleasePages_Browser(t *testing.T) {
	ctx := browsertest.New(t, 1280, 900)
	shots := browsertest.Artifacts(t)
	s := newFullSite(t)
	s.publicPages(t) // the Arabic and English releases yemen-ar and yemen-en
	pages := map[string]string{"ar": "/releases/yemen-ar?lang=ar", "en": "/releases/yemen-en?lang=en"}

	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		for _, lang := range []string{"ar", "en"} {
			name := fmt.Sprintf("release-%s-%s", lang, size.name)
			t.Run(name, func(t *testing.T) {
				c, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				var opts []chromedp.EmulateViewportOption
				if size.mobile {
					opts = append(opts, chromedp.EmulateMobile)
				}
				if err := chromedp.Do(c, chromedp.EmulateViewport(size.width, size.height, opts...),
					chromedp.Navigate(s.srv.URL+pages[lang]), chromedp.WaitVisible(chromedp.CSS("article.release h1"))); err != nil {
					t.Fatal(err)
				}
				got, err := chromedp.Run(c, chromedp.Evaluate[layout](layoutProbe))
				if err != nil {
					t.Fatal(err)
				}
				browsertest.ViewShot(t, ctx, shots, name)
				t.Logf("%+v", got)
				if got.ScrollWidth != got.ClientWidth || got.ScrollX != 0 {
					t.Errorf("horizontal overflow: scrollWidth %v, clientWidth %v, scrollX %v", got.ScrollWidth, got.ClientWidth, got.ScrollX)
				}
				if wantDir := map[string]string{"ar": "rtl", "en": ""}[lang]; got.Dir != wantDir {
					t.Errorf("dir %q, want %q", got.Dir, wantDir)
				}
				if got.Title == "" || got.Height <= 0 || got.Left < 0 || got.Right > got.ClientWidth || !got.TitleVisible {
					t.Errorf("the title is not visible on screen: %+v", got)
				}
				// The skip link, shown on focus, stays inside the page.
				if err := chromedp.Do(c, chromedp.Focus(chromedp.CSS("a.skip"))); err != nil {
					t.Fatal(err)
				}
				checkNoOverflow(t, c, "with the skip link focused")
				if lang == "ar" {
					if err := chromedp.Do(c, chromedp.Navigate(s.srv.URL+"/subscribe?lang=ar"), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
						t.Fatal(err)
					}
					browsertest.ViewShot(t, ctx, shots, "subscribe-ar-"+size.name)
					checkNoOverflow(t, c, "the Arabic subscribe form")
				}
			})
		}
	}
	t.Logf("screenshots in %s", shots)
}

// checkNoOverflow fails when the page loaded in ctx is wider than the
// viewport.
func checkNoOverflow(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[[2]float64](overflowProbe))
	if err != nil {
		t.Fatal(err)
	}
	if w[0] != w[1] {
		t.Errorf("%s: scrollWidth %v, clientWidth %v", what, w[0], w[1])
	}
}
