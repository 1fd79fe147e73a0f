package mailer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTPOptions is a parsed HERALD_SMTP_URL.
type SMTPOptions struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	TLS      string // none | opportunistic | mandatory | implicit
	// TLSConfig overrides the default (verify the server's certificate for
	// Host); tests pass the test server's pool.
	TLSConfig *tls.Config
	// Helo is the name given in EHLO; default "localhost".
	Helo string
}

// transport opens sessions; each worker holds one session at a time.
type transport interface {
	open(ctx context.Context) (session, error)
}

// session sends messages one after the other over one connection (or into
// the Maildir).
type session interface {
	send(m *wireMsg) error
	eightBit() bool
	close()
	abort() // close the connection at once (shutdown deadline passed)
}

// sendErr classifies a failed send.
type sendErr struct {
	err    error
	temp   bool // retry later
	broken bool // the connection is gone: open a new one
	early  bool // failed before anything of the message went out
	bounce bool // a permanent refusal of the recipient
	code   int
}

func (e *sendErr) Error() string { return e.err.Error() }
func (e *sendErr) Unwrap() error { return e.err }

// smtpTransport dials the configured server with go-mail.
type smtpTransport struct {
	client  *gomail.Client
	timeout time.Duration
}

func newSMTPTransport(o SMTPOptions, timeout time.Duration) (*smtpTransport, error) {
	tlsCfg := o.TLSConfig
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: o.Host, MinVersion: tls.VersionTLS12}
	}
	helo := o.Helo
	if helo == "" {
		helo = "localhost"
	}
	opts := []gomail.Option{
		gomail.WithPort(o.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(tlsCfg),
		gomail.WithHELO(helo),
		// go-mail connects, greets, does STARTTLS and AUTH; the message
		// transactions are herald's own (smtptx.go). No NOOP or RSET of
		// go-mail's around them: idle connections are checked in send.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	d := &dialer{tls: o.TLS == "implicit", cfg: tlsCfg, timeout: timeout}
	opts = append(opts, gomail.WithDialContextFunc(d.dial))
	switch o.TLS {
	case "implicit":
		// Our dialer does the TLS handshake; go-mail sees a TLS connection
		// (so AUTH PLAIN is allowed) and finds no STARTTLS to do.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "mandatory":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if o.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if o.TLS == "none" {
			auth = gomail.SMTPAuthPlainNoEnc // the operator chose a plain connection
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(o.Username), gomail.WithPassword(o.Password))
	}
	c, err := gomail.NewClient(o.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: smtp client: %w", err)
	}
	return &smtpTransport{client: c, timeout: timeout}, nil
}

func (t *smtpTransport) open(ctx context.Context) (session, error) {
	slot := &connSlot{}
	c, err := t.client.DialToSMTPClientWithContext(context.WithValue(ctx, connSlotKey{}, slot))
	if err != nil {
		if slot.conn != nil {
			slot.conn.Close()
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	s := &smtpSession{t: t, c: c, raw: slot.conn, last: time.Now()}
	s.eight, _ = c.Extension("8BITMIME")
	s.pipelining, _ = c.Extension("PIPELINING")
	s.enhanced, _ = c.Extension("ENHANCEDSTATUSCODES")
	s.utf8, _ = c.Extension("SMTPUTF8")
	return s, nil
}

// connSlot receives the raw connection of one dial, so that a shutdown can
// close it under a transaction in progress (go-mail's Close waits for the
// transaction's lock).
type connSlot struct{ conn net.Conn }

type connSlotKey struct{}

// dialer connects over TCP, and for smtps:// does the TLS handshake itself.
type dialer struct {
	tls     bool
	cfg     *tls.Config
	timeout time.Duration
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout, KeepAlive: 30 * time.Second}
	raw, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if slot, ok := ctx.Value(connSlotKey{}).(*connSlot); ok {
		slot.conn = raw
	}
	bc := newBufConn(raw)
	if !d.tls {
		return bc, nil
	}
	tc := tls.Client(bc, d.cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	return tc, nil
}

type smtpSession struct {
	t   *smtpTransport
	c   *smtp.Client
	raw net.Conn
	// Extensions the server offers.
	eight, pipelining, enhanced, utf8 bool
	last                              time.Time // end of the last exchange
	used                              bool
}

// idleCheck is how long a connection may sit unused before a NOOP checks
// that the server still holds it open.
const idleCheck = 5 * time.Second

func (s *smtpSession) eightBit() bool { return s.eight }

func (s *smtpSession) send(m *wireMsg) error {
	if s.used && time.Since(s.last) > idleCheck {
		err := s.c.UpdateDeadline(s.t.timeout)
		if err == nil {
			err = s.c.Noop()
		}
		if err != nil {
			return &sendErr{err: fmt.Errorf("connection went away: %w", err), temp: true, broken: true, early: true}
		}
	}
	s.used = true
	err := s.transact(m)
	s.last = time.Now()
	return err
}

func (s *smtpSession) close() {
	_ = s.c.UpdateDeadline(2 * time.Second)
	if err := s.c.Quit(); err != nil {
		_ = s.c.Close()
	}
}

func (s *smtpSession) abort() {
	if s.raw != nil {
		_ = s.raw.Close()
	}
}

// maildirTransport writes each message as a file into a Maildir (SPEC 5.4),
// following the Maildir protocol: write into tmp/ under a unique name, sync,
// then rename into new/, so that a reader never sees half a message.
type maildirTransport struct {
	dir  string
	host string
	seq  atomic.Int64
	wrap func(io.Writer) io.Writer // tests: a writer that fails
}

func newMaildir(dir string) (*maildirTransport, error) {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, fmt.Errorf("mailer: maildir: %w", err)
		}
	}
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "\\057", ":", "\\072").Replace(host)
	if host == "" {
		host = "localhost"
	}
	return &maildirTransport{dir: dir, host: host}, nil
}

