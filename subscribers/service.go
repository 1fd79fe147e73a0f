// Package subscribers owns herald's subscribers (SPEC 2, Subscriber): address
// normalization, preferences and their validation, the consent record, the
// signed tokens of links in mail, double opt-in, the preference centre,
// unsubscribing, erasure with a suppression list, and CSV import and export.
// It uses store, releases (for the taxonomy) and mailer (to queue confirm and
// manage notices in the same transaction as the change that causes them);
// it never imports net/http.
package subscribers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"herald/audit"
	"herald/mailer"
	"herald/releases"
	"herald/store"
)

// NoticeInterval is the least time between two confirm or manage mails to
// one address (SPEC 3: at most one per 10 minutes).
const NoticeInterval = 10 * time.Minute

// Service is the subscriber service shared by the web pages, the API, the
// CLI, and (through Tokens) the dispatcher.
type Service struct {
	db        *store.DB
	releases  *releases.Service
	tokens    *Tokens
	now       func() time.Time
	log       *slog.Logger
	defaultTZ string
	baseURL   string
	welcome   bool
	zones     sync.Map
	pow       bool   // HERALD_SIGNUP_POW
	powKey    []byte // HMAC key of proof-of-work challenges
	allow     []string
	block     []string
	audit     *audit.Recorder
}

// Options configures a Service.
type Options struct {
	Secret          []byte // HMAC key of link tokens (config.Config.Secret)
	BaseURL         string // HERALD_BASE_URL, start of every link
	DefaultTimezone string // HERALD_TZ; default "UTC"
	Now             func() time.Time
	Logger          *slog.Logger
	// Welcome queues a welcome mail after each confirmation (SPEC 11,
	// HERALD_WELCOME).
	Welcome bool
	// SignupPOW makes POST /subscribe need a proof of work (SPEC 11,
	// HERALD_SIGNUP_POW).
	SignupPOW bool
	// DomainsAllow and DomainsBlock are domain patterns ("example.org",
	// "*.gov") limiting who may subscribe (HERALD_SIGNUP_DOMAINS_ALLOW,
	// _BLOCK); empty allow lets every domain in.
	DomainsAllow, DomainsBlock []string
	// Audit records staff changes to subscribers (SPEC 7.3); nil records
	// nothing. Entries name subscribers by id only: the log is
	// append-only, and an erased address must not stay in it.
	Audit *audit.Recorder
}

// New returns the subscriber service.
func New(db *store.DB, rel *releases.Service, opts Options) (*Service, error) {
	if len(opts.Secret) < 16 {
		return nil, errors.New("subscribers: the link secret must be at least 16 bytes")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultTimezone == "" {
		opts.DefaultTimezone = "UTC"
	}
	if _, err := time.LoadLocation(opts.DefaultTimezone); err != nil {
		return nil, fmt.Errorf("subscribers: default time zone: %w", err)
	}
	return &Service{
		db: db, releases: rel, now: opts.Now, log: opts.Logger, defaultTZ: opts.DefaultTimezone,
		baseURL: strings.TrimRight(opts.BaseURL, "/"), welcome: opts.Welcome,
		pow: opts.SignupPOW, powKey: powKey(opts.Secret), allow: lowerAll(opts.DomainsAllow), block: lowerAll(opts.DomainsBlock),
		tokens: NewTokens(opts.Secret, opts.BaseURL, opts.Now), audit: opts.Audit,
	}, nil
}

// Tokens makes and checks link tokens; the dispatcher calls its
// UnsubscribeURL and PreferencesURL for every message.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Taxonomy is the current taxonomy (for the forms).
func (s *Service) Taxonomy(ctx context.Context) (*releases.Taxonomy, error) {
	return s.releases.Taxonomy(ctx)
}

// DefaultTimezone is HERALD_TZ.
func (s *Service) DefaultTimezone() string { return s.defaultTZ }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) validator(ctx context.Context) (*validator, error) {
	tax, err := s.releases.Taxonomy(ctx)
	if err != nil {
		return nil, err
	}
	return &validator{tax: tax, defaultTZ: s.defaultTZ, zones: &s.zones}, nil
}

// Consent is where a consent came from: the client's IP and the page (or
// "api", "import") it was given on.
type Consent struct {
	IP   string
	Page string
}

