package admin

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"herald/internal/browsertest"
	"herald/releases"
	"herald/staff"
	"herald/store"
)

// TestConsole_Accessibility runs axe-core in headless Chromium over every
// console page (SPEC 10: no serious or critical violation): the pages
// before signing in, then, signed in as an admin, every page of the
// console, a form with errors, an alert's progress and the error page.
func TestConsole_Accessibility(t *testing.T) {
	ctx := browsertest.New(t, 1280, 900)
	s := newAdminSite(t, adminSiteOpts{})
	s.seed(store.SeedSubscriber{Email: "reader@example.org", Cadence: "immediate"})
	rel := s.release("Floods displace thousands in the Sahel", func(in *releases.Input) {
		in.Topics = &releases.List{"displacement"}
	})
	s.release("اليمن: ارتفاع عدد المهاجرين", func(in *releases.Input) { in.Language = ptr("ar") })
	const pass = "river stone lantern 7"
	s.member("admin@example.org", "admin", pass)
	_, invite, err := s.staff.Create(context.Background(), staff.CreateInput{Email: "new@example.org", Role: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(invite)
	base := s.srv.URL

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		// Generous: signing in hashes a password, and CI machines are busy.
		c, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		browsertest.AxeCheck(t, ctx, name)
	}
	main := chromedp.WaitReady(chromedp.CSS("main"))
	step("login", chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.ID("email")))
	step("forgot", chromedp.Navigate(base+"/admin/forgot"), main)
	step("set password", chromedp.Navigate(base+u.RequestURI()), main)
	step("login failed", chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.org"), chromedp.SendKeys(chromedp.ID("password"), "wrong words here"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("email")))
	step("dashboard", chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.org"), chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("figure.chart")))
	step("releases", chromedp.Navigate(base+"/admin/releases"), chromedp.WaitVisible(chromedp.CSS("ul.rel-list")))
	step("releases filtered", chromedp.Navigate(base+"/admin/releases?lang=ar&status=published"), main)
	step("editor new", chromedp.Navigate(base+"/admin/releases/new"), chromedp.WaitVisible(chromedp.ID("title")))
	step("editor errors", chromedp.SendKeys(chromedp.ID("title"), "No topic yet"), chromedp.SendKeys(chromedp.ID("body"), "Text."),
		chromedp.Click(chromedp.CSS(`button[name=action][value=save]`)), chromedp.WaitVisible(chromedp.ID("topics-error")))
	step("editor", chromedp.Navigate(fmt.Sprintf("%s/admin/releases/%d", base, rel.ID)), chromedp.WaitVisible(chromedp.ID("title")))
	step("alert dialog", chromedp.Navigate(fmt.Sprintf("%s/admin/releases/%d/alert", base, rel.ID)), chromedp.WaitVisible(chromedp.ID("recipient-count")))
	step("alert progress", chromedp.Click(chromedp.ID("send-alert")), chromedp.WaitVisible(chromedp.ID("progress-bar")))
	step("audit", chromedp.Navigate(base+"/admin/audit"), main)
	step("webhooks", chromedp.Navigate(base+"/admin/webhooks"), main)
	step("sources", chromedp.Navigate(base+"/admin/sources"), main)
	step("not found", chromedp.Navigate(base+"/admin/no-such-page"), main)
	step("phone dashboard", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS("figure.chart")))
}
