package mailer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"herald/store"
)

// job is a claimed row on its way to a worker.
type job struct {
	msg store.OutboxMessage
}

// outcome is a worker's verdict on a job, recorded by the recorder.
type outcome struct {
	res  store.OutboxResult
	kind string
	done chan struct{} // closed once the outcome is committed
}

// run is one delivery run: a claimer feeding jobs to workers, and a
// recorder committing their outcomes in groups.
type run struct {
	m        *Mailer
	ctx      context.Context // ends: claim nothing more, start nothing more
	hard     context.Context // ends: abort transactions still under way
	jobs     chan job
	outcomes chan outcome
	inflight atomic.Int64
	idle     chan struct{} // a job finished
	bounced  sync.Map      // subscriber ids refused permanently during this run

	mu   sync.Mutex
	held map[int64]struct{} // claimed rows not yet recorded: their leases are renewed
}

// Run delivers the outbox until ctx ends (serve). Then it starts nothing
// new, gives claimed rows that were not started back to the queue, lets
// SMTP transactions under way finish for at most Options.Drain, records
// every outcome, and returns. The caller closes the database after.
func (m *Mailer) Run(ctx context.Context) {
	m.run(ctx, false)
}

// Deliver sends what is due now and returns when nothing due is left
// (herald deliver), or when ctx ends. It returns the outcomes and what is
// left in the queue (deferred rows wait for a later attempt).
func (m *Mailer) Deliver(ctx context.Context) (Stats, store.OutboxQueue, error) {
	m.run(ctx, true)
	q, err := m.db.OutboxQueue(context.WithoutCancel(ctx), m.opts.Now())
	return m.Stats(), q, err
}

func (m *Mailer) run(ctx context.Context, untilEmpty bool) {
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopTimer := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(m.opts.Drain, cancelHard)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	defer stopTimer()
	r := &run{m: m, ctx: ctx, hard: hard, jobs: make(chan job, m.opts.Batch),
		outcomes: make(chan outcome, m.opts.Concurrency*2), idle: make(chan struct{}, 1), held: map[int64]struct{}{}}
	var workers, recorder, renewer sync.WaitGroup
	stopRenew := make(chan struct{})
	renewer.Go(func() { r.renew(stopRenew) })
	recorder.Go(r.record)
	for i := range m.opts.Concurrency {
		workers.Go(func() { r.work(i) })
	}
	r.claimLoop(untilEmpty)
	close(r.jobs)
	workers.Wait()
	close(r.outcomes)
	recorder.Wait()
	close(stopRenew)
	renewer.Wait()
}

// renew extends the leases of the rows this run holds every Lease/3, until
// every outcome is recorded.
func (r *run) renew(stop <-chan struct{}) {
	t := time.NewTicker(r.m.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		ids := make([]int64, 0, len(r.held))
		for id := range r.held {
			ids = append(ids, id)
		}
		r.mu.Unlock()
		if err := r.m.db.ExtendOutboxLease(context.WithoutCancel(r.ctx), ids, r.m.opts.Now().Add(r.m.opts.Lease)); err != nil {
			r.m.log.Error("renewing leases failed", "count", len(ids), "err", err)
		}
	}
}

// claimLoop claims batches while the job queue has room, and otherwise
// waits for a wake-up, the poll tick or the end.
func (r *run) claimLoop(untilEmpty bool) {
	m := r.m
	poll := time.NewTicker(m.opts.Poll)
	defer poll.Stop()
	lastSweep := time.Time{}
	for r.ctx.Err() == nil {
		now := m.opts.Now()
		if now.Sub(lastSweep) >= m.opts.Poll*30 || lastSweep.IsZero() {
			lastSweep = now
			r.sweep(now)
		}
		room := cap(r.jobs) - len(r.jobs)
		var claimed []store.OutboxMessage
		if room >= cap(r.jobs)/2 {
			var err error
			claimed, err = m.db.ClaimOutbox(r.ctx, now, store.ClaimOptions{Limit: room, Lease: m.opts.Lease})
			if err != nil && r.ctx.Err() == nil {
				m.log.Error("claiming queued mail failed", "err", err)
			}
			r.mu.Lock()
			for _, msg := range claimed {
				r.held[msg.ID] = struct{}{}
			}
			r.mu.Unlock()
			for _, msg := range claimed {
				r.inflight.Add(1)
				r.jobs <- job{msg: msg}
			}
			if len(claimed) == room {
				continue // more may be due: claim again as soon as there is room
			}
		}
		if untilEmpty && len(claimed) == 0 && r.inflight.Load() == 0 {
			return
		}
		select {
		case <-r.ctx.Done():
		case <-m.wake:
		case <-poll.C:
			r.depth()
		case <-r.idle:
		}
	}
}

