package mailer

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herald/mailer/smtptest"
	"herald/store"
	"herald/store/storetest"
)

func TestDeliver_NoticeFormat(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	ids := storetest.Subscribers(t, e.db, 3, "example.net", "pending", "en")
	for i, id := range ids {
		e.enqueue(t, confirmItem(t, "confirm:"+string(rune('a'+i)), id))
	}
	st, q := e.deliver(t)
	if st.Sent != 3 || q.Depth() != 0 {
		t.Fatalf("stats %+v queue %+v, want 3 sent and nothing left", st, q)
	}
	msgs := e.srv.Messages()
	seen := map[string]bool{}
	for _, m := range msgs {
		if len(m.To) != 1 || m.From != "press@press.example.org" {
			t.Errorf("envelope from %q to %v", m.From, m.To)
		}
		p := parseMessage(t, m.Data)
		if to := p.hdr.Get("To"); to != "<"+m.To[0]+">" && to != m.To[0] {
			t.Errorf("To: %q, want only %s", to, m.To[0])
		}
		if p.hdr.Get("Cc") != "" || p.hdr.Get("Bcc") != "" {
			t.Errorf("unexpected Cc/Bcc")
		}
		if got := decodeHeader(t, p.hdr.Get("From")); got != `"Press Office" <press@press.example.org>` && got != "Press Office <press@press.example.org>" {
			t.Errorf("From: %q", got)
		}
		if _, err := p.hdr.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		id := p.hdr.Get("Message-Id")
		if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@press.example.org>") || seen[id] {
			t.Errorf("Message-ID %q: want unique, on press.example.org", id)
		}
		seen[id] = true
		if p.hdr.Get("X-Herald-Kind") != "confirm" {
			t.Errorf("X-Herald-Kind %q", p.hdr.Get("X-Herald-Kind"))
		}
		if p.hdr.Get("List-Unsubscribe") != "" {
			t.Errorf("a confirmation carries no List-Unsubscribe")
		}
		if subj := decodeHeader(t, p.hdr.Get("Subject")); subj != "Confirm your subscription to Press Office" {
			t.Errorf("Subject %q", subj)
		}
		if !strings.Contains(p.text, "https://press.example.org/confirm?token=c") || !strings.Contains(p.html, `href="https://press.example.org/confirm?token=c`) {
			t.Errorf("confirm link missing:\n%s", p.text)
		}
		for _, line := range strings.Split(strings.ReplaceAll(p.text, "\r\n", "\n"), "\n") {
			if len([]rune(line)) > textWidth && !strings.Contains(line, "://") {
				t.Errorf("text line not wrapped: %q", line)
			}
		}
	}
	r := e.row(t, "confirm:a")
	if r.State != store.OutboxSent || r.Attempts != 1 || r.MessageID == "" || r.SentAt.IsZero() {
		t.Errorf("row %+v: want sent, 1 attempt, message id and sent_at", r)
	}
	if got := metricValue(t, e, "herald_mail_sent_total", "confirm"); got != 3 {
		t.Errorf("sent metric %v, want 3", got)
	}
}

func TestDeliver_AlertListHeaders(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	id := storetest.Subscriber(t, e.db, "reader@example.net", "active", "fr")
	e.enqueue(t, alertItem("alert:1:1", id, "Niger : 180 migrants secourus"))
	e.deliver(t)
	p := parseMessage(t, e.srv.Wait(t, 1, 5*time.Second)[0].Data)
	if got := decodeHeader(t, p.hdr.Get("Subject")); got != "Niger : 180 migrants secourus" {
		t.Errorf("Subject %q: want the title exactly", got)
	}
	if got := p.hdr.Get("List-Unsubscribe"); got != "<https://press.example.org/unsubscribe?token=u1>" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if got := p.hdr.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", got)
	}
	if got := p.hdr.Get("List-Id"); !strings.Contains(got, "<alerts.press.example.org>") {
		t.Errorf("List-Id %q", got)
	}
	if p.hdr.Get("X-Herald-Kind") != "alert" {
		t.Errorf("X-Herald-Kind %q", p.hdr.Get("X-Herald-Kind"))
	}
	for _, body := range []string{p.text, p.html} {
		if !strings.Contains(body, "https://press.example.org/unsubscribe?token=u1") ||
			!strings.Contains(body, "https://press.example.org/preferences?token=p1") {
			t.Errorf("visible unsubscribe and preferences links missing in:\n%s", body)
		}
	}
	if !strings.Contains(p.text, "Se désabonner") {
		t.Errorf("want the French footer:\n%s", p.text)
	}
}

