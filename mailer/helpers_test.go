package mailer

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/internal/clocktest"
	"herald/mailer/smtptest"
	"herald/store"
	"herald/store/storetest"
	"herald/templates"
)

func newClock() *clocktest.Clock { return clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

// testEnv is a database, a test SMTP server and a mailer pointed at it.
type testEnv struct {
	db    *store.DB
	srv   *smtptest.Server
	m     *Mailer
	clock *clocktest.Clock
	reg   *prometheus.Registry
	tpl   *Templates
	opts  Options
}

func loadTemplates(t testing.TB) *Templates {
	t.Helper()
	tpl, err := LoadTemplates(templates.Embedded(), TemplateOptions{SiteName: "Press Office", BaseURL: "https://press.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// newEnv builds the environment; mod adjusts the options (SMTP is set from
// srvOpts unless mod clears it).
func newEnv(t *testing.T, srvOpts smtptest.Options, mod func(*Options)) *testEnv {
	t.Helper()
	e := &testEnv{db: storetest.New(t), clock: newClock(), reg: prometheus.NewRegistry(), tpl: loadTemplates(t)}
	e.srv = smtptest.New(t, srvOpts)
	tlsMode := "none"
	switch srvOpts.TLS {
	case smtptest.TLSStart:
		tlsMode = "mandatory"
	case smtptest.TLSImplicit:
		tlsMode = "implicit"
	}
	e.opts = Options{
		SMTP: &SMTPOptions{Host: e.srv.Host, Port: e.srv.Port, TLS: tlsMode, Username: srvOpts.Username, Password: srvOpts.Password,
			TLSConfig: &tls.Config{RootCAs: e.srv.Certs, ServerName: "127.0.0.1"}},
		MaildirDir: t.TempDir() + "/maildir",
		From:       &mail.Address{Name: "Press Office", Address: "press@press.example.org"},
		SiteName:   "Press Office", BaseURL: "https://press.example.org",
		Concurrency: 2, RetryMin: time.Minute, Timeout: 5 * time.Second, Poll: 20 * time.Millisecond,
		Now: e.clock.Now, Templates: e.tpl, Registerer: e.reg,
		Composers: map[string]Composer{KindAlert: testAlerts{tpl: e.tpl}},
	}
	if mod != nil {
		mod(&e.opts)
	}
	m, err := New(e.db, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

// start runs the mailer until the test ends.
func (e *testEnv) start(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.m.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// deliver runs one `herald deliver` pass.
func (e *testEnv) deliver(t *testing.T) (Stats, store.OutboxQueue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, q, err := e.m.Deliver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st, q
}

func (e *testEnv) enqueue(t *testing.T, items ...store.OutboxItem) int {
	t.Helper()
	n, err := e.m.Enqueue(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *testEnv) row(t *testing.T, key string) store.OutboxRow {
	t.Helper()
	r, err := e.db.OutboxByKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// alertItem queues an alert (the test composer renders a fixed release with
// the payload as its title).
func alertItem(key string, sub int64, title string) store.OutboxItem {
	return store.OutboxItem{IdemKey: key, Kind: KindAlert, SubscriberID: sub, ReleaseID: 1, Payload: title}
}

func confirmItem(t *testing.T, key string, sub int64) store.OutboxItem {
	t.Helper()
	it, err := NoticeItem(KindConfirm, sub, key, NoticeData{Language: "en", ConfirmURL: "https://press.example.org/confirm?token=c" + key,
		PreferencesURL: "https://press.example.org/preferences?token=p", Topics: []string{"Migration"}, Cadence: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// testAlerts is the alert composer dispatch will provide, reduced to what
// the tests need: the payload is the release title.
type testAlerts struct{ tpl *Templates }

func (c testAlerts) Compose(_ context.Context, m store.OutboxMessage) (Content, error) {
	part, err := c.tpl.Release(m.Language, ReleaseView{ID: m.ReleaseID, Title: m.Payload, Summary: "Summary.",
		Dateline: "Geneva", PublishedAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Language: "en",
		URL: "https://press.example.org/releases/x", BodyHTML: "<p>Body of the release.</p>"})
	if err != nil {
		return Content{}, err
	}
	return c.tpl.Alert(AlertView{Lang: m.Language, Release: part,
		UnsubscribeURL: fmt.Sprintf("https://press.example.org/unsubscribe?token=u%d", m.SubscriberID),
		PreferencesURL: fmt.Sprintf("https://press.example.org/preferences?token=p%d", m.SubscriberID)})
}

// parsed is a received message taken apart.
type parsed struct {
	hdr  mail.Header
	text string
	html string
	cte  []string // transfer encodings of the parts
}

func parseMessage(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("net/mail: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: want multipart/alternative (%v)", msg.Header.Get("Content-Type"), err)
	}
	p := parsed{hdr: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s charset %q, want UTF-8", ct, cp["charset"])
		}
		p.cte = append(p.cte, part.Header.Get("Content-Transfer-Encoding"))
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("want a text and an html part, got text=%d html=%d bytes", len(p.text), len(p.html))
	}
	return p
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}

// metricValue reads a counter by kind from the registry the mailer uses.
func metricValue(t *testing.T, e *testEnv, name, kind string) float64 {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
