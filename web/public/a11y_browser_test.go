package public

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"herald/internal/browsertest"
)

// TestPublicPages_Accessibility runs axe-core in headless Chromium over
// every public page, in English and in Arabic (SPEC 10: no serious or
// critical violation): home, releases in both directions, the 404 page,
// subscribe (blank, with errors, sent), confirm, preferences, delete,
// unsubscribe and a message page.
func TestPublicPages_Accessibility(t *testing.T) {
	ctx := browsertest.New(t, 1280, 900)
	s := newFullSite(t)
	pages := s.publicPages(t)
	for _, lang := range []string{"en", "ar"} {
		for _, p := range pages {
			path := join(p.path, "lang="+lang)
			t.Run(lang+path, func(t *testing.T) {
				c, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if err := chromedp.Do(c, chromedp.Navigate(s.srv.URL+path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
					t.Fatal(err)
				}
				browsertest.AxeCheck(t, ctx, lang+" "+path)
			})
		}
		t.Run(lang+"/subscribe-errors-and-sent", func(t *testing.T) {
			c, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			// The browser's own checks off, as an old browser would send it.
			if err := chromedp.Do(c, chromedp.Navigate(s.srv.URL+"/subscribe?lang="+lang), chromedp.WaitVisible(chromedp.ID("email")),
				chromedp.Evaluate[chromedp.Void](`document.querySelector("form.prefs").noValidate = true; document.getElementById("email").value = "not-an-address"`),
				chromedp.Click(chromedp.CSS(`form.prefs button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("errors"))); err != nil {
				t.Fatal(err)
			}
			browsertest.AxeCheck(t, ctx, lang+" /subscribe with errors")
			if err := chromedp.Do(c, chromedp.SetValue(chromedp.ID("email"), "new-reader@example.org"),
				chromedp.Click(chromedp.CSS(`form.prefs button[type=submit]`)), chromedp.WaitNotPresent(chromedp.ID("email"))); err != nil {
				t.Fatal(err)
			}
			browsertest.AxeCheck(t, ctx, lang+" /subscribe sent")
		})
	}
}