func TestDeliver_TLSAndAuth(t *testing.T) {
	tests := []struct {
		name string
		opts smtptest.Options
	}{
		{"plain", smtptest.Options{}},
		{"starttls", smtptest.Options{TLS: smtptest.TLSStart}},
		{"implicit tls", smtptest.Options{TLS: smtptest.TLSImplicit}},
		{"starttls with auth", smtptest.Options{TLS: smtptest.TLSStart, Username: "herald", Password: "s3cret"}},
		{"implicit tls with auth", smtptest.Options{TLS: smtptest.TLSImplicit, Username: "herald", Password: "s3cret"}},
		{"plain with auth", smtptest.Options{Username: "herald", Password: "s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts, nil)
			id := storetest.Subscriber(t, e.db, "reader@example.net", "pending", "en")
			e.enqueue(t, confirmItem(t, "c1", id))
			if st, _ := e.deliver(t); st.Sent != 1 {
				t.Fatalf("stats %+v, want 1 sent", st)
			}
			if e.srv.Count() != 1 {
				t.Fatalf("server got %d messages", e.srv.Count())
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		e := newEnv(t, smtptest.Options{TLS: smtptest.TLSStart, Username: "herald", Password: "s3cret"}, func(o *Options) {
			o.SMTP.Password = "wrong"
		})
		id := storetest.Subscriber(t, e.db, "reader@example.net", "pending", "en")
		e.enqueue(t, confirmItem(t, "c1", id))
		st, q := e.deliver(t)
		if st.Sent != 0 || st.Deferred != 1 || q.Deferred != 1 {
			t.Fatalf("stats %+v queue %+v: a refused login defers the message", st, q)
		}
	})
}

func TestDeliver_TempFailureThenSuccess(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	var refused atomic.Int32
	e.srv.OnRcpt(func(to string) error {
		if to == "slow@example.net" && refused.Add(1) == 1 {
			return smtptest.Reply(451, "4.3.0 try again later")
		}
		return nil
	})
	slow := storetest.Subscriber(t, e.db, "slow@example.net", "active", "en")
	fast := storetest.Subscriber(t, e.db, "fast@example.net", "active", "en")
	e.enqueue(t, alertItem("a:slow", slow, "T"), alertItem("a:fast", fast, "T"))
	st, q := e.deliver(t)
	if st.Sent != 1 || st.Deferred != 1 || q.Deferred != 1 {
		t.Fatalf("stats %+v queue %+v", st, q)
	}
	r := e.row(t, "a:slow")
	wait := r.NextAttempt.Sub(e.clock.Now())
	if r.State != store.OutboxQueued || r.Attempts != 1 || !strings.Contains(r.LastError, "451") ||
		wait < 48*time.Second || wait > 72*time.Second {
		t.Fatalf("row %+v (next in %v): want queued, 1 attempt, 451 noted, retry after RetryMin±20%%", r, wait)
	}
	// Not due yet: nothing happens.
	if st, _ := e.deliver(t); st.Sent != 1 {
		t.Fatalf("sent before the retry time: %+v", st)
	}
	e.clock.Add(2 * time.Minute)
	if st, q := e.deliver(t); st.Sent != 2 || q.Depth() != 0 {
		t.Fatalf("after the delay: stats %+v queue %+v", st, q)
	}
	if r := e.row(t, "a:slow"); r.State != store.OutboxSent || r.Attempts != 2 {
		t.Fatalf("row %+v: want sent on attempt 2", r)
	}
	if got := metricValue(t, e, "herald_mail_deferred_total", "alert"); got != 1 {
		t.Errorf("deferred metric %v", got)
	}
}

func TestDeliver_GivesUpAfterRetryWindow(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	e.srv.OnRcpt(func(string) error { return smtptest.Reply(452, "4.2.2 mailbox full") })
	id := storetest.Subscriber(t, e.db, "full@example.net", "active", "en")
	e.enqueue(t, alertItem("a:full", id, "T"))
	for i := 0; i < 40; i++ {
		e.deliver(t)
		r := e.row(t, "a:full")
		if r.State == store.OutboxFailed {
			if got := e.clock.Now().Sub(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)); got < 48*time.Hour {
				t.Fatalf("failed after %v, before 48 h", got)
			}
			if st, _ := e.db.SubscriberStatus(context.Background(), id); st != "active" {
				t.Errorf("a temporary failure must not bounce the subscriber (status %s)", st)
			}
			return
		}
		if r.NextAttempt.After(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("next attempt %v is past the 48 h window", r.NextAttempt)
		}
		e.clock.Add(r.NextAttempt.Sub(e.clock.Now()) + time.Second)
	}
	t.Fatal("never failed")
}

func TestDeliver_BounceKeepsConnection(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Concurrency = 1 })
	e.srv.OnRcpt(func(to string) error {
		if to == "sub1@example.net" {
			return smtptest.Reply(550, "5.1.1 no such user")
		}
		return nil
	})
	ids := storetest.Subscribers(t, e.db, 4, "example.net", "active", "en")
	var items []store.OutboxItem
	for _, id := range ids {
		items = append(items, alertItem("a1:"+itoa(int(id)), id, "First"))
	}
	for _, id := range ids {
		items = append(items, alertItem("a2:"+itoa(int(id)), id, "Second"))
	}
	e.enqueue(t, items...)
	st, q := e.deliver(t)
	if st.Sent != 6 || st.Failed != 1 || st.Cancelled != 1 || q.Depth() != 0 {
		t.Fatalf("stats %+v queue %+v: want 6 sent, 1 failed, the bounced address's other message cancelled", st, q)
	}
	bounced := ids[1]
	if s, _ := e.db.SubscriberStatus(context.Background(), bounced); s != "bounced" {
		t.Errorf("subscriber status %q, want bounced", s)
	}
	if r := e.row(t, "a1:"+itoa(int(bounced))); r.State != store.OutboxFailed || !strings.Contains(r.LastError, "550") {
		t.Errorf("bounced row %+v", r)
	}
	if r := e.row(t, "a2:"+itoa(int(bounced))); r.State != store.OutboxCancelled {
		t.Errorf("other row of the bounced subscriber %+v, want cancelled", r)
	}
	msgs := e.srv.Messages()
	for _, m := range msgs {
		if m.Conn != msgs[0].Conn {
			t.Fatalf("a 5xx for one recipient must not cost the connection: messages came on connections %d and %d", msgs[0].Conn, m.Conn)
		}
	}
	if got := metricValue(t, e, "herald_mail_bounced_total", "alert"); got != 1 {
		t.Errorf("bounced metric %v", got)
	}
	// SPEC 8.3: the refusal is kept as a bounce event of source smtp,
	// counted, and told to webhooks.
	bs, err := e.db.ListBounces(context.Background(), store.BounceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].SubscriberID != bounced || bs[0].Kind != "hard" || bs[0].Source != "smtp" ||
		!strings.Contains(bs[0].Diagnostic, "5.1.1") || !strings.HasPrefix(bs[0].MessageID, itoa(int(e.row(t, "a1:"+itoa(int(bounced))).ID))+".") ||
		bs[0].Email != "sub1@example.net" {
		t.Errorf("bounce events %+v", bs)
	}
	if got := labelledValue(t, e, "herald_bounces_total", map[string]string{"kind": "hard", "source": "smtp"}); got != 1 {
		t.Errorf("herald_bounces_total{hard,smtp} = %v", got)
	}
	evs, _ := e.db.Events(context.Background(), 5)
	if len(evs) != 1 || evs[0].Type != store.EventSubscriberBounced {
		t.Errorf("events %+v", evs)
	}
}

