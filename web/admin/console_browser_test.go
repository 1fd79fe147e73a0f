package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"herald/internal/browsertest"
	"herald/releases"
	"herald/store"
	"herald/subscribers"
)

// consoleProblems collects what the page reports as wrong: script errors,
// CSP violations, failed loads.
type consoleProblems struct {
	mu   sync.Mutex
	list []string
}

func (c *consoleProblems) add(s string) {
	c.mu.Lock()
	c.list = append(c.list, s)
	c.mu.Unlock()
}

func (c *consoleProblems) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list)
}

// TestAdminBrowser drives the console in headless Chromium: log in, create
// a release with the live preview, open the alert dialog and see the right
// recipient count, send, watch the progress reach 100% while the mailer
// delivers to an in-process SMTP server, look at the pages on a phone-sized
// screen, log out. Each page is saved as a screenshot.
func TestAdminBrowser(t *testing.T) {
	bctx := browsertest.New(t, 1280, 900)
	shots := browsertest.Artifacts(t)
	s := newAdminSite(t, adminSiteOpts{smtp: true})
	ctx := context.Background()

	// Six active subscribers match a global release on migration (four
	// in English with daily digests, two in French with immediate alerts);
	// one follows another topic, one unsubscribed, one is pending.
	var seed []store.SeedSubscriber
	for i := range 4 {
		seed = append(seed, store.SeedSubscriber{Email: fmt.Sprintf("reader%d@example.org", i), Cadence: "daily"})
	}
	seed = append(seed,
		store.SeedSubscriber{Email: "lectrice@example.fr", Cadence: "immediate", Language: "fr"},
		store.SeedSubscriber{Email: "lecteur@example.fr", Cadence: "immediate", Language: "fr"},
		store.SeedSubscriber{Email: "gone@example.org", Status: "unsubscribed"},
		store.SeedSubscriber{Email: "later@example.org", Status: "pending"})
	s.seed(seed...)
	if _, err := s.subs.Add(ctx, subscribersAdd("children-only@example.org", "children")); err != nil {
		t.Fatal(err)
	}
	s.release("Earlier release on displacement in the Sahel", func(in *releases.Input) {
		in.Topics = &releases.List{"displacement"}
		in.Regions = &releases.List{"africa"}
	})
	s.release("Embargoed: annual migration report", func(in *releases.Input) {
		in.PublishedAt = ptr(time.Now().Add(26 * time.Hour).UTC().Format(time.RFC3339))
	})
	s.release("Draft statement on resettlement", func(in *releases.Input) { in.Status = ptr("draft") })

	const pubPass, viewerPass = "river stone lantern 7", "quiet orchard window 3"
	s.member("desk@example.org", "publisher", pubPass)
	s.member("reader@press.example.org", "viewer", viewerPass)

	problems := &consoleProblems{}
	if err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			// A 422 is the answer to a form with errors, on purpose.
			if (e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning) &&
				!strings.Contains(e.Entry.Text, "status of 422") &&
				// The viewer's refused visit to the editor, on purpose.
				!(strings.Contains(e.Entry.Text, "status of 403") && strings.HasSuffix(e.Entry.URL, "/admin/releases/new")) {
				problems.add(string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			problems.add("exception: " + e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems.add("console.error")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	run := func(step string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, timeout)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			browsertest.Shot(t, bctx, shots, "failed-"+step)
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	location := func() string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(v, s.srv.URL)
	}
	base := s.srv.URL

	// 1. A console page without a session leads to the login form.
	run("open", 15*time.Second, chromedp.Navigate(base+"/admin/releases"), chromedp.WaitVisible(chromedp.ID("email")))
	if loc := location(); loc != "/admin/login?next=%2Fadmin%2Freleases" {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	browsertest.Shot(t, bctx, shots, "01-login")

	// 2. Log in with a password, as a publisher: back to the page asked for.
	run("login", 30*time.Second, chromedp.SendKeys(chromedp.ID("email"), "Desk@example.org"),
		chromedp.SendKeys(chromedp.ID("password"), pubPass),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("ul.rel-list")))
	if loc := location(); loc != "/admin/releases" {
		t.Fatalf("after login at %s", loc)
	}
	if who := text("#who"); who != "desk@example.org · publisher" {
		t.Errorf("header shows %q", who)
	}
	if txt := text("ul.rel-list"); !strings.Contains(txt, "Embargoed") || !strings.Contains(txt, "goes live in 1 d 2 h") {
		t.Errorf("the list does not show the embargo countdown: %q", txt)
	}
	browsertest.Shot(t, bctx, shots, "02-releases")

	run("dashboard", 15*time.Second, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("figure.chart")))
	browsertest.Shot(t, bctx, shots, "03-dashboard")

	// 3. Create a release; the preview follows the form.
	const title = "IOM scales up aid as floods displace thousands"
	run("editor", 15*time.Second, chromedp.Navigate(base+"/admin/releases/new"), chromedp.WaitVisible(chromedp.ID("title")),
		chromedp.SendKeys(chromedp.ID("title"), title),
		chromedp.SendKeys(chromedp.ID("body"), "Teams are on the ground with **shelter kits** and clean water.\n\nMore follows."),
		chromedp.SendKeys(chromedp.ID("dateline"), "Geneva"))
	// Saving without a topic: the error shows next to the field, the
	// input is kept.
	run("invalid", 15*time.Second, chromedp.Click(chromedp.CSS(`button[name=action][value=save]`)),
		chromedp.WaitVisible(chromedp.ID("topics-error")))
	if v, err := chromedp.Run(bctx, chromedp.Value(chromedp.ID("title"))); err != nil || v != title {
		t.Errorf("title after the error: %q %v", v, err)
	}
	browsertest.Shot(t, bctx, shots, "04a-editor-error")
	run("fix", 15*time.Second,
		chromedp.Click(chromedp.ID("topic-migration")),
		chromedp.Click(chromedp.ID("topic-emergencies")),
		chromedp.SendKeys(chromedp.ID("contact-name-1"), "Media desk"),
		chromedp.SendKeys(chromedp.ID("contact-email-1"), "media@example.org"),
	)
	run("preview", 20*time.Second, chromedp.Poll[chromedp.Void](
		`document.getElementById("preview-subject").textContent === `+jsString(title)+
			` && document.getElementById("preview-text").textContent.includes("shelter kits")`))
	// Let the frames finish loading before the picture.
	run("frames", 10*time.Second, chromedp.Poll[chromedp.Void](
		`(function(){var f=document.getElementById("preview-mail");try{return f.contentDocument&&f.contentDocument.readyState==="complete"&&f.contentDocument.body.textContent.includes("shelter kits")}catch(e){return false}})()`))
	browsertest.Shot(t, bctx, shots, "04b-editor-preview")
	if n := countReleases(t, s); n != 3 {
		t.Fatalf("the preview or the invalid form saved something: %d releases", n)
	}
	run("save", 15*time.Second, chromedp.Click(chromedp.CSS(`button[name=action][value=save]`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if txt := text("p.notice"); txt != "The release is saved." {
		t.Errorf("notice after saving: %q", txt)
	}

	// 4. The alert dialog counts the recipients first.
	run("dialog", 15*time.Second, chromedp.Click(chromedp.CSS(`a.button[href$="/alert"]`)), chromedp.WaitVisible(chromedp.ID("recipient-count")))
	if n := text("#recipient-count"); n != "6" {
		t.Fatalf("recipient count %q, want 6", n)
	}
	if txt := text("#recipients"); !strings.Contains(txt, "immediate\t2") && !strings.Contains(txt, "immediate 2") {
		t.Logf("breakdown: %q", txt)
	}
	browsertest.Shot(t, bctx, shots, "05-alert-dialog")

	// A test copy first, then the alert.
	run("test copy", 15*time.Second, chromedp.SendKeys(chromedp.ID("test_to"), "desk@example.org"),
		chromedp.Click(chromedp.CSS(`button[name=action][value=test]`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	s.smtp.Wait(t, 3, 10*time.Second) // the two invitations and the copy
	run("send", 15*time.Second, chromedp.Click(chromedp.ID("send-alert")), chromedp.WaitVisible(chromedp.ID("progress-bar")))

	// 5. The progress bar reaches 100% while the mailer sends.
	run("progress", 30*time.Second, chromedp.Poll[chromedp.Void](
		`document.getElementById("progress-percent").textContent === "100%" && document.getElementById("progress-bar").value === 100`))
	if txt := text("#progress-summary"); !strings.HasPrefix(txt, "6 of 6 sent") {
		t.Errorf("progress summary %q", txt)
	}
	browsertest.Shot(t, bctx, shots, "06-alert-progress")
	msgs := s.smtp.Wait(t, 9, 10*time.Second)
	var to []string
	for _, m := range msgs {
		if !strings.Contains(string(m.Data), "X-Herald-Kind: staff-invite") {
			to = append(to, m.To...)
		}
	}
	slices.Sort(to)
	want := []string{"desk@example.org", "lecteur@example.fr", "lectrice@example.fr", "reader0@example.org",
		"reader1@example.org", "reader2@example.org", "reader3@example.org"}
	if !slices.Equal(to, want) {
		t.Errorf("SMTP recipients %v, want %v", to, want)
	}

	run("dashboard after", 15*time.Second, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#delivery-h")))
	browsertest.Shot(t, bctx, shots, "07-dashboard-after")

	// 6. A phone-sized screen.
	run("phone", 15*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/admin/releases"), chromedp.WaitVisible(chromedp.CSS("ul.rel-list")))
	browsertest.Shot(t, bctx, shots, "08-phone-releases")
	run("phone dashboard", 15*time.Second, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("figure.chart")))
	browsertest.Shot(t, bctx, shots, "09-phone-dashboard")
	run("phone editor", 15*time.Second, chromedp.Navigate(base+"/admin/releases/new"), chromedp.WaitVisible(chromedp.ID("title")))
	browsertest.Shot(t, bctx, shots, "10-phone-editor")
	run("desktop", 5*time.Second, chromedp.EmulateViewport(1280, 900))

	// 7. Log out: the console is closed again.
	run("logout", 15*time.Second, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/admin/logout"] button`)), chromedp.WaitVisible(chromedp.ID("email")))
	if txt := text("section.login"); !strings.Contains(txt, "You are logged out") {
		t.Errorf("after logout: %q", txt)
	}
	browsertest.Shot(t, bctx, shots, "11-logged-out")
	run("closed", 15*time.Second, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.ID("email")))
	if loc := location(); !strings.HasPrefix(loc, "/admin/login") {
		t.Errorf("after logout /admin/ shows %s", loc)
	}

	// 8. A viewer sees a console without any way to change things.
	run("viewer login", 30*time.Second, chromedp.SendKeys(chromedp.ID("email"), "reader@press.example.org"),
		chromedp.SendKeys(chromedp.ID("password"), viewerPass),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("figure.chart")))
	if who := text("#who"); who != "reader@press.example.org · viewer" {
		t.Errorf("viewer's header shows %q", who)
	}
	eval := func(expr string) bool {
		t.Helper()
		c, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	hidden := eval(`!document.querySelector('a[href="/admin/releases/new"]') && ` +
		`!document.querySelector('form[action^="/admin/digests/"]') && !document.querySelector('a[href="/admin/subscribers.csv"]') && ` +
		`!document.querySelector('a[href="/admin/audit"]')`)
	if !hidden {
		t.Error("the viewer's dashboard offers changes beyond the role")
	}
	browsertest.Shot(t, bctx, shots, "12-viewer-dashboard")
	run("viewer releases", 15*time.Second, chromedp.Navigate(base+"/admin/releases"), chromedp.WaitVisible(chromedp.CSS("ul.rel-list")))
	hidden = eval(`!document.querySelector('a.button[href$="/alert"]') && ` +
		`document.querySelector('ul.rel-list a.button').textContent.startsWith("View")`)
	if !hidden {
		t.Error("the viewer's release list offers editing or alerts")
	}
	browsertest.Shot(t, bctx, shots, "13-viewer-releases")
	run("viewer editor", 15*time.Second, chromedp.Navigate(base+"/admin/releases/new"), chromedp.WaitVisible(chromedp.CSS("main")))
	if txt := text("main"); !strings.Contains(txt, "Your role (viewer) does not allow this") {
		t.Errorf("a viewer opening the editor sees %q", txt)
	}
	browsertest.Shot(t, bctx, shots, "14-viewer-refused")
	for _, p := range problems.all() {
		t.Errorf("browser reported: %s", p)
	}
	t.Logf("screenshots in %s", shots)
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

func countReleases(t *testing.T, s *adminSite) int {
	t.Helper()
	p, err := s.rel.List(context.Background(), releases.ListQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

// subscribersAdd is a confirmed subscriber who follows one topic.
func subscribersAdd(email, topic string) subscribers.AddRequest {
	return subscribers.AddRequest{Email: email, Confirmed: true,
		Prefs: subscribers.PrefsInput{Topics: &[]string{topic}, Cadence: ptr("immediate")}}
}
