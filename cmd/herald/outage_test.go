package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/mailer"
	"herald/mailer/smtptest"
	"herald/store"
	"herald/store/storetest"
)

// cutProxy forwards TCP connections to a server until cut: then it drops
// every connection and refuses new ones, as a database host that vanished
// from the network would, until restored.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
	}
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestServe_DatabaseLostMidRun cuts the network path to PostgreSQL while
// herald sends: requests answer 503, /healthz says why, the mailer pauses,
// and once the database is back everything queued is sent, with duplicates
// only among the messages in flight at the cut (SPEC 5.4, 6).
func TestServe_DatabaseLostMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon")
	}
	dsn := storetest.Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	viaProxy := u.String()

	const n = 300
	queueNotices(t, viaProxy, n)
	srv := smtptest.New(t, smtptest.Options{})
	srv.OnData(func(string, []string, []byte) error { time.Sleep(5 * time.Millisecond); return nil })
	d := startDaemon(t, t.TempDir(), "HERALD_DB="+viaProxy, "HERALD_ADMIN_TOKEN=outage-token", "HERALD_SEND_CONCURRENCY=4",
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s:%d?tls=none", srv.Host, srv.Port))
	waitFor(t, "the first messages", 30*time.Second, func() bool { return srv.Count() >= 30 })

	proxy.cut()
	atCut := srv.Count()
	var body struct{ Error string }
	waitFor(t, "the API to answer 503", 20*time.Second, func() bool {
		return d.api(t, "outage-token", "GET", "/api/v1/releases", "", &body) == http.StatusServiceUnavailable
	})
	if !strings.Contains(body.Error, "database is unavailable") {
		t.Errorf("503 body = %+v", body)
	}
	resp, err := http.Get(d.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	health, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(health), "database unavailable: ") {
		t.Errorf("/healthz during the outage: %d %q", resp.StatusCode, health)
	}
	time.Sleep(3 * time.Second)
	duringOutage := srv.Count() - atCut
	if duringOutage > 8 {
		t.Errorf("%d messages went out while the database was gone; the workers should pause", duringOutage)
	}

	proxy.restore()
	distinct := func() int {
		seen := map[string]bool{}
		for _, m := range srv.Messages() {
			seen[m.To[0]] = true
		}
		return len(seen)
	}
	waitFor(t, "every message after the database came back", 90*time.Second, func() bool { return distinct() == n })
	waitFor(t, "/healthz to be ok again", 20*time.Second, func() bool { return get(t, d.base+"/healthz") == "ok" })
	time.Sleep(time.Second)
	if dups := srv.Count() - n; dups > 4 {
		t.Fatalf("%d duplicates; at most the 4 in-flight messages may be sent twice", dups)
	}
	t.Logf("cut after %d messages, %d sent during the outage, %d duplicates", atCut, duringOutage, srv.Count()-n)
	d.stop(t)
}

// queueNotices seeds n pending subscribers and their confirmation mail.
func queueNotices(t *testing.T, dsn string, n int) {
	t.Helper()
	ctx := context.Background()
	db, ids := seedDB(t, dsn, n, func(i int) store.SeedSubscriber {
		return store.SeedSubscriber{Email: fmt.Sprintf("waiting%d@example.net", i), Status: "pending"}
	})
	defer db.Close()
	items := make([]store.OutboxItem, len(ids))
	for i, id := range ids {
		items[i], _ = mailer.NoticeItem(mailer.KindConfirm, id, fmt.Sprintf("confirm:%d", id), mailer.NoticeData{ConfirmURL: "http://127.0.0.1/c"})
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.Enqueue(ctx, time.Now(), items); return err }); err != nil {
		t.Fatal(err)
	}
}
