package hooks

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herald/store"
	"herald/subscribers"
)

// postmark: POST /webhooks/postmark, HTTP basic auth whose password is
// HERALD_WEBHOOK_SECRET (any user name). RecordType Bounce (Type
// HardBounce and BadEmailAddress: hard; SoftBounce, Transient, DnsError:
// soft) and SpamComplaint.
func (h *Hooks) postmark(r *http.Request, body []byte) (int, error) {
	_, pass, ok := r.BasicAuth()
	if h.opts.WebhookSecret == "" {
		return 0, unauthorized("not_configured", "HERALD_WEBHOOK_SECRET is not set")
	}
	if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(h.opts.WebhookSecret)) != 1 {
		return 0, unauthorized("bad_credentials", "wrong or missing basic-auth password")
	}
	var ev struct {
		RecordType  string
		ID          json.Number
		Type        string
		MessageID   string
		Email       string
		Description string
		Details     string
		BouncedAt   time.Time
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return 0, malformed("not a Postmark webhook")
	}
	rep := subscribers.BounceReport{Source: store.BouncePostmark, Recipient: ev.Email, ByRecipient: true, At: ev.BouncedAt,
		EventID: ev.RecordType + ":" + ev.ID.String(), Diagnostic: strings.TrimSpace(ev.Description + " " + ev.Details)}
	switch {
	case ev.RecordType == "SpamComplaint" || ev.Type == "SpamComplaint":
		rep.Kind = store.BounceComplaint
	case ev.RecordType != "Bounce":
		return 0, nil // deliveries, opens, clicks: nothing to do
	case ev.Type == "HardBounce" || ev.Type == "BadEmailAddress":
		rep.Kind = store.BounceHard
	case ev.Type == "SoftBounce" || ev.Type == "Transient" || ev.Type == "DnsError":
		rep.Kind = store.BounceSoft
	default:
		return 0, nil // auto-responders, challenge-verification and the like
	}
	return h.record(r.Context(), []subscribers.BounceReport{rep})
}