// labelledValue reads the counter of name with exactly these labels.
func labelledValue(t *testing.T, e *testEnv, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func TestDeliver_DataRefusalDoesNotBounce(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Concurrency = 1 })
	e.srv.OnData(func(_ string, to []string, _ []byte) error {
		if to[0] == "sub0@example.net" {
			return smtptest.Reply(554, "5.7.1 content rejected")
		}
		return nil
	})
	ids := storetest.Subscribers(t, e.db, 3, "example.net", "active", "en")
	for _, id := range ids {
		e.enqueue(t, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	st, _ := e.deliver(t)
	if st.Sent != 2 || st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	if s, _ := e.db.SubscriberStatus(context.Background(), ids[0]); s != "active" {
		t.Errorf("a refused message is not a refused recipient: status %q", s)
	}
}

func TestDeliver_ConnectionDropped(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) {
		o.Concurrency = 1
		o.RetryMin = time.Millisecond
		o.Now = nil // real clock: retries come by themselves
	})
	var n atomic.Int32
	e.srv.OnData(func(string, []string, []byte) error {
		if n.Add(1) == 3 {
			return smtptest.ErrDrop // the server dies in the middle of the 3rd message
		}
		return nil
	})
	ids := storetest.Subscribers(t, e.db, 6, "example.net", "active", "en")
	for _, id := range ids {
		e.enqueue(t, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	e.start(t)
	e.srv.Wait(t, 6, 10*time.Second)
	if c := e.srv.Connections(); c != 2 {
		t.Errorf("connections %d, want 2 (one reconnect after the drop)", c)
	}
	got := map[string]int{}
	for _, m := range e.srv.Messages() {
		got[m.To[0]]++
	}
	if len(got) != 6 {
		t.Errorf("recipients %v, want all 6", got)
	}
}

func TestDeliver_ServerClosesIdleConnection(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Concurrency = 1 })
	ids := storetest.Subscribers(t, e.db, 2, "example.net", "active", "en")
	e.enqueue(t, alertItem("a:1", ids[0], "T"))
	stop := e.start(t)
	e.srv.Wait(t, 1, 5*time.Second)
	// The server goes away and comes back empty-handed: the kept-open
	// connection is dead; the next message must go on a new one, at once.
	var dropped atomic.Bool
	e.srv.OnMail(func(string) error {
		if dropped.CompareAndSwap(false, true) {
			return smtptest.ErrDrop
		}
		return nil
	})
	e.enqueue(t, alertItem("a:2", ids[1], "T"))
	e.srv.Wait(t, 2, 5*time.Second)
	stop()
	if r := e.row(t, "a:2"); r.State != store.OutboxSent || r.Attempts != 1 {
		t.Errorf("row %+v: want sent at the first attempt", r)
	}
}

