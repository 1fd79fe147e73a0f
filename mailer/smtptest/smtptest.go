// Package smtptest runs a real SMTP server in-process for tests
// (emersion/go-smtp on 127.0.0.1:0). It records every accepted message with
// its envelope, can refuse a recipient or a message with any 4xx/5xx reply,
// can drop connections, counts connections and sessions, and optionally
// speaks STARTTLS or implicit TLS (self-signed certificate) and requires
// AUTH PLAIN.
//
// Typical use:
//
//	srv := smtptest.New(t, smtptest.Options{})
//	srv.OnRcpt(func(to string) error {
//		if to == "gone@example.org" {
//			return smtptest.Reply(550, "5.1.1 no such user")
//		}
//		return nil
//	})
//	... point the code under test at srv.Host, srv.Port ...
//	msgs := srv.Wait(t, 3, 5*time.Second)
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of the server.
const (
	TLSNone     = ""         // plain SMTP, no STARTTLS offered
	TLSStart    = "starttls" // STARTTLS offered
	TLSImplicit = "implicit" // TLS from the first byte (smtps)
)

// Options configures a test server.
type Options struct {
	TLS string // TLSNone, TLSStart or TLSImplicit
	// Username and Password, when set, make AUTH PLAIN required before MAIL.
	Username, Password string
}

// Message is one accepted message.
type Message struct {
	From    string
	To      []string
	Data    []byte // raw, as received after DATA (CRLF line ends)
	Conn    int    // the connection it came on, from 1
	Session int    // the session (EHLO after connect or STARTTLS), from 1
}

// Parse parses the raw message with net/mail.
func (m Message) Parse() (*mail.Message, error) {
	return mail.ReadMessage(bytes.NewReader(m.Data))
}

// ErrDrop, returned by a hook, closes the connection at once without a reply,
// as a crashing or overloaded server would.
var ErrDrop = errors.New("smtptest: drop the connection")

// Reply builds an SMTP error reply: Reply(451, "4.3.0 try later"). A message
// starting with an enhanced code (x.y.z) sends it as such.
func Reply(code int, msg string) error {
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
	if len(msg) >= 5 && msg[1] == '.' {
		var cls, sub, det int
		rest := msg
		if n, _ := sscanEnhanced(rest, &cls, &sub, &det); n > 0 {
			e.EnhancedCode = smtp.EnhancedCode{cls, sub, det}
			e.Message = rest[n:]
			if len(e.Message) > 0 && e.Message[0] == ' ' {
				e.Message = e.Message[1:]
			}
		}
	}
	return e
}

// Server is a running test server.
type Server struct {
	Host string // 127.0.0.1
	Port int
	Addr string // host:port
	// Certs holds the self-signed certificate's pool, for a client that
	// verifies (tests usually skip verification instead).
	Certs *x509.CertPool

	srv   *smtp.Server
	ln    net.Listener
	opts  Options
	conns atomic.Int64
	sess  atomic.Int64
	open  atomic.Int64

	mu     sync.Mutex
	msgs   []Message
	onMail func(from string) error
	onRcpt func(to string) error
	onData func(from string, to []string, data []byte) error
	notify chan struct{}
}

// New starts a server on 127.0.0.1:0; it stops at the test's cleanup.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside of a test (benchmarks, tools); call Close.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, notify: make(chan struct{}, 1)}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = opts.TLS == TLSNone
	srv.ErrorLog = quiet{} // dropped connections are what tests do on purpose
	var ln net.Listener
	var err error
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port, s.Addr = "127.0.0.1", addr.Port, ln.Addr().String()
	ln = countingListener{Listener: ln, s: s}
	if opts.TLS != TLSNone {
		cfg, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.Certs = pool
		srv.TLSConfig = cfg
		if opts.TLS == TLSImplicit {
			ln = tls.NewListener(ln, cfg)
		}
	}
	s.srv, s.ln = srv, ln
	go srv.Serve(ln)
	return s, nil
}

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.ln.Close() // also when Serve has not registered it yet
	s.srv.Close()
}

// OnMail sets a hook called at MAIL FROM; a non-nil error is the reply.
func (s *Server) OnMail(f func(from string) error) { s.mu.Lock(); s.onMail = f; s.mu.Unlock() }

// OnRcpt sets a hook called at each RCPT TO: a per-recipient reply.
func (s *Server) OnRcpt(f func(to string) error) { s.mu.Lock(); s.onRcpt = f; s.mu.Unlock() }

// OnData sets a hook called at the end of DATA with the whole message: a
// per-message reply. A nil error accepts and records the message.
func (s *Server) OnData(f func(from string, to []string, data []byte) error) {
	s.mu.Lock()
	s.onData = f
	s.mu.Unlock()
}

// Messages returns a copy of the accepted messages, in order of arrival.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count is the number of accepted messages.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Wait waits until at least n messages were accepted and returns them; it
// fails the test after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("smtptest: %d messages after %v, want %d", s.Count(), timeout, n)
			return nil
		}
	}
}

// Connections is how many TCP connections were accepted.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// OpenConnections is how many connections are open now.
func (s *Server) OpenConnections() int { return int(s.open.Load()) }

// Sessions is how many SMTP sessions began (an EHLO on a new connection,
// and again after STARTTLS).
func (s *Server) Sessions() int { return int(s.sess.Load()) }

type countingListener struct {
	net.Listener
	s *Server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.conns.Add(1)
	l.s.open.Add(1)
	return &countedConn{Conn: c, s: l.s, id: int(l.s.conns.Load())}, nil
}

type countedConn struct {
	net.Conn
	s    *Server
	id   int
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.s.open.Add(-1) })
	return c.Conn.Close()
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	n := int(b.s.sess.Add(1))
	id := 0
	if cc, ok := underlying(c.Conn()).(*countedConn); ok {
		id = cc.id
	}
	return &session{s: b.s, conn: c, connID: id, sessID: n}, nil
}

// underlying unwraps a TLS connection to the counted one below it.
func underlying(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	connID int
	sessID int
	authed bool
	from   string
	to     []string
}

func (ss *session) hook(f func() error) error {
	err := f()
	if errors.Is(err, ErrDrop) {
		ss.conn.Conn().Close()
	}
	return err
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return Reply(535, "5.7.8 authentication failed")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	f := ss.s.onMail
	ss.s.mu.Unlock()
	if f != nil {
		if err := ss.hook(func() error { return f(from) }); err != nil {
			return err
		}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	f := ss.s.onRcpt
	ss.s.mu.Unlock()
	if f != nil {
		if err := ss.hook(func() error { return f(to) }); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	f := ss.s.onData
	ss.s.mu.Unlock()
	if f != nil {
		if err := ss.hook(func() error { return f(ss.from, ss.to, data) }); err != nil {
			return err
		}
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data,
		Conn: ss.connID, Session: ss.sessID})
	ss.s.mu.Unlock()
	select {
	case ss.s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool, nil
}

// sscanEnhanced reads "c.s.d" at the start of s and returns its length.
func sscanEnhanced(s string, cls, sub, det *int) (int, error) {
	parts := [3]*int{cls, sub, det}
	i := 0
	for k := 0; k < 3; k++ {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			return 0, errors.New("no code")
		}
		v, _ := strconv.Atoi(s[i:j])
		*parts[k] = v
		i = j
		if k < 2 {
			if i >= len(s) || s[i] != '.' {
				return 0, errors.New("no code")
			}
			i++
		}
	}
	return i, nil
}

// quiet discards the server's error log.
type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}
func (quiet) Println(...interface{})        {}
