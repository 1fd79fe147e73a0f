package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/mailer/smtptest"
	"herald/webhooks"
)

// TestIntegrations_Binary runs the real daemon with an ingest source, a
// webhook receiver and a WebSub subscriber, all real HTTP servers: a CMS
// item becomes a release, which reaches the webhook (signed) and the
// WebSub callback (as the new feed); the CLI lists and runs the source.
func TestIntegrations_Binary(t *testing.T) {
	cmsFeed := `<?xml version="1.0"?><rss version="2.0"><channel><title>CMS</title><link>https://www.example.org/</link>
<item><guid>cms-1</guid><title>Ingested from the CMS</title><link>https://www.example.org/en/news/1</link>
<description>Body from the CMS.</description></item></channel></rss>`
	cms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, cmsFeed)
	}))
	defer cms.Close()
	var mu sync.Mutex
	var hookBodies []string
	var hookErr error
	secret := ""
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhooks.Verify(secret, r.Header, b, time.Now()); err != nil {
			hookErr = err
		}
		hookBodies = append(hookBodies, string(b))
	}))
	defer hook.Close()
	var pushes []string
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		pushes = append(pushes, string(b))
		mu.Unlock()
	}))
	defer sub.Close()

	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	d := startDaemon(t, dir, "HERALD_ADDR="+addr, "HERALD_BASE_URL="+base, "HERALD_OUTBOUND_ALLOW_PRIVATE=true")
	token := readToken(t, dir)

	var created map[string]any
	if code := d.api(t, token, "POST", "/api/v1/webhooks", `{"url":"`+hook.URL+`","events":["release.published"]}`, &created); code != 201 {
		t.Fatalf("webhook: %d %v", code, created)
	}
	mu.Lock()
	secret = created["secret"].(string)
	mu.Unlock()
	topic := base + "/feed.rss?topic=migration"
	resp, err := http.PostForm(base+"/websub", url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {sub.URL}})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("websub subscribe: %v %v", resp, err)
	}
	time.Sleep(1500 * time.Millisecond) // intent verification by the leader's hub loop

	var src map[string]any
	if code := d.api(t, token, "POST", "/api/v1/sources", `{"url":"`+cms.URL+`","mode":"publish","topics":["migration"],"interval":"1h"}`, &src); code != 201 {
		t.Fatalf("source: %d %v", code, src)
	}
	id := src["id"].(string)
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		done := len(hookBodies) > 0 && len(pushes) > 0
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s: %d webhook posts, %d WebSub pushes\n%s", len(hookBodies), len(pushes), d.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	if hookErr != nil || !strings.Contains(hookBodies[0], "Ingested from the CMS") || !strings.Contains(pushes[0], "Ingested from the CMS") {
		t.Fatalf("webhook %v %q, push %q", hookErr, hookBodies[0], pushes[0])
	}
	mu.Unlock()

	var runs struct{ Items []map[string]any }
	if code := d.api(t, token, "GET", "/api/v1/sources/"+id+"/runs", "", &runs); code != 200 || len(runs.Items) == 0 || runs.Items[0]["new"] != float64(1) {
		t.Fatalf("runs: %d %+v", code, runs)
	}
	out, errOut, code := cli(t, dir, "", "sources", "run", "--outbound-allow-private=true", id)
	if code != 0 || !strings.Contains(out, "0 new") || !strings.Contains(out, "1 unchanged") {
		t.Fatalf("sources run: %d %q %q", code, out, errOut)
	}
	out, _, code = cli(t, dir, "", "sources", "list")
	if code != 0 || !strings.Contains(out, cms.URL) || !strings.Contains(out, "publish") {
		t.Fatalf("sources list: %d %q", code, out)
	}
	if _, _, code := cli(t, dir, "", "sources", "run", "x"); code != 2 {
		t.Fatalf("sources run x: exit %d, want 2", code)
	}
	d.stop(t)
}