func setConsent(sub *store.Subscriber, c Consent, now time.Time) {
	sub.ConsentAt, sub.ConsentIP, sub.ConsentPage = now, clip(c.IP, 64), clip(c.Page, 200)
	sub.ConsentPrefs = PrefsOf(sub).JSON()
}

func clip(s string, n int) string { return releases.Truncate(releases.OneLine(s), n) }

// activate makes sub active as of now: confirmed, with the digest watermark
// at confirmation (SPEC 5.3: releases after confirmation are due).
func activate(sub *store.Subscriber, now time.Time) {
	sub.Status, sub.ConfirmedAt, sub.DigestSince, sub.UpdatedAt = store.SubscriberActive, now, now, now
}

// notify queues a confirm or manage mail to sub in tx, unless one went out
// less than NoticeInterval ago; it updates sub's notice fields (the caller
// writes sub). It reports whether a mail was queued.
func (s *Service) notify(ctx context.Context, tx *store.Tx, sub *store.Subscriber, kind string, tax *releases.Taxonomy, now time.Time) (bool, error) {
	if !sub.NoticeAt.IsZero() && now.Sub(sub.NoticeAt) < NoticeInterval {
		return false, nil
	}
	sub.NoticeSeq++
	sub.NoticeAt = now
	data := mailer.NoticeData{
		Language:       sub.Language,
		PreferencesURL: s.tokens.PreferencesURL(sub.ID),
		UnsubscribeURL: s.tokens.UnsubscribeURL(sub.ID),
		Cadence:        sub.Cadence,
	}
	if kind == mailer.KindConfirm {
		data.ConfirmURL = s.tokens.ConfirmURL(sub.ID)
	}
	for _, t := range sub.Topics {
		data.Topics = append(data.Topics, tax.TopicName(t, sub.Language))
	}
	for _, r := range sub.Regions {
		data.Regions = append(data.Regions, tax.RegionName(r, sub.Language))
	}
	key := kind + ":" + strconv.FormatInt(sub.ID, 10) + ":" + strconv.FormatInt(sub.NoticeSeq, 10)
	item, err := mailer.NoticeItem(kind, sub.ID, key, data)
	if err != nil {
		return false, err
	}
	if _, err := tx.Enqueue(ctx, now, []store.OutboxItem{item}); err != nil {
		return false, err
	}
	return true, nil
}

// SubscribeRequest is a submission of the subscribe form (or its JSON).
type SubscribeRequest struct {
	Email   string
	Prefs   PrefsInput
	Consent Consent
	// POW is the altcha field: the proof-of-work solution (see pow.go).
	POW string
	// Honeypot is a field hidden from people: a robot that fills it in is
	// answered as usual and nothing happens.
	Honeypot string
}

// Subscribe handles a subscription request (SPEC 3, POST /subscribe). It
// returns only validation errors (and failures of the database): whatever
// the address's state, the caller answers the same, so that the response
// never tells whether an address is known. A new, pending, unsubscribed or
// bounced address becomes pending with these preferences and gets a
// confirmation mail; an active one keeps its preferences (a stranger must
// not change them) and gets a "manage your subscription" mail. A
// suppressed (erased or complaining) address is treated as new: it may come
// back through double opt-in, and stays suppressed until it confirms. At
// most one mail per address per NoticeInterval.
func (s *Service) Subscribe(ctx context.Context, req SubscribeRequest) error {
	if strings.TrimSpace(req.Honeypot) != "" {
		s.log.Info("subscribe request", "outcome", "honeypot filled in: ignored")
		return nil
	}
	email, err := NormalizeAddress(req.Email)
	if err != nil {
		return err
	}
	if err := s.domainAllowed(email); err != nil {
		return err
	}
	v, err := s.validator(ctx)
	if err != nil {
		return err
	}
	patch, err := v.patch(req.Prefs)
	if err != nil {
		return err
	}
	if s.pow {
		if err := s.VerifyPOW(ctx, req.POW); err != nil {
			return err
		}
	}
	prefs := patch.apply(v.defaults())
	now := s.clock()
	var outcome string
	var id int64
	var suppressed bool
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// A suppressed (erased or complaining) address may come back
		// through a new double opt-in (SPEC 11): it gets a confirmation
		// like a new one, and only confirming lifts the suppression.
		var err error
		if suppressed, err = tx.SuppressionExists(ctx, suppressionHashes(req.Email, email)...); err != nil {
			return err
		}
		sub, err := tx.SubscriberByEmail(ctx, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			sub = store.Subscriber{Email: email, Status: store.SubscriberPending, CreatedAt: now, UpdatedAt: now}
			prefs.applyTo(&sub)
			setConsent(&sub, req.Consent, now)
			if err := tx.InsertSubscriber(ctx, &sub); err != nil {
				return err
			}
			outcome = "new"
		case err != nil:
			return err
		case sub.Status == store.SubscriberActive:
			outcome = "active"
		default:
			outcome = "re-" + sub.Status
			sub.Status, sub.UpdatedAt = store.SubscriberPending, now
			prefs.applyTo(&sub)
			setConsent(&sub, req.Consent, now)
		}
		id = sub.ID
		kind := mailer.KindConfirm
		if sub.Status == store.SubscriberActive {
			kind = mailer.KindManage
		}
		queued, err := s.notify(ctx, tx, &sub, kind, v.tax, now)
		if err != nil {
			return err
		}
		if !queued {
			outcome += ", mail held back"
		}
		return tx.UpdateSubscriber(ctx, &sub)
	})
	if err != nil {
		return err
	}
	if suppressed {
		outcome += ", suppressed until confirmed"
	}
	s.log.Info("subscribe request", "subscriber_id", id, "outcome", outcome)
	return nil
}

