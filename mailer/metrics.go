package mailer

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the mailer's Prometheus series (registered on the registry
// serve creates) plus plain counters for `herald deliver`'s progress line.
type metrics struct {
	sent, failed, deferred, expired, cancelled, bounced *prometheus.CounterVec
	depth                                               prometheus.Gauge
	latency                                             prometheus.Histogram
	connections                                         prometheus.Counter
	// bounces is herald_bounces_total{kind,source} (SPEC 8.3): every
	// bounce and complaint recorded, at SMTP time here, later through
	// CountBounce.
	bounces *prometheus.CounterVec

	nSent, nFailed, nDeferred, nExpired, nCancelled atomic.Int64
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Subsystem: "mail", Name: name, Help: help}, []string{"kind"})
	}
	m := &metrics{
		sent:      counter("sent_total", "Messages accepted by the SMTP server or written to the Maildir, by kind."),
		failed:    counter("failed_total", "Messages given up on (permanent refusal, or temporary failures for 48 h), by kind."),
		deferred:  counter("deferred_total", "Temporary failures put back in the queue for a later attempt, by kind."),
		expired:   counter("expired_total", "Stale alerts dropped unsent (HERALD_ALERT_MAX_AGE), by kind."),
		cancelled: counter("cancelled_total", "Queued messages dropped because the recipient is gone or no longer subscribed, by kind."),
		bounced:   counter("bounced_total", "Permanent refusals of a recipient that marked the subscriber bounced, by kind."),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "herald", Subsystem: "mail", Name: "queue_depth",
			Help: "Messages in the outbox not yet sent, failed or dropped (queued, deferred and sending)."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "herald", Subsystem: "smtp", Name: "send_seconds",
			Help:    "Time of one SMTP transaction (MAIL FROM to the reply after DATA).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		bounces: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "bounces_total",
			Help: "Bounces and complaints recorded (SPEC 8.3), by kind (hard, soft, complaint) and source (smtp, mailbox, ses, postmark, sendgrid, mailgun)."},
			[]string{"kind", "source"}),
		connections: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Subsystem: "smtp", Name: "connections_total",
			Help: "SMTP connections opened."}),
	}
	// Every kind shows on /metrics from the start, at 0.
	for _, kind := range []string{KindConfirm, KindManage, KindWelcome, KindAlert, KindDigest, KindStaffInvite, KindStaffReset} {
		for _, c := range []*prometheus.CounterVec{m.sent, m.failed, m.deferred, m.expired, m.cancelled, m.bounced} {
			c.WithLabelValues(kind)
		}
	}
	for _, kind := range []string{"hard", "soft", "complaint"} {
		for _, source := range []string{"smtp", "mailbox", "ses", "postmark", "sendgrid", "mailgun"} {
			if kind == "hard" || source != "smtp" {
				m.bounces.WithLabelValues(kind, source)
			}
		}
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.deferred, m.expired, m.cancelled, m.bounced, m.depth, m.latency, m.connections, m.bounces)
	}
	return m
}

// count records one outcome.
func (m *metrics) count(kind, state string, bounce bool) {
	switch state {
	case "sent":
		m.sent.WithLabelValues(kind).Inc()
		m.nSent.Add(1)
	case "failed":
		m.failed.WithLabelValues(kind).Inc()
		m.nFailed.Add(1)
		if bounce {
			m.bounced.WithLabelValues(kind).Inc()
			m.bounces.WithLabelValues("hard", "smtp").Inc()
		}
	case "queued":
		m.deferred.WithLabelValues(kind).Inc()
		m.nDeferred.Add(1)
	case "expired":
		m.expired.WithLabelValues(kind).Inc()
		m.nExpired.Add(1)
	case "cancelled":
		m.cancelled.WithLabelValues(kind).Inc()
		m.nCancelled.Add(1)
	}
}

// Stats counts outcomes since the mailer started.
type Stats struct {
	Sent, Failed, Deferred, Expired, Cancelled int
}

func (m *metrics) stats() Stats {
	return Stats{Sent: int(m.nSent.Load()), Failed: int(m.nFailed.Load()), Deferred: int(m.nDeferred.Load()),
		Expired: int(m.nExpired.Load()), Cancelled: int(m.nCancelled.Load())}
}

// CountBounce counts one bounce or complaint recorded later than SMTP time
// (a bounce mailbox or a provider's webhook) in herald_bounces_total.
func (m *Mailer) CountBounce(kind, source string) {
	m.metrics.bounces.WithLabelValues(kind, source).Inc()
}