// TestIntegrations_AlertFinishedAndSubscriberEvents runs the real daemon
// with a real SMTP server and a real webhook receiver: staff add two
// subscribers (subscriber.confirmed each), a release goes live, its
// automatic alert is sent over SMTP (one recipient refused for good), and
// alert.finished arrives once with the counts; staff then unsubscribe one
// subscriber and erase the other (subscriber.unsubscribed twice, the second
// without personal data).
func TestIntegrations_AlertFinishedAndSubscriberEvents(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	srv.OnRcpt(func(to string) error {
		if strings.HasPrefix(to, "refused@") {
			return smtptest.Reply(550, "5.1.1 no such user")
		}
		return nil
	})
	var mu sync.Mutex
	var types []string
	var bodies []string
	secret := ""
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if webhooks.Verify(secret, r.Header, b, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev struct{ Type string }
		_ = json.Unmarshal(b, &ev)
		types, bodies = append(types, ev.Type), append(bodies, string(b))
	}))
	defer hook.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	d := startDaemon(t, dir, "HERALD_ADDR="+addr, "HERALD_BASE_URL=http://"+addr, "HERALD_OUTBOUND_ALLOW_PRIVATE=true",
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr), "HERALD_FROM=Press Office <press@example.org>")
	token := readToken(t, dir)
	var created map[string]any
	if code := d.api(t, token, "POST", "/api/v1/webhooks", `{"url":"`+hook.URL+`","events":["alert.finished","subscriber.confirmed","subscriber.unsubscribed"]}`, &created); code != 201 {
		t.Fatalf("webhook: %d %v", code, created)
	}
	mu.Lock()
	secret = created["secret"].(string)
	mu.Unlock()
	ids := map[string]string{}
	for _, email := range []string{"ana@example.org", "refused@example.org"} {
		var sub map[string]any
		if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"`+email+`","confirmed":true,"cadence":"immediate"}`, &sub); code != 201 {
			t.Fatalf("add %s: %d %v", email, code, sub)
		}
		ids[email] = sub["id"].(string)
	}
	var rel map[string]any
	if code := d.api(t, token, "POST", "/api/v1/releases", `{"title":"Alert that finishes","body":"Body.","topics":["migration"],"status":"published"}`, &rel); code != 201 {
		t.Fatalf("release: %d %v", code, rel)
	}
	seen := func(typ string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for i, ty := range types {
			if ty == typ {
				out = append(out, bodies[i])
			}
		}
		return out
	}
	waitFor(t, "alert.finished", 30*time.Second, func() bool { return len(seen("alert.finished")) > 0 })
	fin := seen("alert.finished")[0]
	if !strings.Contains(fin, `"release_id":"`+rel["id"].(string)+`"`) || !strings.Contains(fin, `"sent":1`) ||
		!strings.Contains(fin, `"failed":1`) || !strings.Contains(fin, `"cancelled":0`) || !strings.Contains(fin, `"started_at"`) {
		t.Fatalf("alert.finished %s", fin)
	}
	if srv.Count() != 1 {
		t.Fatalf("%d messages accepted, want 1", srv.Count())
	}
	if n := len(seen("subscriber.confirmed")); n != 2 {
		t.Fatalf("%d subscriber.confirmed, want 2", n)
	}
	if code := d.api(t, token, "PATCH", "/api/v1/subscribers/"+ids["ana@example.org"], `{"status":"unsubscribed"}`, nil); code != 200 {
		t.Fatalf("patch: %d", code)
	}
	if code := d.api(t, token, "DELETE", "/api/v1/subscribers/"+ids["refused@example.org"], "", nil); code != 204 && code != 200 {
		t.Fatalf("erase: %d", code)
	}
	waitFor(t, "two subscriber.unsubscribed", 20*time.Second, func() bool { return len(seen("subscriber.unsubscribed")) == 2 })
	un := strings.Join(seen("subscriber.unsubscribed"), "\n")
	if !strings.Contains(un, "ana@example.org") || strings.Contains(un, "refused@example.org") || !strings.Contains(un, `"erased":true`) {
		t.Fatalf("subscriber.unsubscribed events:\n%s", un)
	}
	time.Sleep(3 * time.Second) // further leader rounds finish nothing twice
	if n := len(seen("alert.finished")); n != 1 {
		t.Fatalf("alert.finished delivered %d times", n)
	}
	d.stop(t)
}