// Get returns the subscriber with that id.
func (s *Service) Get(ctx context.Context, id int64) (store.Subscriber, error) {
	return s.db.Subscriber(ctx, id)
}

// ByToken checks a token for purpose and returns the subscriber it names:
// ErrBadToken, ErrTokenExpired, or ErrGone when the subscriber was erased.
// Nothing changes.
func (s *Service) ByToken(ctx context.Context, p Purpose, token string) (store.Subscriber, error) {
	id, err := s.tokens.Verify(p, token)
	if err != nil {
		return store.Subscriber{}, err
	}
	sub, err := s.db.Subscriber(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sub, fmt.Errorf("subscriber %d: %w", id, ErrGone)
	}
	return sub, err
}

// byToken verifies a token for purpose and, in one transaction, hands the
// subscriber it names to change, which edits it and reports whether there is
// anything to write. An erased subscriber gives ErrGone.
func (s *Service) byToken(ctx context.Context, p Purpose, token string,
	change func(tx *store.Tx, sub *store.Subscriber, now time.Time) (bool, error)) (store.Subscriber, error) {
	id, err := s.tokens.Verify(p, token)
	if err != nil {
		return store.Subscriber{}, err
	}
	now := s.clock()
	var sub store.Subscriber
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if sub, err = s.txSubscriber(ctx, tx, id); err != nil {
			return err
		}
		changed, err := change(tx, &sub, now)
		if err != nil || !changed {
			return err
		}
		return tx.UpdateSubscriber(ctx, &sub)
	})
	if err != nil {
		return store.Subscriber{}, err
	}
	return sub, nil
}

func (s *Service) txSubscriber(ctx context.Context, tx *store.Tx, id int64) (store.Subscriber, error) {
	sub, err := tx.Subscriber(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sub, fmt.Errorf("subscriber %d: %w", id, ErrGone)
	}
	return sub, err
}

// Confirm activates the subscriber a confirmation token names (POST
// /confirm): pending becomes active, with confirmed_at and the digest
// watermark set to now. Confirming again is harmless. A subscriber who has
// unsubscribed (or bounced) since gets ErrGone: an old confirmation link
// does not bring them back.
func (s *Service) Confirm(ctx context.Context, token string) (store.Subscriber, error) {
	sub, err := s.byToken(ctx, PurposeConfirm, token, func(tx *store.Tx, sub *store.Subscriber, now time.Time) (bool, error) {
		switch sub.Status {
		case store.SubscriberActive:
			return false, nil
		case store.SubscriberPending:
			activate(sub, now)
			// Their own confirmation lifts a suppression (SPEC 11: an
			// erased or complaining person may come back).
			if err := tx.RemoveSuppressions(ctx, suppressionHashes(sub.Email, sub.Email)...); err != nil {
				return false, err
			}
			if err := recordEvent(ctx, tx, store.EventSubscriberConfirmed, sub, now); err != nil {
				return false, err
			}
			return true, s.welcomeMail(ctx, tx, sub, now)
		}
		return false, fmt.Errorf("subscriber %d is %s: %w", sub.ID, sub.Status, ErrGone)
	})
	if err == nil {
		s.log.Info("subscriber confirmed", "subscriber_id", sub.ID)
	}
	return sub, err
}