// sweep expires stale rows that are not due (deferred alerts), so that
// they leave the queue on time; due ones are expired when claimed.
func (r *run) sweep(now time.Time) {
	counts, err := r.m.db.ExpireOutbox(r.ctx, now)
	if err != nil {
		if r.ctx.Err() == nil {
			r.m.log.Error("expiring stale mail failed", "err", err)
		}
		return
	}
	for kind, n := range counts {
		for range n {
			r.m.metrics.count(kind, store.OutboxExpired, false)
		}
		r.m.log.Info("dropped stale messages", "kind", kind, "count", n)
	}
	r.depth()
}

func (r *run) depth() {
	if q, err := r.m.db.OutboxQueue(r.ctx, r.m.opts.Now()); err == nil {
		r.m.metrics.depth.Set(float64(q.Depth()))
	}
}

// record commits outcomes in groups: whatever has arrived while the last
// commit ran goes into the next transaction. A worker waits for its
// outcome to be committed before it starts another transaction, so after a
// crash at most one sent-but-unrecorded message per worker is sent again
// (SPEC 5.4).
func (r *run) record() {
	m := r.m
	batch := make([]outcome, 0, 256)
	for o := range r.outcomes {
		batch = append(batch[:0], o)
		// Let the workers that are ready to run (their server's reply in
		// hand) hand in their outcomes first: one yield, no timer, so no
		// latency floor, and a commit then covers several outcomes (on
		// bench/smtp.sh about 1.4 outcomes per commit before, 3.5 after at
		// 16 connections). Each commit costs the same whatever its size.
		runtime.Gosched()
	more:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-r.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		res := make([]store.OutboxResult, len(batch))
		for i, o := range batch {
			res[i] = o.res
		}
		// While the database cannot record outcomes, the workers wait
		// (none starts a transaction before its outcome is committed):
		// sending on would send mail that is sent again once the lease
		// runs out. Only shutdown gives up, after a few more tries.
		var err error
		for attempt := 0; ; attempt++ {
			if err = m.db.RecordOutbox(context.WithoutCancel(r.ctx), m.opts.Now(), res); err == nil {
				break
			}
			if r.ctx.Err() != nil && attempt >= 5 {
				break
			}
			if attempt == 5 {
				m.log.Error("cannot record delivery outcomes; sending paused until the database answers", "count", len(res), "err", err)
			}
			time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second))
		}
		if err != nil {
			// The rows stay in 'sending' and are taken up again when their
			// lease runs out.
			m.log.Error("recording delivery outcomes failed", "count", len(res), "err", err)
		}
		for _, o := range batch {
			if err == nil && !o.res.Release {
				m.metrics.count(o.kind, o.res.State, o.res.Bounce)
			}
			r.committed(o)
		}
		if m.opts.Progress != nil {
			m.opts.Progress(m.metrics.stats())
		}
	}
}

// worker is one sender with its own session.
type worker struct {
	r       *run
	id      int
	sess    session
	stop    func() bool // unregisters the shutdown abort of sess
	backoff time.Duration
	// downUntil: no new connection before then (the last attempt failed
	// with lastErr).
	downUntil time.Time
	lastErr   error
	// wire holds the next message, encoded before the worker waits for
	// its previous outcome to be committed; its buffers are reused.
	wire wireMsg
	// eight is whether the last session offered 8BITMIME: the guess the
	// next message is encoded on before a session is open.
	eight bool
}

func (r *run) work(id int) {
	w := &worker{r: r, id: id, eight: true}
	defer w.closeSession()
	var pending chan struct{} // the last sent message's outcome, not yet committed
	wait := func() {
		if pending != nil {
			<-pending
			pending = nil
		}
	}
	defer wait()
	for j := range r.jobs {
		if r.ctx.Err() != nil {
			w.submit(j, store.OutboxResult{ID: j.msg.ID, Release: true})
			continue
		}
		content, res, send := w.prepare(j)
		if send {
			res, send = w.encode(j.msg, content, w.eight)
		}
		if !send {
			w.submit(j, res)
			continue
		}
		// The next message is rendered and encoded while the last one's
		// outcome is committed, but no transaction starts before that
		// commit: after a crash at most one message per worker was sent and
		// not recorded (SPEC 5.4: duplicates at most
		// HERALD_SEND_CONCURRENCY).
		wait()
		pending = w.submit(j, w.deliver(j.msg, content))
	}
}

// submit hands an outcome to the recorder; the returned channel is closed
// once it is committed.
func (w *worker) submit(j job, res store.OutboxResult) chan struct{} {
	o := outcome{res: res, kind: j.msg.Kind, done: make(chan struct{})}
	w.r.outcomes <- o
	return o.done
}