func (t *maildirTransport) open(context.Context) (session, error) { return maildirSession{t}, nil }

type maildirSession struct{ t *maildirTransport }

func (s maildirSession) eightBit() bool { return true }
func (s maildirSession) close()         {}
func (s maildirSession) abort()         {}

func (s maildirSession) send(m *wireMsg) error {
	t := s.t
	var name string
	if m.id != "" {
		// Named after the message: a message whose file was written but
		// whose outcome could not be recorded (a full disk) is found on the
		// retry and not delivered twice.
		local, _, _ := strings.Cut(m.id, "@")
		name = strings.NewReplacer("/", "\\057", ":", "\\072").Replace(local) + "." + t.host
		if t.delivered(name) {
			return nil
		}
	} else {
		now := time.Now()
		name = strconv.FormatInt(now.Unix(), 10) + ".M" + strconv.Itoa(now.Nanosecond()/1000) + "P" +
			strconv.Itoa(os.Getpid()) + "Q" + strconv.FormatInt(t.seq.Add(1), 10) + "." + t.host
	}
	tmp := filepath.Join(t.dir, "tmp", name)
	os.Remove(tmp) // a file left by a write that failed half-way
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return &sendErr{err: fmt.Errorf("maildir: %w", err), temp: true}
	}
	var dst io.Writer = f
	if t.wrap != nil {
		dst = t.wrap(f)
	}
	// Files in a Maildir use local line ends (LF), as mail readers expect.
	w := &lfWriter{w: dst}
	_, werr := w.Write(m.raw.Bytes())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return &sendErr{err: fmt.Errorf("maildir: write: %w", err), temp: true}
	}
	if err := os.Rename(tmp, filepath.Join(t.dir, "new", name)); err != nil {
		os.Remove(tmp)
		return &sendErr{err: fmt.Errorf("maildir: %w", err), temp: true}
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(filepath.Join(t.dir, "new")); err == nil {
		serr := d.Sync()
		d.Close()
		if serr != nil {
			return &sendErr{err: fmt.Errorf("maildir: sync new/: %w", serr), temp: true}
		}
	}
	return nil
}

// delivered reports whether the message file name is in new/ or, read
// (with its flags after a colon), in cur/.
func (t *maildirTransport) delivered(name string) bool {
	if _, err := os.Stat(filepath.Join(t.dir, "new", name)); err == nil {
		return true
	}
	if _, err := os.Stat(filepath.Join(t.dir, "cur", name)); err == nil {
		return true
	}
	m, _ := filepath.Glob(filepath.Join(t.dir, "cur", globEscape(name)+":*"))
	return len(m) > 0
}

func globEscape(s string) string {
	return strings.NewReplacer("\\", "\\\\", "*", "\\*", "?", "\\?", "[", "\\[").Replace(s)
}

// lfWriter turns CRLF into LF, also when a write ends between the two.
type lfWriter struct {
	w  interface{ Write([]byte) (int, error) }
	cr bool // the previous write ended with a CR not yet written
}

func (l *lfWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+1)
	if l.cr {
		l.cr = false
		if len(p) == 0 || p[0] != '\n' {
			out = append(out, '\r')
		}
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '\r' {
			if i+1 == len(p) {
				l.cr = true
				continue
			}
			if p[i+1] == '\n' {
				continue
			}
		}
		out = append(out, p[i])
	}
	if _, err := l.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// bufConn gathers writes and sends them when the client next reads (it
// always reads the reply to what it wrote), so that a command and a
// message's DATA go out in one or a few segments instead of one write per
// 4 KB buffer of the SMTP writer.
type bufConn struct {
	net.Conn
	w *bufio.Writer
}

func newBufConn(c net.Conn) *bufConn { return &bufConn{Conn: c, w: bufio.NewWriterSize(c, 64<<10)} }

func (c *bufConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *bufConn) Read(p []byte) (int, error) {
	if c.w.Buffered() > 0 {
		if err := c.w.Flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

func (c *bufConn) Close() error {
	_ = c.w.Flush()
	return c.Conn.Close()
}
