// Package hooks receives the bounce and complaint webhooks of email
// providers (SPEC 8.3): Amazon SES through SNS, Postmark, SendGrid and
// Mailgun. Each request is verified the provider's way before anything it
// says is believed; an unverified one gets 401 and changes nothing. The
// events go to a bounces.Processor, which records each once. These routes
// are public: they need no staff token, only the provider's proof.
package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"herald/bounces"
	"herald/mailer"
	"herald/subscribers"
)

// MaxBody caps a webhook request body.
const MaxBody = 1 << 20

// MaxAge is how old a signed timestamp (SendGrid, Mailgun) may be.
const MaxAge = 5 * time.Minute

// Replays remembers single-use values (Mailgun's tokens) across instances
// (store.DB's UseChallenge).
type Replays interface {
	UseChallenge(ctx context.Context, challenge string, expires, now time.Time) (bool, error)
}

// Options configure the webhooks.
type Options struct {
	// WebhookSecret is HERALD_WEBHOOK_SECRET, Postmark's basic-auth
	// password; "" refuses every Postmark request.
	WebhookSecret string
	// SendGridPublicKey is HERALD_SENDGRID_PUBLIC_KEY, base64 DER of an
	// ECDSA P-256 key; "" refuses every SendGrid request.
	SendGridPublicKey string
	// MailgunSigningKey is HERALD_MAILGUN_SIGNING_KEY; "" refuses every
	// Mailgun request.
	MailgunSigningKey string
	// VERP recognises herald's envelope sender in the providers' payloads.
	VERP *mailer.VERP
	// Client fetches SNS signing certificates and confirms subscriptions;
	// default a client with a 10 s timeout.
	Client *http.Client
	// AllowSNSURL decides which certificate and SubscribeURL URLs may be
	// fetched; nil is the production rule (SNSURLAllowed). Tests only.
	AllowSNSURL func(*url.URL) bool
	Replays     Replays
	Now         func() time.Time
	Logger      *slog.Logger
}

// Hooks serves /webhooks/{ses,postmark,sendgrid,mailgun}.
type Hooks struct {
	proc  *bounces.Processor
	opts  Options
	log   *slog.Logger
	certs *certCache
}

// New returns the webhooks, recording through proc.
func New(proc *bounces.Processor, opts Options) *Hooks {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.AllowSNSURL == nil {
		opts.AllowSNSURL = SNSURLAllowed
	}
	return &Hooks{proc: proc, opts: opts, log: opts.Logger, certs: newCertCache(opts.Client, opts.AllowSNSURL)}
}

// Register adds the routes to mux.
func (h *Hooks) Register(mux *http.ServeMux) {
	mux.Handle("POST /webhooks/ses", h.handle("ses", h.ses))
	mux.Handle("POST /webhooks/postmark", h.handle("postmark", h.postmark))
	mux.Handle("POST /webhooks/sendgrid", h.handle("sendgrid", h.sendgrid))
	mux.Handle("POST /webhooks/mailgun", h.handle("mailgun", h.mailgun))
}

// refusal is a request refused before anything it says was believed.
type refusal struct {
	status int
	reason string // the metric label: bad_signature, replay, too_old, ...
	msg    string
}

func (r *refusal) Error() string { return r.msg }

func unauthorized(reason, msg string) error {
	return &refusal{status: http.StatusUnauthorized, reason: reason, msg: msg}
}

func malformed(msg string) error {
	return &refusal{status: http.StatusBadRequest, reason: "malformed", msg: msg}
}

// handle reads the capped body, runs fn, and answers: 200 {"recorded": n}
// once the events are applied; a refusal with its status (logged and
// counted); 503 when the database fails (the provider retries).
func (h *Hooks) handle(provider string, fn func(r *http.Request, body []byte) (int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				err = &refusal{status: http.StatusRequestEntityTooLarge, reason: "too_large", msg: "body over 1 MiB"}
			} else {
				err = malformed("unreadable body")
			}
		}
		n := 0
		if err == nil {
			n, err = fn(r, body)
		}
		var ref *refusal
		switch {
		case errors.As(err, &ref):
			h.proc.Metrics().Refused(provider, ref.reason)
			h.log.Warn("bounce webhook refused", "provider", provider, "reason", ref.reason, "err", ref.msg)
			writeJSON(w, ref.status, map[string]string{"error": ref.msg, "field": ""})
		case err != nil:
			h.log.Error("bounce webhook failed", "provider", provider, "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily unavailable: try again", "field": ""})
		default:
			writeJSON(w, http.StatusOK, map[string]int{"recorded": n})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// record applies the reports of one request: reports that name nothing of
// herald's are skipped (the processor logs and counts them); it returns how
// many were recorded, or a database error.
func (h *Hooks) record(ctx context.Context, reps []subscribers.BounceReport) (int, error) {
	n := 0
	for _, r := range reps {
		out, err := h.proc.Record(ctx, r)
		if errors.Is(err, subscribers.ErrUnknownRecipient) {
			continue
		}
		if err != nil {
			return n, err
		}
		if !out.Duplicate {
			n++
		}
	}
	return n, nil
}

// verpID returns the outbox row a VERP address names, 0 for any other.
func (h *Hooks) verpID(addr string) int64 {
	if h.opts.VERP == nil || addr == "" {
		return 0
	}
	id, _ := h.opts.VERP.Parse(addr)
	return id
}