// committed is called by the recorder for each outcome it committed.
func (r *run) committed(o outcome) {
	r.mu.Lock()
	delete(r.held, o.res.ID)
	r.mu.Unlock()
	r.inflight.Add(-1)
	close(o.done)
	select {
	case r.idle <- struct{}{}:
	default:
	}
}

// prepare decides what becomes of one claimed row: an outcome without
// sending (stale, ineligible, nothing to send, retry later), or the content
// to send (send is true).
func (w *worker) prepare(j job) (content Content, res store.OutboxResult, send bool) {
	m, msg := w.r.m, j.msg
	now := m.opts.Now()
	res = store.OutboxResult{ID: msg.ID, SubscriberID: msg.SubscriberID}
	if !msg.ExpiresAt.IsZero() && now.After(msg.ExpiresAt) {
		res.State, res.Error = store.OutboxExpired, "stale: not sent in time"
		return content, res, false
	}
	if ok, why := eligible(msg); !ok {
		res.State, res.Error = store.OutboxCancelled, why
		return content, res, false
	}
	if _, gone := w.r.bounced.Load(msg.SubscriberID); gone && msg.SubscriberID != 0 {
		// Claimed before the bounce was recorded: no further mail to them.
		res.State, res.Error = store.OutboxCancelled, "recipient bounced"
		return content, res, false
	}
	composer, ok := m.composers[msg.Kind]
	if !ok {
		return content, m.retry(msg, now, fmt.Sprintf("no composer for kind %q", msg.Kind)), false
	}
	content, err := composer.Compose(w.r.hard, msg)
	if errors.Is(err, ErrSkip) {
		res.State, res.Error = store.OutboxCancelled, err.Error()
		return content, res, false
	}
	if err != nil {
		m.log.Warn("composing a message failed; will retry", "outbox_id", msg.ID, "kind", msg.Kind, "err", err)
		return content, m.retry(msg, now, "compose: "+err.Error()), false
	}
	if err := m.limiter.Wait(w.r.ctx); err != nil {
		res.Release = true
		return content, res, false
	}
	return content, res, true
}

// deliver sends one message on the worker's session, opening one if needed,
// and turns the reply into an outcome.
func (w *worker) deliver(msg store.OutboxMessage, content Content) store.OutboxResult {
	m := w.r.m
	res := store.OutboxResult{ID: msg.ID, SubscriberID: msg.SubscriberID}
	for try := 0; ; try++ {
		fresh := w.sess == nil
		if fresh {
			if err := w.openSession(); err != nil {
				return m.retry(msg, m.opts.Now(), err.Error())
			}
		}
		if eight := w.sess.eightBit(); eight != w.eight {
			// The session differs from the guess the message was encoded on.
			w.eight = eight
			if res, ok := w.encode(msg, content, eight); !ok {
				return res
			}
		}
		start := time.Now()
		w.wire.id = messageID(msg, m.domain)
		err := w.sess.send(&w.wire)
		m.metrics.latency.Observe(time.Since(start).Seconds())
		if err == nil {
			w.backoff = 0
			res.State, res.MessageID, res.Subject = store.OutboxSent, messageID(msg, m.domain), content.Subject
			return res
		}
		var se *sendErr
		if !errors.As(err, &se) {
			se = &sendErr{err: err, temp: true, broken: true}
		}
		if se.broken {
			w.closeSession()
		}
		// A kept-open connection that the server closed in the meantime:
		// nothing of the message went out, so try once more on a new one.
		if se.broken && se.early && !fresh && try == 0 {
			continue
		}
		return w.outcome(msg, se)
	}
}

// encode builds the message of a row into w.wire, 8bit or not; a message
// that cannot be built fails at once (ok is false), it would never go.
func (w *worker) encode(msg store.OutboxMessage, content Content, eight bool) (res store.OutboxResult, ok bool) {
	m := w.r.m
	env := envelope{From: m.opts.From, To: msg.To, Kind: msg.Kind, Date: m.opts.Now(),
		MsgID: messageID(msg, m.domain), ListID: listID(m.opts.SiteName, msg.Kind, m.domain),
		EightBit: eight && !m.opts.QuotedPrintable, DKIM: m.opts.DKIM}
	switch msg.Kind {
	case KindAlert:
		env.FeedbackID = fmt.Sprintf("%s:%d:herald", msg.Kind, msg.AlertID)
	case KindDigest:
		env.FeedbackID = fmt.Sprintf("%s:%d:herald", msg.Kind, msg.DigestRunID)
	}
	if m.opts.VERP != nil && env.FeedbackID != "" {
		env.Sender = m.opts.VERP.Address(msg.ID)
	}
	if err := w.wire.encode(content, env); err != nil {
		m.log.Error("message cannot be built", "outbox_id", msg.ID, "kind", msg.Kind, "err", err)
		res = store.OutboxResult{ID: msg.ID, SubscriberID: msg.SubscriberID, State: store.OutboxFailed, Error: err.Error()}
		return res, false
	}
	return res, true
}

