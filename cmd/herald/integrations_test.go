package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

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
