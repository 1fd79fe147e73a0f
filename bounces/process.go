package bounces

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"herald/mailer"
	"herald/store"
	"herald/subscribers"
)

// Recorder applies a report (subscribers.Service).
type Recorder interface {
	RecordBounce(ctx context.Context, r subscribers.BounceReport, softLimit int) (subscribers.BounceOutcome, error)
}

// Counter counts recorded events in herald_bounces_total (mailer.Mailer).
type Counter interface {
	CountBounce(kind, source string)
}

// Metrics are the counters of reports herald did not act on.
type Metrics struct {
	skipped  *prometheus.CounterVec
	refused  *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewMetrics makes the counters and registers them on reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "bounce_reports_skipped_total",
			Help: "Bounce and complaint reports not acted on: they name no message or subscriber of herald's (a forged or unknown VERP token, an unknown recipient), by source."},
			[]string{"source"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "bounce_webhook_refused_total",
			Help: "Provider webhook requests refused (bad signature or credentials, replay, too old, malformed, too large), by provider and reason."},
			[]string{"provider", "reason"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "bounce_mailbox_errors_total",
			Help: "Polls of the bounce mailbox that failed (unreachable, refused login, protocol errors), by protocol."},
			[]string{"protocol"}),
	}
	if reg != nil {
		reg.MustRegister(m.skipped, m.refused, m.failures)
	}
	return m
}

// Refused counts a refused webhook request.
func (m *Metrics) Refused(provider, reason string) {
	if m != nil {
		m.refused.WithLabelValues(provider, reason).Inc()
	}
}

func (m *Metrics) skip(source string) {
	if m != nil {
		m.skipped.WithLabelValues(source).Inc()
	}
}

func (m *Metrics) mailboxFailed(protocol string) {
	if m != nil {
		m.failures.WithLabelValues(protocol).Inc()
	}
}

// Processor hands reports to the subscriber service, counts them and logs
// those it skips.
type Processor struct {
	rec       Recorder
	counter   Counter
	verp      *mailer.VERP
	softLimit int
	metrics   *Metrics
	log       *slog.Logger
}

// ProcessorOptions configure a Processor.
type ProcessorOptions struct {
	// VERP recognises the signed envelope sender (HERALD_BOUNCE_ADDRESS);
	// nil: only herald's Message-IDs name a message.
	VERP *mailer.VERP
	// SoftLimit is HERALD_SOFT_BOUNCE_LIMIT.
	SoftLimit int
	Counter   Counter
	Metrics   *Metrics
	Logger    *slog.Logger
}

// NewProcessor returns a processor recording through rec.
func NewProcessor(rec Recorder, o ProcessorOptions) *Processor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Processor{rec: rec, counter: o.Counter, verp: o.VERP, softLimit: o.SoftLimit, metrics: o.Metrics, log: o.Logger}
}

// Metrics returns the processor's counters.
func (p *Processor) Metrics() *Metrics { return p.metrics }

// Record applies one report. Reports that name nothing of herald's are
// logged, counted and give subscribers.ErrUnknownRecipient; nothing
// changes.
func (p *Processor) Record(ctx context.Context, r subscribers.BounceReport) (subscribers.BounceOutcome, error) {
	out, err := p.rec.RecordBounce(ctx, r, p.softLimit)
	if errors.Is(err, subscribers.ErrUnknownRecipient) {
		p.metrics.skip(r.Source)
		p.log.Warn("bounce report skipped: it names no message or subscriber of herald's", "source", r.Source, "kind", r.Kind,
			"outbox_id", r.OutboxID)
		return out, err
	}
	if err != nil {
		return out, err
	}
	if !out.Duplicate && p.counter != nil {
		p.counter.CountBounce(r.Kind, r.Source)
	}
	return out, nil
}

// HandleMail reads one message of the bounce mailbox. done reports
// whether it was a report that herald acted on (or had already recorded):
// such mail may be deleted. Anything else (not a report, or one naming no
// message of herald's) is left alone.
func (p *Processor) HandleMail(ctx context.Context, raw []byte) (done bool, err error) {
	rep, err := Parse(raw)
	if errors.Is(err, ErrNotReport) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	br := subscribers.BounceReport{Kind: rep.Kind, Source: store.BounceMailbox, MessageIDs: rep.MessageIDs,
		Recipient: rep.Recipient, Diagnostic: rep.Diagnostic}
	if p.verp != nil {
		for _, a := range rep.Addresses {
			if id, ok := p.verp.Parse(a); ok {
				br.OutboxID = id
				break
			}
		}
	}
	_, err = p.Record(ctx, br)
	if errors.Is(err, subscribers.ErrUnknownRecipient) {
		return false, nil
	}
	return err == nil, err
}