func (w *worker) outcome(msg store.OutboxMessage, se *sendErr) store.OutboxResult {
	m := w.r.m
	res := store.OutboxResult{ID: msg.ID, SubscriberID: msg.SubscriberID}
	if se.temp {
		m.log.Warn("temporary delivery failure; will retry", "outbox_id", msg.ID, "kind", msg.Kind,
			"code", se.code, "attempt", msg.Attempts, "err", se.err)
		return m.retry(msg, m.opts.Now(), se.Error())
	}
	res.State, res.Error, res.Bounce = store.OutboxFailed, se.Error(), se.bounce && msg.SubscriberID != 0
	if res.Bounce {
		w.r.bounced.Store(msg.SubscriberID, true)
		res.MessageID = messageID(msg, m.domain) // kept with the recorded bounce
	}
	m.log.Error("delivery failed permanently", "outbox_id", msg.ID, "kind", msg.Kind, "code", se.code,
		"subscriber_id", msg.SubscriberID, "bounced", res.Bounce, "err", se.err)
	return res
}

// openSession connects. After a failure the worker does not try again for
// a while (1 s, doubling up to 1 min): the messages it takes meanwhile are
// deferred at once with the last error, so a server that is down is not
// hammered and a claimed batch does not wait behind it.
func (w *worker) openSession() error {
	m := w.r.m
	if time.Now().Before(w.downUntil) {
		return fmt.Errorf("mail server unreachable: %w", w.lastErr)
	}
	ctx, cancel := context.WithTimeout(w.r.hard, m.opts.Timeout)
	defer cancel()
	s, err := m.transport.open(ctx)
	if err != nil {
		w.backoff = min(max(2*w.backoff, time.Second), time.Minute)
		w.downUntil, w.lastErr = time.Now().Add(w.backoff), err
		m.log.Warn("cannot reach the mail server", "worker", w.id, "retry_in", w.backoff, "err", err)
		return err
	}
	m.metrics.connections.Inc()
	w.sess = s
	w.stop = context.AfterFunc(w.r.hard, s.abort)
	return nil
}

func (w *worker) closeSession() {
	if w.sess == nil {
		return
	}
	w.stop()
	w.sess.close()
	w.sess, w.stop = nil, nil
}

// eligible applies the recipient rules: confirm goes only to a pending
// subscriber, every other kind only to an active one; a row whose
// subscriber was erased is dropped; a row to an address and no subscriber
// (an alert's test copy) goes to that address.
func eligible(m store.OutboxMessage) (bool, string) {
	if m.SubscriberID == 0 {
		if m.To == "" {
			return false, "recipient erased"
		}
		return true, ""
	}
	if m.To == "" {
		return false, "recipient erased"
	}
	want := "active"
	if m.Kind == KindConfirm {
		want = "pending"
	}
	if m.Status != want {
		return false, "recipient is " + m.Status
	}
	return true, ""
}

// retry schedules another attempt with exponential backoff from RetryMin
// and ±20% jitter, or fails the message once RetryFor has passed since it
// was queued (SPEC 5.4: up to 48 h).
func (m *Mailer) retry(msg store.OutboxMessage, now time.Time, why string) store.OutboxResult {
	res := store.OutboxResult{ID: msg.ID, SubscriberID: msg.SubscriberID, Error: why}
	deadline := msg.CreatedAt.Add(m.opts.RetryFor)
	if !now.Before(deadline) {
		res.State, res.Error = store.OutboxFailed, "gave up after "+m.opts.RetryFor.String()+": "+why
		return res
	}
	res.State, res.NextAttempt = store.OutboxQueued, now.Add(Backoff(m.opts.RetryMin, msg.Attempts))
	if res.NextAttempt.After(deadline) {
		res.NextAttempt = deadline
	}
	return res
}

// maxBackoff caps the delay between two attempts.
const maxBackoff = 6 * time.Hour

// Backoff is the delay before the next attempt after the given number of
// attempts (1 for the first): min, 2·min, 4·min, ... capped at 6 h, each
// with ±20% jitter so that messages deferred together do not return
// together.
func Backoff(minDelay time.Duration, attempts int) time.Duration {
	d := minDelay
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
