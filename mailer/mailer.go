// Package mailer owns outgoing mail (SPEC 5): building messages, the
// durable outbox workers, the global send rate, retries and bounces, and the
// SMTP and Maildir transports. It imports store, templates and go-mail; the
// content of alert and digest messages comes from Composers registered by
// the dispatcher.
package mailer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"herald/store"
)

// Message kinds, sent as X-Herald-Kind (SPEC 5.1).
const (
	KindConfirm = "confirm"
	KindManage  = "manage"
	KindAlert   = "alert"
	KindDigest  = "digest"
	// KindWelcome follows a confirmation (SPEC 11): what the subscriber
	// will get, how often, and the latest releases that match.
	KindWelcome = "welcome"
)

// isNotice reports the kinds whose payload is a NoticeData.
func isNotice(kind string) bool {
	return kind == KindConfirm || kind == KindManage || kind == KindWelcome
}

// Content is what a Composer makes of a queued row: everything of a message
// that is not the envelope. The mailer adds From, To, Date, Message-ID,
// X-Herald-Kind and, when UnsubscribeURL is set, List-Id, List-Unsubscribe
// and List-Unsubscribe-Post (RFC 8058).
type Content struct {
	Subject        string
	Text           string
	HTML           string
	UnsubscribeURL string // alerts and digests
}

// Composer renders the content of one queued message. It returns ErrSkip
// when the message must not be sent any more (its release was deleted, say);
// the row is then marked cancelled.
type Composer interface {
	Compose(ctx context.Context, m store.OutboxMessage) (Content, error)
}

// ErrSkip tells the mailer to drop a queued message without sending it.
var ErrSkip = errors.New("mailer: nothing to send")

// NoticeData is the payload of a confirm or manage message: the subscriber
// flows store it with the queued row (in the same transaction as the change
// that causes it) and the mailer renders it when sending.
type NoticeData struct {
	Language       string   `json:"language"`
	ConfirmURL     string   `json:"confirm_url,omitempty"`     // confirm: the page with the confirm button
	PreferencesURL string   `json:"preferences_url,omitempty"` // manage (and confirm, for after)
	UnsubscribeURL string   `json:"unsubscribe_url,omitempty"`
	Topics         []string `json:"topics,omitempty"` // human-readable names
	Regions        []string `json:"regions,omitempty"`
	Cadence        string   `json:"cadence,omitempty"`
	// Releases are the latest live releases that match (welcome only),
	// newest first, each in the subscriber's language where it exists.
	Releases []NoticeRelease `json:"releases,omitempty"`
}

// NoticeRelease is a release a welcome message lists.
type NoticeRelease struct {
	Title       string    `json:"title"`
	URL         string    `json:"url"`
	Dateline    string    `json:"dateline,omitempty"`
	PublishedAt time.Time `json:"published_at"`
}

// NoticeItem builds the outbox row of a confirm, manage or welcome message
// to a subscriber; key makes it idempotent (e.g. "confirm:<id>:<seq>").
func NoticeItem(kind string, subscriberID int64, key string, d NoticeData) (store.OutboxItem, error) {
	if !isNotice(kind) {
		return store.OutboxItem{}, fmt.Errorf("mailer: %q is not a notice kind", kind)
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("mailer: encode notice: %w", err)
	}
	return store.OutboxItem{IdemKey: key, Kind: kind, SubscriberID: subscriberID, Payload: string(payload)}, nil
}

