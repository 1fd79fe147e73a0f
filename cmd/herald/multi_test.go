package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"herald/mailer/smtptest"
	"herald/store"
	"herald/store/storetest"
)

// TestMultiInstance_SharePostgres runs two `herald serve` processes on one
// PostgreSQL database with one SMTP server (SPEC 6): a release published
// through one shows in the other's feed within 5 s; the alert it causes
// goes to several thousand subscribers from both instances; the leader is
// killed with SIGKILL while sending; the other takes the leadership over,
// puts an embargoed release live, and finishes the mail: every recipient
// gets each alert exactly once, except at most the killed instance's
// in-flight messages (HERALD_SEND_CONCURRENCY=4).
func TestMultiInstance_SharePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two daemons")
	}
	dsn := storetest.Postgres(t)
	const n = 3000
	seedImmediate(t, dsn, n)
	srv := smtptest.New(t, smtptest.Options{})
	srv.OnData(func(string, []string, []byte) error { time.Sleep(2 * time.Millisecond); return nil })
	env := []string{"HERALD_DB=" + dsn, "HERALD_ADMIN_TOKEN=multi-token", "HERALD_SEND_CONCURRENCY=4",
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s:%d?tls=none", srv.Host, srv.Port)}
	a := startDaemon(t, t.TempDir(), env...)
	waitFor(t, "the first instance to lead", 15*time.Second, func() bool { return leads(t, a) })
	b := startDaemon(t, t.TempDir(), env...)
	waitFor(t, "the second instance's metrics", 15*time.Second, func() bool { return metric(t, b, "herald_instances") == "2" })
	if leads(t, b) {
		t.Fatal("two leaders at once")
	}

	// Published through b, shown by a's feed within 5 s.
	var rel struct{ ID string }
	body := `{"title": "Shared by every instance", "body": "Both instances see this.", "topics": ["migration"]}`
	if code := b.api(t, "multi-token", "POST", "/api/v1/releases", body, &rel); code != 201 {
		t.Fatalf("create on b: %d", code)
	}
	published := time.Now()
	waitFor(t, "a's feed to show b's release", 5*time.Second, func() bool {
		return strings.Contains(get(t, a.base+"/feed.json"), "Shared by every instance")
	})
	t.Logf("a's feed showed b's release after %v", time.Since(published).Round(time.Millisecond))

	// An embargoed release that must go live after the leader dies.
	at := time.Now().Add(10 * time.Second).UTC().Format(time.RFC3339)
	var emb struct {
		ID     string
		LiveAt *string `json:"live_at"`
	}
	body = `{"title": "Embargoed until the leader is gone", "body": "x", "topics": ["migration"], "published_at": "` + at + `"}`
	if code := b.api(t, "multi-token", "POST", "/api/v1/releases", body, &emb); code != 201 {
		t.Fatalf("create embargoed: %d", code)
	}

	// Both instances send the alert; kill the leader in the middle.
	waitFor(t, "the alert to be under way", 60*time.Second, func() bool { return srv.Count() >= 600 })
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	killed := time.Now()
	atKill := srv.Count()
	if atKill >= n {
		t.Fatalf("the alert was sent before the kill (%d messages); the test proves nothing", atKill)
	}
	waitFor(t, "b to take the leadership over", 30*time.Second, func() bool { return leads(t, b) })
	t.Logf("b leads %v after a was killed", time.Since(killed).Round(time.Millisecond))
	waitFor(t, "the embargoed release to go live", 40*time.Second, func() bool {
		b.api(t, "multi-token", "GET", "/api/v1/releases/"+emb.ID, "", &emb)
		return emb.LiveAt != nil
	})

	// Every subscriber gets both alerts; duplicates only of a's in-flight.
	perSubject := func() map[string]map[string]int {
		out := map[string]map[string]int{}
		for _, m := range srv.Messages() {
			pm, err := m.Parse()
			if err != nil {
				continue
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
			if out[subj] == nil {
				out[subj] = map[string]int{}
			}
			out[subj][m.To[0]]++
		}
		return out
	}
	waitFor(t, "both alerts to reach every subscriber", 120*time.Second, func() bool {
		got := perSubject()
		return len(got["Shared by every instance"]) == n && len(got["Embargoed until the leader is gone"]) == n
	})
	time.Sleep(2 * time.Second) // anything still to come would be a duplicate
	dups := 0
	for subj, byTo := range perSubject() {
		for to, c := range byTo {
			if c > 1 {
				dups += c - 1
				t.Logf("%q sent %d times to %s", subj, c, to)
			}
		}
	}
	if dups > 4 {
		t.Fatalf("%d duplicates; at most the killed instance's 4 in-flight messages may be sent twice", dups)
	}
	t.Logf("killed a after %d of %d messages; %d duplicate(s)", atKill, 2*n, dups)
	b.stop(t)
}

// seedImmediate adds n active subscribers of cadence immediate, who follow
// every topic and region.
func seedImmediate(t *testing.T, dsn string, n int) {
	t.Helper()
	db, _ := seedDB(t, dsn, n, func(i int) store.SeedSubscriber {
		return store.SeedSubscriber{Email: fmt.Sprintf("reader%d@example.net", i), Cadence: "immediate"}
	})
	db.Close()
}

// seedDB opens the database at dsn and seeds the n subscribers mk makes;
// the caller closes it.
func seedDB(t *testing.T, dsn string, n int, mk func(i int) store.SeedSubscriber) (*store.DB, []int64) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]store.SeedSubscriber, n)
	for i := range subs {
		subs[i] = mk(i)
	}
	ids, err := db.SeedSubscribers(context.Background(), subs)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db, ids
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metric reads one unlabelled value from a daemon's /metrics.
func metric(t *testing.T, d *daemon, name string) string {
	t.Helper()
	for _, line := range strings.Split(get(t, d.base+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

func leads(t *testing.T, d *daemon) bool { return metric(t, d, "herald_leader") == "1" }