// UpdatePreferences changes the preferences of the subscriber a preferences
// token names (POST /preferences). The status does not change.
func (s *Service) UpdatePreferences(ctx context.Context, token string, in PrefsInput) (store.Subscriber, error) {
	if _, err := s.tokens.Verify(PurposePreferences, token); err != nil {
		return store.Subscriber{}, err // a forged token is refused before any validation
	}
	v, err := s.validator(ctx)
	if err != nil {
		return store.Subscriber{}, err
	}
	patch, err := v.patch(in)
	if err != nil {
		return store.Subscriber{}, err
	}
	sub, err := s.byToken(ctx, PurposePreferences, token, func(_ *store.Tx, sub *store.Subscriber, now time.Time) (bool, error) {
		old := PrefsOf(sub)
		next := patch.apply(old)
		if next.equal(old) {
			return false, nil
		}
		next.applyTo(sub)
		sub.UpdatedAt = now
		return true, nil
	})
	if err == nil {
		s.log.Info("subscriber preferences updated", "subscriber_id", sub.ID)
	}
	return sub, err
}

// Resubscribe makes the subscriber a preferences token names active again
// after an unsubscribe or a bounce (or activates a pending one): the token
// came by mail to their address, which proves it is theirs, so no new
// confirmation is needed. The consent record is renewed; the digest
// watermark restarts from now.
func (s *Service) Resubscribe(ctx context.Context, token string, c Consent) (store.Subscriber, error) {
	sub, err := s.byToken(ctx, PurposePreferences, token, func(tx *store.Tx, sub *store.Subscriber, now time.Time) (bool, error) {
		if sub.Status == store.SubscriberActive {
			return false, nil
		}
		// A complaint put the address on the suppression list: an old
		// link does not bring them back, only a new double opt-in does
		// (SPEC 8.3).
		if suppressed, err := tx.SuppressionExists(ctx, suppressionHashes(sub.Email, sub.Email)...); err != nil || suppressed {
			if err == nil {
				err = fmt.Errorf("subscriber %d complained: %w", sub.ID, ErrGone)
			}
			return false, err
		}
		activate(sub, now)
		setConsent(sub, c, now)
		return true, recordEvent(ctx, tx, store.EventSubscriberConfirmed, sub, now)
	})
	if err == nil {
		s.log.Info("subscriber re-subscribed", "subscriber_id", sub.ID)
	}
	return sub, err
}

// Unsubscribe unsubscribes the subscriber named by an unsubscribe or a
// preferences token (POST /unsubscribe, RFC 8058 one-click, and the
// preference centre's "unsubscribe from all"), at once, and cancels the mail
// still queued for them. Unsubscribing twice is harmless; an erased
// subscriber gives ErrGone (they get no mail either way).
func (s *Service) Unsubscribe(ctx context.Context, p Purpose, token string) (store.Subscriber, error) {
	if p != PurposeUnsubscribe && p != PurposePreferences {
		return store.Subscriber{}, ErrBadToken
	}
	cancelled := 0
	sub, err := s.byToken(ctx, p, token, func(tx *store.Tx, sub *store.Subscriber, now time.Time) (bool, error) {
		if sub.Status == store.SubscriberUnsubscribed || sub.Status == store.SubscriberBounced {
			return false, nil
		}
		unsubscribe(sub, now)
		var err error
		if cancelled, err = tx.CancelQueued(ctx, now, sub.ID, "subscriber unsubscribed"); err != nil {
			return false, err
		}
		return true, recordEvent(ctx, tx, store.EventSubscriberUnsubscribe, sub, now)
	})
	if err == nil {
		s.log.Info("subscriber unsubscribed", "subscriber_id", sub.ID, "cancelled_mail", cancelled)
	}
	return sub, err
}

func unsubscribe(sub *store.Subscriber, now time.Time) {
	sub.Status, sub.UnsubscribedAt, sub.UpdatedAt = store.SubscriberUnsubscribed, now, now
}