// Options configures the mailer; cmd maps config.Config onto it.
type Options struct {
	Logger *slog.Logger
	// SMTP is the server to deliver through; nil writes every message into
	// the Maildir at MaildirDir instead (SPEC 5.4).
	SMTP       *SMTPOptions
	MaildirDir string // $HERALD_DATA_DIR/maildir
	From       *mail.Address
	SiteName   string
	BaseURL    string
	// Concurrency is the number of workers, each with its own connection
	// (HERALD_SEND_CONCURRENCY); default 4.
	Concurrency int
	// Rate is messages per second over all workers (HERALD_SEND_RATE);
	// 0 means no limit.
	Rate float64
	// RetryMin is the first delay after a temporary failure; later ones
	// double, with jitter (HERALD_RETRY_MIN); default 1m.
	RetryMin time.Duration
	// RetryFor is how long after queuing a message keeps being retried
	// before it is failed; default 48h (SPEC 5.4).
	RetryFor time.Duration
	// Timeout bounds every network step: connecting, the greeting, TLS,
	// AUTH, and one whole message transaction; default 30s.
	Timeout time.Duration
	// Lease is how long a claimed row belongs to this process unless
	// renewed; the mailer renews the leases of the rows it holds every
	// Lease/3, so after a crash the rows it held are taken up again within
	// about Lease; default 15s.
	Lease time.Duration
	// Batch is how many rows one claim takes; default 256 (fewer with a
	// low Rate, so that claimed rows go out well within their lease).
	Batch int
	// Poll is how often the queue is read for rows queued by other
	// processes (the CLI); default 1s. Rows queued through Enqueue or
	// after Notify are picked up at once.
	Poll time.Duration
	// Drain bounds how long in-flight SMTP transactions may take after
	// shutdown begins; default 30s (SPEC 1).
	Drain time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Templates renders confirm and manage messages (and is what alert and
	// digest composers use).
	Templates *Templates
	// Composers render the content of alert and digest rows (from
	// dispatch); confirm and manage have built-in composers unless
	// replaced here.
	Composers map[string]Composer
	// Registerer receives the mailer's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Progress, when set, is called after each recorded batch of outcomes
	// (herald deliver's progress line).
	Progress func(Stats)
	// QuotedPrintable forces quoted-printable bodies; by default bodies go
	// as 8bit when the server announces 8BITMIME (cheaper to encode).
	QuotedPrintable bool
	// DKIM are the keys that sign every message (HERALD_DKIM, SPEC 8.1).
	DKIM []DKIMKey
	// VERP, when set, makes the envelope sender of alerts and digests a
	// signed per-message address (HERALD_BOUNCE_ADDRESS, SPEC 8.2).
	VERP *VERP
}

func (o *Options) defaults() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.From == nil {
		o.From = &mail.Address{Name: "Press Office", Address: "press@localhost"}
	}
	if o.SiteName == "" {
		o.SiteName = "Press Office"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Minute
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 48 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 15 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Rate > 0 {
		// At most about a minute of work per claim at the configured rate.
		o.Batch = max(1, min(o.Batch, int(o.Rate*60)))
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Drain <= 0 {
		o.Drain = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Templates == nil {
		return errors.New("mailer: no templates")
	}
	if o.SMTP == nil && o.MaildirDir == "" {
		return errors.New("mailer: neither an SMTP server nor a Maildir")
	}
	return nil
}

// Mailer delivers the outbox.
type Mailer struct {
	db        *store.DB
	opts      Options
	log       *slog.Logger
	transport transport
	composers map[string]Composer
	limiter   *rate.Limiter
	metrics   *metrics
	wake      chan struct{}
	domain    string
}

// New builds the mailer; nothing runs until Run or Deliver.
func New(db *store.DB, opts Options) (*Mailer, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	m := &Mailer{db: db, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1), domain: addrDomain(opts.From)}
	var err error
	if opts.SMTP != nil {
		m.transport, err = newSMTPTransport(*opts.SMTP, opts.Timeout)
	} else {
		m.transport, err = newMaildir(opts.MaildirDir)
	}
	if err != nil {
		return nil, err
	}
	m.composers = map[string]Composer{KindConfirm: noticeComposer{opts.Templates}, KindManage: noticeComposer{opts.Templates},
		KindWelcome: noticeComposer{opts.Templates}, KindStaffInvite: staffComposer{opts.Templates}, KindStaffReset: staffComposer{opts.Templates}}
	for k, c := range opts.Composers {
		m.composers[k] = c
	}
	m.limiter = rate.NewLimiter(rate.Inf, 1)
	if opts.Rate > 0 {
		m.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	m.metrics = newMetrics(opts.Registerer)
	return m, nil
}

// ShareRate divides HERALD_SEND_RATE among the live instances (SPEC 6: the
// rate is the deployment's total); called whenever their number changes.
func (m *Mailer) ShareRate(instances int) {
	if m.opts.Rate <= 0 || instances < 1 {
		return
	}
	m.limiter.SetLimit(rate.Limit(m.opts.Rate / float64(instances)))
}

// Register adds (or replaces) the composer of a kind; call it before Run.
func (m *Mailer) Register(kind string, c Composer) { m.composers[kind] = c }

// Templates returns the templates the mailer renders with.
func (m *Mailer) Templates() *Templates { return m.opts.Templates }

// Notify wakes the workers: something was queued in this process.
func (m *Mailer) Notify() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Enqueue queues items in their own transaction and wakes the workers. Code
// that must queue together with a state change uses store.Tx.Enqueue inside
// its transaction, then calls Notify.
func (m *Mailer) Enqueue(ctx context.Context, items []store.OutboxItem) (int, error) {
	n := 0
	err := m.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.Enqueue(ctx, m.opts.Now(), items)
		return err
	})
	if err == nil && n > 0 {
		m.Notify()
	}
	return n, err
}

// Stats counts the outcomes since the mailer was built.
func (m *Mailer) Stats() Stats { return m.metrics.stats() }

// noticeComposer renders confirm and manage rows from their NoticeData
// payload, in the subscriber's current language.
type noticeComposer struct{ t *Templates }

func (c noticeComposer) Compose(_ context.Context, m store.OutboxMessage) (Content, error) {
	var d NoticeData
	if err := json.Unmarshal([]byte(m.Payload), &d); err != nil {
		return Content{}, fmt.Errorf("%w: bad %s payload: %v", ErrSkip, m.Kind, err)
	}
	if m.Language != "" {
		d.Language = m.Language
	}
	return c.t.Notice(m.Kind, d)
}
