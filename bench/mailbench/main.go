// Command mailbench measures herald's mailer from queue to server: it
// queues N alerts of about SIZE bytes in a fresh database, delivers them with
// C workers to an SMTP server (postfix's smtp-sink in bench/smtp.sh, or the
// in-process test server), and prints one line of figures: messages per
// second (every database write included), connections used and peak RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/mailer"
	"herald/mailer/smtptest"
	"herald/store"
	"herald/templates"
)

func main() {
	n := flag.Int("n", 10000, "messages to queue")
	c := flag.Int("c", 4, "concurrency (HERALD_SEND_CONCURRENCY)")
	size := flag.Int("size", 20000, "approximate message size in bytes")
	addr := flag.String("smtp", "", "host:port of the SMTP server; empty: an in-process test server")
	qp := flag.Bool("qp", false, "force quoted-printable bodies instead of 8bit")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the delivery to this file")
	memprof := flag.String("memprofile", "", "write an allocation profile (all allocations since start) to this file")
	dsn := flag.String("db", "", "database to queue in (an empty one: a postgres:// URL or a SQLite file); empty: a fresh SQLite file")
	flag.Parse()
	if *memprof != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			if f, err := os.Create(*memprof); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*n, *c, *size, *addr, *qp, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "mailbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(n, c, size int, addr string, qp bool, dsn string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mailbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if dsn == "" {
		dsn = filepath.Join(dir, "herald.db")
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := seed(ctx, db, n); err != nil {
		return err
	}
	var srv *smtptest.Server
	if addr == "" {
		srv, err = smtptest.Start(smtptest.Options{})
		if err != nil {
			return err
		}
		defer srv.Close()
		addr = srv.Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	tpl, err := mailer.LoadTemplates(templates.Embedded(), mailer.TemplateOptions{SiteName: "Press Office", BaseURL: "https://press.example.org"})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	commits := 0 // outcome batches recorded (Progress runs after each)
	m, err := mailer.New(db, mailer.Options{
		Progress:        func(mailer.Stats) { commits++ },
		SMTP:            &mailer.SMTPOptions{Host: host, Port: p, TLS: "none"},
		From:            &mail.Address{Name: "Press Office", Address: "press@press.example.org"},
		SiteName:        "Press Office",
		BaseURL:         "https://press.example.org",
		Concurrency:     c,
		Templates:       tpl,
		Registerer:      reg,
		Composers:       map[string]mailer.Composer{mailer.KindAlert: &alerts{tpl: tpl, body: body(size)}},
		QuotedPrintable: qp,
	})
	if err != nil {
		return err
	}
	start := time.Now()
	st, q, err := m.Deliver(ctx)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	conns, smtpMS := 0.0, 0.0 // smtpMS: mean time of one SMTP transaction
	if fams, err := reg.Gather(); err == nil {
		for _, f := range fams {
			if f.GetName() == "herald_smtp_connections_total" {
				conns = f.GetMetric()[0].GetCounter().GetValue()
			}
			if f.GetName() == "herald_smtp_send_seconds" {
				h := f.GetMetric()[0].GetHistogram()
				smtpMS = 1000 * h.GetSampleSum() / float64(max(h.GetSampleCount(), 1))
			}
		}
	}
	if srv != nil && srv.Count() > 0 {
		total := 0
		for _, msg := range srv.Messages() {
			total += len(msg.Data)
		}
		fmt.Printf("average message size: %d bytes\n", total/srv.Count())
	}
	enc := "8bit"
	if qp {
		enc = "quoted-printable"
	}
	fmt.Printf("herald n=%d c=%d enc=%s sent=%d failed=%d deferred=%d left=%d time=%.2fs rate=%.0f msg/s connections=%.0f commits=%d smtp_ms=%.2f cycle_ms=%.2f peak_rss=%dMB\n",
		n, c, enc, st.Sent, st.Failed, st.Deferred, q.Depth(), elapsed.Seconds(), float64(st.Sent)/elapsed.Seconds(), conns, commits, smtpMS, 1000*elapsed.Seconds()*float64(c)/float64(max(st.Sent, 1)), peakRSS()>>20)
	return nil
}

// seed queues n alerts to n active subscribers, as a fan-out would.
func seed(ctx context.Context, db *store.DB, n int) error {
	subs := make([]store.SeedSubscriber, n)
	for i := range subs {
		subs[i] = store.SeedSubscriber{Email: fmt.Sprintf("reader%d@example.net", i), Status: "active", Language: []string{"en", "fr", "es"}[i%3]}
	}
	ids, err := db.SeedSubscribers(ctx, subs)
	if err != nil {
		return err
	}
	items := make([]store.OutboxItem, n)
	for i, id := range ids {
		items[i] = store.OutboxItem{IdemKey: fmt.Sprintf("alert:1:%d", id), Kind: mailer.KindAlert, SubscriberID: id, ReleaseID: 1}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Enqueue(ctx, time.Now(), items)
		return err
	})
}

// alerts renders the release once per language and each recipient's
// wrapper with their own links, as dispatch does.
type alerts struct {
	tpl   *mailer.Templates
	body  string
	mu    sync.Mutex
	parts map[string]*mailer.ReleasePart
}

func (a *alerts) Compose(_ context.Context, m store.OutboxMessage) (mailer.Content, error) {
	a.mu.Lock()
	part, ok := a.parts[m.Language]
	if !ok {
		var err error
		part, err = a.tpl.Release(m.Language, mailer.ReleaseView{ID: 1, Title: "Latin American Countries Agree on Road Map for the Integration of Venezuelans",
			Summary: "A road map to facilitate integration.", Dateline: "Buenos Aires", PublishedAt: time.Now(), Language: "en",
			URL: "https://press.example.org/releases/road-map", BodyHTML: template.HTML(a.body),
			Topics: []string{"Migration", "Integration"}, Regions: []string{"Argentina"}})
		if err != nil {
			a.mu.Unlock()
			return mailer.Content{}, err
		}
		if a.parts == nil {
			a.parts = map[string]*mailer.ReleasePart{}
		}
		a.parts[m.Language] = part
	}
	a.mu.Unlock()
	tok := strconv.FormatInt(m.SubscriberID, 36) + ".Zm9vYmFyYmF6cXV4cXV1eA"
	return a.tpl.Alert(mailer.AlertView{Lang: m.Language, Release: part,
		UnsubscribeURL: "https://press.example.org/unsubscribe?token=" + tok,
		PreferencesURL: "https://press.example.org/preferences?token=" + tok})
}

// body makes release HTML so that the whole message (HTML and text parts)
// is about size bytes.
func body(size int) string {
	para := `<p>The organization and the UN Refugee Agency welcome the adoption by Latin American and Caribbean countries of a <a href="https://press.example.org/road-map">road map</a> to facilitate the integration in the region of refugees and migrants from Venezuela, whose number has exceeded 4 million.</p>`
	var b strings.Builder
	// The text part repeats the words, and the layout adds about 3 KB.
	for b.Len()*2 < size-3500 {
		b.WriteString(para)
		b.WriteByte('\n')
	}
	return b.String()
}

// peakRSS is the process's peak resident set size (Linux VmHWM).
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
