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

// TestReleasePages_Browser loads an Arabic (right-to-left) and an English
// release page in headless Chromium at desktop and phone widths (SPEC 10:
// no horizontal overflow) and checks that the title is on screen.
func TestReleasePages_Browser(t *testing.T) {
	ctx := browsertest.New(t, 1280, 900)
	shots := browsertest.Artifacts(t)
	s := newFeedSite(t)
	ar := releasesInput("اليمن: ارتفاع عدد المهاجرين القادمين من القرن الأفريقي")
	ar.Language, ar.Dateline, ar.TranslationKey = feedStr("ar"), feedStr("عدن"), feedStr("yemen-arrivals")
	ar.Body = feedStr("وصل أكثر من **عشرة آلاف** مهاجر إلى سواحل اليمن هذا الشهر.\n\nتقدم الفرق المساعدة في عدن.")
	en := releasesInput("Yemen: arrivals from the Horn of Africa rise")
	en.Language, en.Dateline, en.TranslationKey = feedStr("en"), feedStr("Aden"), feedStr("yemen-arrivals")
	pages := map[string]string{"ar": "/releases/" + s.add(t, ar).Slug + "?lang=ar", "en": "/releases/" + s.add(t, en).Slug + "?lang=en"}

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
				if got.ScrollWidth > got.ClientWidth {
					t.Errorf("horizontal overflow: scrollWidth %v > clientWidth %v", got.ScrollWidth, got.ClientWidth)
				}
				if wantDir := map[string]string{"ar": "rtl", "en": ""}[lang]; got.Dir != wantDir {
					t.Errorf("dir %q, want %q", got.Dir, wantDir)
				}
				if got.Title == "" || got.Height <= 0 || got.Left < 0 || got.Right > got.ClientWidth || !got.TitleVisible {
					t.Errorf("the title is not visible on screen: %+v", got)
				}
			})
		}
	}
}