func TestDeliver_LeaseExpiryAfterCrash(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	ids := storetest.Subscribers(t, e.db, 3, "example.net", "active", "en")
	for _, id := range ids {
		e.enqueue(t, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	ctx := context.Background()
	now := e.clock.Now()
	// A crashed process left a:1 mid-transaction, lease over; a:2 is held
	// by a live process whose lease runs for 4 more minutes.
	if err := e.db.ForceLease(ctx, "a:1", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := e.db.ForceLease(ctx, "a:2", now.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	st, q := e.deliver(t)
	if st.Sent != 2 || q.Sending != 1 {
		t.Fatalf("stats %+v queue %+v: want the lapsed and the queued row sent, the held one left alone", st, q)
	}
	if e.row(t, "a:2").State != store.OutboxSending {
		t.Fatal("a row under a live lease was taken")
	}
	e.clock.Add(5 * time.Minute)
	if st, q := e.deliver(t); st.Sent != 3 || q.Depth() != 0 {
		t.Fatalf("after the lease: stats %+v queue %+v", st, q)
	}
}

func TestEnqueue_Idempotent(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	id := storetest.Subscriber(t, e.db, "reader@example.net", "pending", "en")
	if n := e.enqueue(t, confirmItem(t, "confirm:1:1", id), confirmItem(t, "confirm:1:1", id)); n != 1 {
		t.Fatalf("queued %d, want 1", n)
	}
	e.deliver(t)
	if n := e.enqueue(t, confirmItem(t, "confirm:1:1", id)); n != 0 {
		t.Fatalf("queued %d after sending, want 0", n)
	}
	e.deliver(t)
	if c := e.srv.Count(); c != 1 {
		t.Fatalf("server got %d messages, want 1", c)
	}
}

func TestDeliver_RateLimit(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Rate = 20; o.Concurrency = 4 })
	ids := storetest.Subscribers(t, e.db, 100, "example.net", "active", "en")
	var items []store.OutboxItem
	for _, id := range ids {
		items = append(items, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	e.enqueue(t, items...)
	start := time.Now()
	stop := e.start(t)
	e.srv.Wait(t, 3, 5*time.Second)
	time.Sleep(400 * time.Millisecond)
	stop()
	elapsed := time.Since(start)
	// A token bucket of 20/s with a burst of 1 allows at most 1 + 20·t
	// messages in t seconds, however slow the machine is.
	limit := 1 + int(20*elapsed.Seconds()) + 1
	if n := e.srv.Count(); n > limit {
		t.Fatalf("%d messages in %v, the rate allows at most %d", n, elapsed, limit)
	}
	q, _ := e.db.OutboxQueue(context.Background(), e.clock.Now())
	if q.Sending != 0 || q.Due+q.Deferred != 100-e.srv.Count() {
		t.Fatalf("queue after shutdown %+v: claimed rows must go back to the queue", q)
	}
}

func TestDeliver_ConcurrencyReusesConnections(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Concurrency = 4 })
	ids := storetest.Subscribers(t, e.db, 200, "example.net", "active", "en")
	var items []store.OutboxItem
	for _, id := range ids {
		items = append(items, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	e.enqueue(t, items...)
	if st, _ := e.deliver(t); st.Sent != 200 {
		t.Fatalf("stats %+v", st)
	}
	if c := e.srv.Connections(); c != 4 {
		t.Errorf("connections %d, want 4 (one per worker)", c)
	}
	per := map[int]int{}
	for _, m := range e.srv.Messages() {
		per[m.Conn]++
	}
	for c, n := range per {
		if n < 2 {
			t.Errorf("connection %d carried %d message(s): connections are not reused", c, n)
		}
	}
}

func TestDeliver_HeaderInjection(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	good := storetest.Subscriber(t, e.db, "reader@example.net", "active", "en")
	bad := storetest.Subscriber(t, e.db, "victim@example.net\r\nBcc: spy@evil.example", "active", "en")
	e.enqueue(t, alertItem("a:good", good, "Title\r\nBcc: spy@evil.example\nX-Evil: 1"),
		alertItem("a:bad", bad, "T"))
	st, _ := e.deliver(t)
	if st.Sent != 1 || st.Failed != 1 {
		t.Fatalf("stats %+v: want the clean address sent and the forged one failed", st)
	}
	m := e.srv.Messages()[0]
	if len(m.To) != 1 || m.To[0] != "reader@example.net" {
		t.Fatalf("envelope recipients %v", m.To)
	}
	p := parseMessage(t, m.Data)
	if p.hdr.Get("Bcc") != "" || p.hdr.Get("X-Evil") != "" {
		t.Fatalf("a title created a header:\n%s", m.Data)
	}
	if got := decodeHeader(t, p.hdr.Get("Subject")); got != "Title Bcc: spy@evil.example X-Evil: 1" {
		t.Errorf("Subject %q", got)
	}
	if strings.Contains(string(m.Data), "spy@evil.example>") {
		t.Errorf("the forged address reached an address header")
	}
}

func TestDeliver_StaleAndIneligible(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	ctx := context.Background()
	active := storetest.Subscriber(t, e.db, "active@example.net", "active", "en")
	pending := storetest.Subscriber(t, e.db, "pending@example.net", "pending", "en")
	gone := storetest.Subscriber(t, e.db, "gone@example.net", "unsubscribed", "en")
	now := e.clock.Now()
	stale := alertItem("stale", active, "T")
	stale.ExpiresAt = now.Add(-time.Minute)
	fresh := alertItem("fresh", active, "T")
	fresh.ExpiresAt = now.Add(time.Hour)
	testCopy := store.OutboxItem{IdemKey: "test-copy", Kind: KindAlert, ToAddr: "staff@example.org", ReleaseID: 1, Payload: "T"}
	e.enqueue(t, stale, fresh, testCopy,
		alertItem("to-pending", pending, "T"), alertItem("to-unsubscribed", gone, "T"),
		confirmItem(t, "confirm-active", active), confirmItem(t, "confirm-pending", pending))
	st, _ := e.deliver(t)
	want := map[string]string{"stale": "expired", "fresh": "sent", "test-copy": "sent", "to-pending": "cancelled",
		"to-unsubscribed": "cancelled", "confirm-active": "cancelled", "confirm-pending": "sent"}
	for k, w := range want {
		if r := e.row(t, k); r.State != w {
			t.Errorf("%s: state %s, want %s (%s)", k, r.State, w, r.LastError)
		}
	}
	if st.Expired != 1 || metricValue(t, e, "herald_mail_expired_total", "alert") != 1 {
		t.Errorf("expired count %+v", st)
	}
	to := map[string]bool{}
	for _, m := range e.srv.Messages() {
		to[m.To[0]] = true
	}
	if len(to) != 3 || !to["staff@example.org"] || !to["pending@example.net"] || !to["active@example.net"] {
		t.Errorf("recipients %v", to)
	}
	_ = ctx
}

func TestDeliver_ExpireSweep(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	id := storetest.Subscriber(t, e.db, "a@example.net", "active", "en")
	it := alertItem("later", id, "T")
	it.NotBefore = e.clock.Now().Add(time.Hour) // deferred, not due
	it.ExpiresAt = e.clock.Now().Add(time.Minute)
	e.enqueue(t, it)
	e.clock.Add(2 * time.Minute)
	counts, err := e.db.ExpireOutbox(context.Background(), e.clock.Now())
	if err != nil || counts["alert"] != 1 {
		t.Fatalf("expired %v %v", counts, err)
	}
	if r := e.row(t, "later"); r.State != store.OutboxExpired {
		t.Fatalf("row %+v", r)
	}
}

func TestRun_ShutdownLetsTransactionFinish(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Concurrency = 1 })
	inData := make(chan struct{}, 1)
	e.srv.OnData(func(string, []string, []byte) error {
		select {
		case inData <- struct{}{}:
		default:
		}
		time.Sleep(300 * time.Millisecond)
		return nil
	})
	ids := storetest.Subscribers(t, e.db, 5, "example.net", "active", "en")
	for _, id := range ids {
		e.enqueue(t, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	stop := e.start(t)
	<-inData
	stop() // SIGTERM while the first message is in DATA
	if n := e.srv.Count(); n != 1 {
		t.Fatalf("server got %d messages, want exactly the one under way", n)
	}
	q, err := e.db.OutboxQueue(context.Background(), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if q.Sending != 0 || q.Due != 4 {
		t.Fatalf("queue %+v: the one under way recorded sent, the others back in the queue", q)
	}
	if r := e.row(t, "a:"+itoa(int(ids[0]))); r.State != store.OutboxSent {
		t.Errorf("first row %+v", r)
	}
	if r := e.row(t, "a:"+itoa(int(ids[4]))); r.Attempts != 0 {
		t.Errorf("a row given back counts no attempt: %+v", r)
	}
}

func TestRun_DrainDeadline(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Concurrency = 1; o.Drain = 200 * time.Millisecond })
	inData := make(chan struct{}, 1)
	release := make(chan struct{})
	e.srv.OnData(func(string, []string, []byte) error {
		inData <- struct{}{}
		<-release
		return nil
	})
	defer close(release)
	id := storetest.Subscriber(t, e.db, "a@example.net", "active", "en")
	e.enqueue(t, alertItem("a", id, "T"))
	stop := e.start(t)
	<-inData
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v with a 200ms drain bound", d)
	}
	if r := e.row(t, "a"); r.State != store.OutboxQueued {
		t.Fatalf("row %+v: an aborted transaction is retried later", r)
	}
}

func TestDeliver_MailServerDown(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, nil)
	e.srv.Close()
	ids := storetest.Subscribers(t, e.db, 50, "example.net", "active", "en")
	for _, id := range ids {
		e.enqueue(t, alertItem("a:"+itoa(int(id)), id, "T"))
	}
	start := time.Now()
	st, q := e.deliver(t)
	if st.Deferred != 50 || q.Deferred != 50 {
		t.Fatalf("stats %+v queue %+v", st, q)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deferring a batch took %v: it must not wait behind a server that is down", d)
	}
	if r := e.row(t, "a:1"); !strings.Contains(r.LastError, "connect") {
		t.Errorf("last error %q", r.LastError)
	}
}

func TestCompose_Errors(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) {
		o.Composers = map[string]Composer{KindAlert: composerFunc(func(_ context.Context, m store.OutboxMessage) (Content, error) {
			if m.Payload == "skip" {
				return Content{}, ErrSkip
			}
			return Content{}, errors.New("database is busy")
		})}
	})
	id := storetest.Subscriber(t, e.db, "a@example.net", "active", "en")
	e.enqueue(t, alertItem("skip", id, "skip"), alertItem("busy", id, "busy"),
		store.OutboxItem{IdemKey: "digest", Kind: KindDigest, SubscriberID: id})
	e.deliver(t)
	if r := e.row(t, "skip"); r.State != store.OutboxCancelled {
		t.Errorf("skip: %+v", r)
	}
	if r := e.row(t, "busy"); r.State != store.OutboxQueued || !strings.Contains(r.LastError, "busy") {
		t.Errorf("busy: %+v", r)
	}
	if r := e.row(t, "digest"); r.State != store.OutboxQueued || !strings.Contains(r.LastError, "no composer") {
		t.Errorf("digest without a composer: %+v", r)
	}
	if e.srv.Count() != 0 {
		t.Errorf("sent %d", e.srv.Count())
	}
}