// sendgrid: POST /webhooks/sendgrid, the Signed Event Webhook: an ECDSA
// P-256 signature (base64 ASN.1) over timestamp + raw body, with the key
// HERALD_SENDGRID_PUBLIC_KEY (base64 DER). Events bounce (type bounce:
// hard; blocked: soft), dropped (for a bounced or invalid address: hard;
// a spam-reporting one: complaint) and spamreport.
func (h *Hooks) sendgrid(r *http.Request, body []byte) (int, error) {
	if h.opts.SendGridPublicKey == "" {
		return 0, unauthorized("not_configured", "HERALD_SENDGRID_PUBLIC_KEY is not set")
	}
	der, err := base64.StdEncoding.DecodeString(h.opts.SendGridPublicKey)
	if err != nil {
		return 0, unauthorized("not_configured", "HERALD_SENDGRID_PUBLIC_KEY is not base64")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	pub, ok := k.(*ecdsa.PublicKey)
	if err != nil || !ok {
		return 0, unauthorized("not_configured", "HERALD_SENDGRID_PUBLIC_KEY is not an ECDSA public key")
	}
	ts := r.Header.Get("X-Twilio-Email-Event-Webhook-Timestamp")
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Twilio-Email-Event-Webhook-Signature"))
	if ts == "" || err != nil || len(sig) == 0 {
		return 0, unauthorized("bad_signature", "missing signature or timestamp headers")
	}
	sum := sha256.Sum256(append([]byte(ts), body...))
	if !ecdsa.VerifyASN1(pub, sum[:], sig) {
		return 0, unauthorized("bad_signature", "the signature does not verify")
	}
	if err := h.fresh(ts); err != nil {
		return 0, err
	}
	var events []struct {
		Email     string `json:"email"`
		Event     string `json:"event"`
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		Status    string `json:"status"`
		SMTPID    string `json:"smtp-id"`
		EventID   string `json:"sg_event_id"`
		Timestamp int64  `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &events); err != nil {
		return 0, malformed("not a SendGrid event array")
	}
	var reps []subscribers.BounceReport
	for _, e := range events {
		rep := subscribers.BounceReport{Source: store.BounceSendGrid, Recipient: e.Email, ByRecipient: true, EventID: e.EventID,
			At: time.Unix(e.Timestamp, 0), Diagnostic: strings.TrimSpace(e.Status + " " + e.Reason)}
		if e.SMTPID != "" {
			rep.MessageIDs = []string{e.SMTPID}
		}
		reason := strings.ToLower(e.Reason)
		switch {
		case e.Event == "bounce" && e.Type == "blocked":
			rep.Kind = store.BounceSoft
		case e.Event == "bounce":
			rep.Kind = store.BounceHard
		case e.Event == "spamreport", e.Event == "dropped" && strings.Contains(reason, "spam reporting"):
			rep.Kind = store.BounceComplaint
		case e.Event == "dropped" && (strings.Contains(reason, "bounced") || strings.Contains(reason, "invalid")):
			rep.Kind = store.BounceHard
		default:
			continue
		}
		reps = append(reps, rep)
	}
	return h.record(r.Context(), reps)
}

// fresh refuses a signed timestamp (Unix seconds) further than MaxAge
// from now: a captured request cannot be replayed later.
func (h *Hooks) fresh(ts string) error {
	secs, err := strconv.ParseFloat(ts, 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return unauthorized("bad_timestamp", "the timestamp is not a number of seconds")
	}
	at := time.Unix(int64(secs), 0)
	if d := h.opts.Now().Sub(at); d > MaxAge || d < -MaxAge {
		return unauthorized("too_old", "the signed timestamp is more than 5 minutes away")
	}
	return nil
}

// mailgun: POST /webhooks/mailgun. The body holds signature {timestamp,
// token, signature}: hex HMAC-SHA256 of timestamp+token keyed by
// HERALD_MAILGUN_SIGNING_KEY; a token is accepted once, a timestamp within
// MaxAge. event-data.event failed (severity permanent: hard; temporary:
// soft) and complained.
func (h *Hooks) mailgun(r *http.Request, body []byte) (int, error) {
	if h.opts.MailgunSigningKey == "" {
		return 0, unauthorized("not_configured", "HERALD_MAILGUN_SIGNING_KEY is not set")
	}
	var p struct {
		Signature struct {
			Timestamp string `json:"timestamp"`
			Token     string `json:"token"`
			Signature string `json:"signature"`
		} `json:"signature"`
		EventData struct {
			Event     string  `json:"event"`
			ID        string  `json:"id"`
			Timestamp float64 `json:"timestamp"`
			Severity  string  `json:"severity"`
			Reason    string  `json:"reason"`
			Recipient string  `json:"recipient"`
			Envelope  struct {
				Sender string `json:"sender"`
			} `json:"envelope"`
			Message struct {
				Headers struct {
					MessageID string `json:"message-id"`
				} `json:"headers"`
			} `json:"message"`
			DeliveryStatus struct {
				Code        int    `json:"code"`
				Message     string `json:"message"`
				Description string `json:"description"`
			} `json:"delivery-status"`
		} `json:"event-data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return 0, malformed("not a Mailgun webhook")
	}
	s := p.Signature
	mac := hmac.New(sha256.New, []byte(h.opts.MailgunSigningKey))
	mac.Write([]byte(s.Timestamp + s.Token))
	want := hex.EncodeToString(mac.Sum(nil))
	if s.Token == "" || !hmac.Equal([]byte(strings.ToLower(s.Signature)), []byte(want)) {
		return 0, unauthorized("bad_signature", "the signature does not verify")
	}
	if err := h.fresh(s.Timestamp); err != nil {
		return 0, err
	}
	if h.opts.Replays != nil {
		now := h.opts.Now()
		first, err := h.opts.Replays.UseChallenge(r.Context(), "mailgun:"+s.Token, now.Add(2*MaxAge), now)
		if err != nil {
			return 0, err
		}
		if !first {
			return 0, unauthorized("replay", "this token was used before")
		}
	}
	e := p.EventData
	rep := subscribers.BounceReport{Source: store.BounceMailgun, Recipient: e.Recipient, ByRecipient: true, EventID: e.ID,
		OutboxID: h.verpID(e.Envelope.Sender), At: time.Unix(int64(e.Timestamp), 0)}
	if e.Message.Headers.MessageID != "" {
		rep.MessageIDs = []string{e.Message.Headers.MessageID}
	}
	code := ""
	if e.DeliveryStatus.Code != 0 {
		code = strconv.Itoa(e.DeliveryStatus.Code) + " "
	}
	rep.Diagnostic = strings.TrimSpace(code + e.DeliveryStatus.Message + " " + e.DeliveryStatus.Description + " " + e.Reason)
	switch {
	case e.Event == "failed" && e.Severity == "permanent":
		rep.Kind = store.BounceHard
	case e.Event == "failed" && e.Severity == "temporary":
		rep.Kind = store.BounceSoft
	case e.Event == "complained":
		rep.Kind = store.BounceComplaint
	default:
		return 0, nil
	}
	return h.record(r.Context(), []subscribers.BounceReport{rep})
}
