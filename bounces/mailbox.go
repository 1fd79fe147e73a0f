package bounces

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// PollInterval is how often the bounce mailbox is read (SPEC 8.3).
const PollInterval = time.Minute

// maxPerPoll bounds the messages read in one poll; the rest wait for the
// next one.
const maxPerPoll = 200

// MailboxOptions configure a Poller.
type MailboxOptions struct {
	// URL is HERALD_BOUNCE_MAILBOX: imaps://user:pass@host:993/INBOX,
	// imap://, pop3s:// or pop3://.
	URL string
	// DoneFolder is HERALD_BOUNCE_DONE_FOLDER: IMAP moves processed mail
	// there instead of deleting it.
	DoneFolder string
	// TLSConfig is used for imaps:// and pop3s:// (tests give their CA);
	// nil: the system's roots.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each command; default 30 s.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Poller reads the bounce mailbox and hands each message to a Processor.
type Poller struct {
	proc *Processor
	opts MailboxOptions
	u    *url.URL
	log  *slog.Logger

	mu sync.Mutex
	// left are messages left alone (not reports, or naming nothing of
	// herald's), by UID or UIDL: they are not read again at every poll.
	left map[string]bool
}

// ParseMailboxURL checks a HERALD_BOUNCE_MAILBOX value.
func ParseMailboxURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	switch u.Scheme {
	case "imap", "imaps", "pop3", "pop3s":
	default:
		return nil, fmt.Errorf("scheme must be imaps://, imap://, pop3s:// or pop3://, got %q", u.Scheme)
	}
	if u.Hostname() == "" || u.User == nil || u.User.Username() == "" {
		return nil, errors.New("needs user:password@host")
	}
	return u, nil
}

// NewPoller returns a poller of opts.URL.
func NewPoller(proc *Processor, opts MailboxOptions) (*Poller, error) {
	u, err := ParseMailboxURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{proc: proc, opts: opts, u: u, log: opts.Logger, left: map[string]bool{}}, nil
}

// Run polls every PollInterval until ctx ends (on the leader: serve
// registers it with node.Lead).
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		p.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PollResult counts what one poll did.
type PollResult struct {
	Read, Processed, Left int
}

// Poll reads the mailbox once. A failure (unreachable, refused login) is
// logged and counted, never fatal.
func (p *Poller) Poll(ctx context.Context) PollResult {
	var res PollResult
	var err error
	switch p.u.Scheme {
	case "imap", "imaps":
		res, err = p.pollIMAP(ctx)
	default:
		res, err = p.pollPOP3(ctx)
	}
	if err != nil {
		p.proc.metrics.mailboxFailed(strings.TrimSuffix(p.u.Scheme, "s"))
		p.log.Error("bounce mailbox poll failed", "mailbox", p.u.Redacted(), "err", err)
	} else if res.Read > 0 {
		p.log.Info("bounce mailbox read", "read", res.Read, "processed", res.Processed, "left", res.Left)
	}
	return res
}

func (p *Poller) isLeft(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.left[id]
}

func (p *Poller) leave(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.left) > 100000 {
		clear(p.left)
	}
	p.left[id] = true
}

func (p *Poller) dial(ctx context.Context, defaultPort string) (net.Conn, error) {
	host := p.u.Host
	if p.u.Port() == "" {
		host = net.JoinHostPort(p.u.Hostname(), defaultPort)
	}
	d := &net.Dialer{Timeout: p.opts.Timeout}
	if strings.HasSuffix(p.u.Scheme, "s") {
		cfg := p.opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = p.u.Hostname()
		}
		return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", host)
	}
	return d.DialContext(ctx, "tcp", host)
}

func (p *Poller) pollIMAP(ctx context.Context) (PollResult, error) {
	var res PollResult
	port := "143"
	if p.u.Scheme == "imaps" {
		port = "993"
	}
	conn, err := p.dial(ctx, port)
	if err != nil {
		return res, err
	}
	// The deadline bounds the whole session: a server that stops
	// answering cannot hold the leader's loop.
	_ = conn.SetDeadline(time.Now().Add(4 * p.opts.Timeout))
	c := imapclient.New(conn, nil)
	defer c.Close()
	pass, _ := p.u.User.Password()
	if err := c.Login(p.u.User.Username(), pass).Wait(); err != nil {
		return res, fmt.Errorf("login: %w", err)
	}
	folder := strings.TrimPrefix(p.u.Path, "/")
	if folder == "" {
		folder = "INBOX"
	}
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		return res, fmt.Errorf("select %s: %w", folder, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("search: %w", err)
	}
	var todo []imap.UID
	for _, uid := range found.AllUIDs() {
		if !p.isLeft(p.imapKey(uid)) && len(todo) < maxPerPoll {
			todo = append(todo, uid)
		}
	}
	var done imap.UIDSet
	section := &imap.FetchItemBodySection{Peek: true}
	for _, uid := range todo {
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return res, fmt.Errorf("fetch: %w", err)
		}
		if len(msgs) == 0 {
			continue
		}
		res.Read++
		ok, err := p.proc.HandleMail(ctx, msgs[0].FindBodySection(section))
		if err != nil {
			return res, err // the database: try again at the next poll
		}
		if ok {
			res.Processed++
			done.AddNum(uid)
		} else {
			res.Left++
			p.leave(p.imapKey(uid))
		}
	}
	if len(done) > 0 {
		if err := p.imapFinish(c, done); err != nil {
			return res, err
		}
	}
	return res, c.Logout().Wait()
}

// imapKey names a message for the left-alone set: UIDs are only unique
// within a mailbox.
func (p *Poller) imapKey(uid imap.UID) string {
	return fmt.Sprintf("imap:%s:%d", p.u.Path, uid)
}

// imapFinish moves processed mail to the done folder, or deletes it.
func (p *Poller) imapFinish(c *imapclient.Client, done imap.UIDSet) error {
	if p.opts.DoneFolder != "" {
		if _, err := c.Move(done, p.opts.DoneFolder).Wait(); err != nil {
			return fmt.Errorf("move to %s: %w", p.opts.DoneFolder, err)
		}
		return nil
	}
	if err := c.Store(done, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return fmt.Errorf("flag as deleted: %w", err)
	}
	if c.Caps().Has(imap.CapUIDPlus) {
		return c.UIDExpunge(done).Close()
	}
	return c.Expunge().Close()
}
