package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"herald/config"
	"herald/mailer"
	"herald/mailer/smtptest"
)

// TestCheck_SMTP runs herald check against an SMTP server that is down,
// one that refuses the credentials, and one that takes them.
func TestCheck_SMTP(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := cli(t, dir, "", "db", "migrate"); code != 0 {
		t.Fatal(stderr)
	}
	srv := smtptest.New(t, smtptest.Options{Username: "herald", Password: "right"})

	down := freeAddr(t)
	out, _, code := cliEnv(t, dir, []string{"HERALD_SMTP_URL=smtp://" + down + "?tls=none"}, "", "check")
	if code != 1 || !hasLine(out, "fail smtp") || !strings.Contains(out, "cannot connect") {
		t.Fatalf("SMTP down: exit %d\n%s", code, out)
	}

	out, _, code = cliEnv(t, dir, []string{fmt.Sprintf("HERALD_SMTP_URL=smtp://herald:wrong@%s?tls=none", srv.Addr)}, "", "check")
	if code != 1 || !hasLine(out, "fail smtp") || !strings.Contains(out, "AUTH refused") || strings.Contains(out, "wrong") {
		t.Fatalf("AUTH refused: exit %d\n%s", code, out)
	}

	out, _, code = cliEnv(t, dir, []string{fmt.Sprintf("HERALD_SMTP_URL=smtp://herald:right@%s?tls=none", srv.Addr)}, "", "check")
	if code != 0 || !hasLine(out, "ok   smtp") || !strings.Contains(out, "AUTH as herald") ||
		!hasLine(out, "ok   config") || !hasLine(out, "ok   database") || !hasLine(out, "ok   integrity") {
		t.Fatalf("all good: exit %d\n%s", code, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if s := strings.Fields(line)[0]; s != "ok" && s != "warn" {
			t.Errorf("line %q: status %q", line, s)
		}
	}
	if n := srv.Count(); n != 0 {
		t.Fatalf("herald check sent %d messages", n)
	}

	// A bad setting is one fail line.
	out, _, code = cliEnv(t, dir, []string{"HERALD_TZ=Mars/Olympus"}, "", "check")
	if code != 1 || !hasLine(out, "fail config") {
		t.Fatalf("bad config: exit %d\n%s", code, out)
	}
}

// dnsServer answers TXT questions over UDP on 127.0.0.1 from records;
// other names get NXDOMAIN.
func dnsServer(t *testing.T, records map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
			txts, ok := records[name]
			rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeSuccess}
			if !ok {
				rh.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, rh)
			b.EnableCompression()
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			if q.Type == dnsmessage.TypeTXT {
				for _, txt := range txts {
					b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.TXTResource{TXT: []string{txt}})
				}
			}
			msg, err := b.Finish()
			if err == nil {
				pc.WriteTo(msg, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func resolverAt(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func checkConfig(t *testing.T, from string) config.Config {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.Bind(fs, func(k string) string {
		if k == "HERALD_FROM" {
			return from
		}
		return ""
	})
	cfg, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func statusOf(checks []check, name string) check {
	for _, c := range checks {
		if c.name == name {
			return c
		}
	}
	return check{}
}

// TestCheck_DNS checks SPF and DMARC against a local DNS server.
func TestCheck_DNS(t *testing.T) {
	addr := dnsServer(t, map[string][]string{
		"good.example":         {"v=spf1 mx -all", "google-site-verification=x"},
		"_dmarc.good.example":  {"v=DMARC1; p=quarantine"},
		"twice.example":        {"v=spf1 -all", "v=spf1 mx -all"},
		"_dmarc.twice.example": {"v=DMARC1; rua=mailto:x@twice.example"},
		"bare.example":         {"hello"},
	})
	r := resolverAt(addr)
	ctx := context.Background()
	for _, tc := range []struct{ from, spf, dmarc string }{
		{"press@good.example", "ok", "ok"},
		{"press@twice.example", "fail", "fail"},
		{"press@bare.example", "warn", "warn"},
		{"press@absent.example", "warn", "warn"},
	} {
		got := dnsChecks(ctx, checkConfig(t, tc.from), r)
		if s := statusOf(got, "spf"); s.status != tc.spf {
			t.Errorf("%s: spf %+v, want %s", tc.from, s, tc.spf)
		}
		if s := statusOf(got, "dmarc"); s.status != tc.dmarc {
			t.Errorf("%s: dmarc %+v, want %s", tc.from, s, tc.dmarc)
		}
	}
	// A DNS server that does not answer is a warning, not a failure.
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	start := time.Now()
	got := dnsChecks(ctx, checkConfig(t, "press@good.example"), resolverAt(dead.LocalAddr().String()))
	if s := statusOf(got, "spf"); s.status != "warn" || !strings.Contains(s.detail, "cannot look up") {
		t.Errorf("unanswered lookup: %+v", s)
	}
	if time.Since(start) > 3*dnsTimeout {
		t.Errorf("unanswered lookups took %s", time.Since(start))
	}
}

// TestCheck_DKIMAgainstDNS compares configured keys with their published
// records: the right key is ok, another key or no record fails.
func TestCheck_DKIMAgainstDNS(t *testing.T) {
	dir := t.TempDir()
	var records []string
	for _, sel := range []string{"good", "other", "absent"} {
		pemKey, key, err := mailer.GenerateDKIMKey("ed25519")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sel+".pem"), pemKey, 0o600); err != nil {
			t.Fatal(err)
		}
		rec, _ := mailer.DKIMRecord(key)
		records = append(records, rec)
	}
	addr := dnsServer(t, map[string][]string{
		"good._domainkey.news.example":  {records[0]},
		"other._domainkey.news.example": {records[0]}, // the good key, not other's
	})
	cfg := checkConfig(t, "press@news.example")
	for _, sel := range []string{"good", "other", "absent"} {
		cfg.DKIM = append(cfg.DKIM, config.DKIMKey{Selector: sel, Domain: "news.example", File: filepath.Join(dir, sel+".pem")})
	}
	got := dkimOnly(dnsChecks(context.Background(), cfg, resolverAt(addr)))
	want := []string{"ok", "fail", "fail"}
	if len(got) != 3 {
		t.Fatalf("dkim checks = %+v", got)
	}
	for i, c := range got {
		if c.status != want[i] {
			t.Errorf("key %d: %+v, want %s", i, c, want[i])
		}
	}
	if !strings.Contains(got[2].detail, "publish: v=DKIM1; k=ed25519; p=") {
		t.Errorf("a missing record should say what to publish: %q", got[2].detail)
	}
}

func dkimOnly(cs []check) []check {
	var out []check
	for _, c := range cs {
		if c.name == "dkim" {
			out = append(out, c)
		}
	}
	return out
}
