package bounces

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"herald/store"
)

// literal is a message to append.
type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// imapServer serves an in-memory mailbox user "bounce" / "secret" with
// INBOX and Done on a real listener (TLS when cfg is given).
func imapServer(t *testing.T, cfg *tls.Config, msgs ...[]byte) (*imapmemserver.User, string) {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("bounce", "secret")
	for _, name := range []string{"INBOX", "Done"} {
		if err := user.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		if _, err := user.Append("INBOX", literal{bytes.NewReader(m)}, &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       log.New(discard{}, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return user, ln.Addr().String()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func count(t *testing.T, u *imapmemserver.User, mailbox string) uint32 {
	t.Helper()
	st, err := u.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages
}

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: names}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}

// mailboxSet is the mail of the mailbox tests: three reports herald acts
// on, one with a forged token, one that is no report.
type mailboxSet struct {
	ana, ben, cy, dan recipient
	msgs              [][]byte
}

func newMailboxSet(t *testing.T, f *fixture) mailboxSet {
	s := mailboxSet{ana: f.recipient(t, "ana@example.net"), ben: f.recipient(t, "ben@example.net"),
		cy: f.recipient(t, "cy@example.net"), dan: f.recipient(t, "dan@example.net")}
	forged := sample(t, "dsn-rfc3464.eml", "bounces+"+fmt.Sprint(s.dan.msg.ID)+"-0000000000000000@news.example.org", s.dan.email,
		fmt.Sprintf("%d.0000000000000000.herald@news.example.org", s.dan.msg.ID))
	s.msgs = [][]byte{
		f.mail(t, "dsn-rfc3464.eml", s.ana, true),
		f.mail(t, "arf-abuse.eml", s.ben, true),
		f.mail(t, "dsn-postfix.eml", s.cy, true), // to the plain address: the token is in the returned Return-Path
		forged,
		f.mail(t, "not-a-bounce.eml", s.dan, true),
	}
	return s
}

func (s mailboxSet) check(t *testing.T, f *fixture, res PollResult) {
	t.Helper()
	if res.Read != 5 || res.Processed != 3 || res.Left != 2 {
		t.Fatalf("poll %+v, want 5 read, 3 processed, 2 left", res)
	}
	for id, want := range map[int64]string{s.ana.id: store.SubscriberBounced, s.ben.id: store.SubscriberUnsubscribed,
		s.cy.id: store.SubscriberBounced, s.dan.id: store.SubscriberActive} {
		if got := f.status(t, id); got != want {
			t.Errorf("subscriber %d is %s, want %s", id, got, want)
		}
	}
	if b := f.bounces(t); len(b) != 3 {
		t.Errorf("bounces %+v", b)
	}
	if f.counted["hard/mailbox"] != 2 || f.counted["complaint/mailbox"] != 1 || f.skipped("mailbox") != 1 {
		t.Errorf("counted %v, skipped %v", f.counted, f.skipped("mailbox"))
	}
}

func TestPoller_IMAPMovesProcessedMailAndLeavesTheRest(t *testing.T) {
	f := newFixture(t)
	s := newMailboxSet(t, f)
	user, addr := imapServer(t, nil, s.msgs...)
	p, err := NewPoller(f.proc, MailboxOptions{URL: "imap://bounce:secret@" + addr + "/INBOX", DoneFolder: "Done"})
	if err != nil {
		t.Fatal(err)
	}
	s.check(t, f, p.Poll(context.Background()))
	if in, done := count(t, user, "INBOX"), count(t, user, "Done"); in != 2 || done != 3 {
		t.Fatalf("INBOX %d, Done %d; want 2 left alone, 3 moved", in, done)
	}
	// The next poll reads nothing again and changes nothing.
	if res := p.Poll(context.Background()); res.Read != 0 {
		t.Fatalf("second poll %+v", res)
	}
	if f.skipped("mailbox") != 1 || len(f.bounces(t)) != 3 {
		t.Fatal("a second poll counted or recorded again")
	}
}

func TestPoller_IMAPSDeletesProcessedMail(t *testing.T) {
	f := newFixture(t)
	s := newMailboxSet(t, f)
	cert, pool := selfSigned(t)
	user, addr := imapServer(t, &tls.Config{Certificates: []tls.Certificate{cert}}, s.msgs...)
	p, err := NewPoller(f.proc, MailboxOptions{URL: "imaps://bounce:secret@" + addr, TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	s.check(t, f, p.Poll(context.Background()))
	if in, done := count(t, user, "INBOX"), count(t, user, "Done"); in != 2 || done != 0 {
		t.Fatalf("INBOX %d, Done %d; want the 2 left alone only", in, done)
	}
}

func TestPoller_FailuresAreLoggedAndCounted(t *testing.T) {
	f := newFixture(t)
	_, addr := imapServer(t, nil)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	for _, u := range []string{"imap://bounce:wrong@" + addr + "/INBOX", "imap://bounce:secret@" + addr + "/Nowhere", "imap://bounce:secret@" + closed,
		"pop3://bounce:secret@" + closed} {
		p, err := NewPoller(f.proc, MailboxOptions{URL: u, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res := p.Poll(context.Background()); res.Read != 0 {
			t.Fatalf("%s: %+v", u, res)
		}
	}
	m := f.proc.metrics.failures
	if got := testutilValue(m.WithLabelValues("imap")) + testutilValue(m.WithLabelValues("pop3")); got != 4 {
		t.Fatalf("%v failures counted, want 4", got)
	}
	for _, bad := range []string{"http://x", "imap://host", "imaps://:pw@host", "::"} {
		if _, err := ParseMailboxURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// pop3Server is a tiny POP3 server (RFC 1939) on a real listener: USER,
// PASS, STAT, UIDL, RETR, DELE, QUIT; deletions apply at QUIT.
type pop3Server struct {
	mu   sync.Mutex
	msgs map[string][]byte // uidl -> message
	ids  []string          // in order
}

func newPOP3Server(t *testing.T, msgs ...[]byte) (*pop3Server, string) {
	s := &pop3Server{msgs: map[string][]byte{}}
	for i, m := range msgs {
		id := fmt.Sprintf("uid-%d", i)
		s.msgs[id], s.ids = m, append(s.ids, id)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, ln.Addr().String()
}

func (s *pop3Server) left() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

func (s *pop3Server) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	s.mu.Lock()
	var order []string // the session's numbering
	for _, id := range s.ids {
		if _, ok := s.msgs[id]; ok {
			order = append(order, id)
		}
	}
	s.mu.Unlock()
	dele := map[string]bool{}
	user, authed := "", false
	_ = tp.PrintfLine("+OK herald test POP3 ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		msg := func() (string, []byte, bool) {
			var n int
			if _, err := fmt.Sscan(arg, &n); err != nil || n < 1 || n > len(order) {
				return "", nil, false
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			return order[n-1], s.msgs[order[n-1]], true
		}
		switch {
		case strings.EqualFold(verb, "USER"):
			user = arg
			_ = tp.PrintfLine("+OK")
		case strings.EqualFold(verb, "PASS"):
			if authed = user == "bounce" && arg == "secret"; authed {
				_ = tp.PrintfLine("+OK logged in")
			} else {
				_ = tp.PrintfLine("-ERR [AUTH] invalid login")
			}
		case !authed:
			_ = tp.PrintfLine("-ERR log in first")
		case strings.EqualFold(verb, "STAT"):
			_ = tp.PrintfLine("+OK %d 0", len(order))
		case strings.EqualFold(verb, "UIDL"):
			_ = tp.PrintfLine("+OK")
			w := tp.DotWriter()
			for i, id := range order {
				fmt.Fprintf(w, "%d %s\n", i+1, id)
			}
			w.Close()
		case strings.EqualFold(verb, "RETR"):
			if _, m, ok := msg(); ok {
				_ = tp.PrintfLine("+OK")
				w := tp.DotWriter()
				w.Write(bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n")))
				w.Close()
			} else {
				_ = tp.PrintfLine("-ERR no such message")
			}
		case strings.EqualFold(verb, "DELE"):
			if id, _, ok := msg(); ok {
				dele[id] = true
				_ = tp.PrintfLine("+OK")
			} else {
				_ = tp.PrintfLine("-ERR no such message")
			}
		case strings.EqualFold(verb, "QUIT"):
			s.mu.Lock()
			for id := range dele {
				delete(s.msgs, id)
			}
			s.mu.Unlock()
			_ = tp.PrintfLine("+OK bye")
			return
		default:
			_ = tp.PrintfLine("-ERR unknown command")
		}
	}
}

func TestPoller_POP3DeletesProcessedMailOnly(t *testing.T) {
	f := newFixture(t)
	s := newMailboxSet(t, f)
	srv, addr := newPOP3Server(t, s.msgs...)
	p, err := NewPoller(f.proc, MailboxOptions{URL: "pop3://bounce:secret@" + addr})
	if err != nil {
		t.Fatal(err)
	}
	s.check(t, f, p.Poll(context.Background()))
	if n := srv.left(); n != 2 {
		t.Fatalf("%d messages left on the server, want 2", n)
	}
	if res := p.Poll(context.Background()); res.Read != 0 {
		t.Fatalf("second poll %+v", res)
	}
	// A wrong password: logged and counted, nothing read or deleted.
	bad, _ := NewPoller(f.proc, MailboxOptions{URL: "pop3://bounce:nope@" + addr})
	if res := bad.Poll(context.Background()); res.Read != 0 || srv.left() != 2 {
		t.Fatalf("wrong password: %+v, %d left", res, srv.left())
	}
	if got := testutilValue(f.proc.metrics.failures.WithLabelValues("pop3")); got != 1 {
		t.Fatalf("pop3 failures %v", got)
	}
}