type composerFunc func(context.Context, store.OutboxMessage) (Content, error)

func (f composerFunc) Compose(ctx context.Context, m store.OutboxMessage) (Content, error) {
	return f(ctx, m)
}

// With four live instances, each sends a quarter of HERALD_SEND_RATE
// (SPEC 6: the rate is the deployment's total).
func TestDeliver_RateSharedAmongInstances(t *testing.T) {
	e := newEnv(t, smtptest.Options{}, func(o *Options) { o.Rate = 40; o.Concurrency = 4 })
	e.m.ShareRate(4)
	ids := storetest.Subscribers(t, e.db, 60, "example.net", "active", "en")
	var items []store.OutboxItem
	for _, id := range ids {
		items = append(items, alertItem("s:"+itoa(int(id)), id, "T"))
	}
	e.enqueue(t, items...)
	start := time.Now()
	stop := e.start(t)
	e.srv.Wait(t, 3, 5*time.Second)
	time.Sleep(time.Second)
	stop()
	elapsed := time.Since(start)
	// 10/s for this instance: at most 1 + 10·t, far below the 40/s total.
	if n, limit := e.srv.Count(), 2+int(10*elapsed.Seconds()); n > limit {
		t.Fatalf("%d messages in %v; a quarter of 40/s allows at most %d", n, elapsed, limit)
	}
	e.m.ShareRate(0) // nonsense counts change nothing
	if got := e.m.limiter.Limit(); got != 10 {
		t.Fatalf("limit after ShareRate(0) = %v, want 10", got)
	}
}
