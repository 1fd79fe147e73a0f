package hooks

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"herald/store"
	"herald/subscribers"
)

// snsMessage is an SNS HTTP(S) delivery: a Notification, or a
// SubscriptionConfirmation / UnsubscribeConfirmation.
type snsMessage struct {
	Type             string
	MessageId        string
	Token            string
	TopicArn         string
	Subject          *string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
}

// snsHost is sns.<region>.amazonaws.com (and the China partition's
// amazonaws.com.cn).
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?$`)

// SNSURLAllowed is the production rule for a certificate or SubscribeURL:
// https, on an sns.<region>.amazonaws.com host, no user info and no other
// port. Anything else could make herald fetch a key a forger controls.
func SNSURLAllowed(u *url.URL) bool {
	return u != nil && u.Scheme == "https" && u.User == nil && u.Port() == "" && u.Opaque == "" &&
		snsHost.MatchString(u.Host)
}

// stringToSign is the text SNS signs: the named fields, each as
// "Name\nvalue\n", in this order (Subject only when present).
func (m *snsMessage) stringToSign() (string, error) {
	var fields [][2]string
	switch m.Type {
	case "Notification":
		fields = append(fields, [2]string{"Message", m.Message}, [2]string{"MessageId", m.MessageId})
		if m.Subject != nil {
			fields = append(fields, [2]string{"Subject", *m.Subject})
		}
		fields = append(fields, [2]string{"Timestamp", m.Timestamp}, [2]string{"TopicArn", m.TopicArn}, [2]string{"Type", m.Type})
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		fields = [][2]string{{"Message", m.Message}, {"MessageId", m.MessageId}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	default:
		return "", fmt.Errorf("unknown SNS message type %q", m.Type)
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f[0] + "\n" + f[1] + "\n")
	}
	return b.String(), nil
}

// certCache keeps the SNS signing certificates fetched, by URL.
type certCache struct {
	client *http.Client
	allow  func(*url.URL) bool
	mu     sync.Mutex
	certs  map[string]*x509.Certificate
}

func newCertCache(c *http.Client, allow func(*url.URL) bool) *certCache {
	return &certCache{client: c, allow: allow, certs: map[string]*x509.Certificate{}}
}

func (c *certCache) get(ctx context.Context, raw string) (*x509.Certificate, error) {
	u, err := url.Parse(raw)
	if err != nil || !c.allow(u) {
		return nil, unauthorized("bad_certificate_url", "SigningCertURL is not an https URL on an sns.<region>.amazonaws.com host")
	}
	c.mu.Lock()
	cert, ok := c.certs[raw]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, unauthorized("bad_certificate_url", "SigningCertURL cannot be fetched")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch SNS certificate: %w", err) // 503: SNS retries
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch SNS certificate: status %d: %v", resp.StatusCode, err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, unauthorized("bad_certificate", "the signing certificate is not PEM")
	}
	cert, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, unauthorized("bad_certificate", "the signing certificate cannot be read")
	}
	c.mu.Lock()
	if len(c.certs) > 100 {
		clear(c.certs)
	}
	c.certs[raw] = cert
	c.mu.Unlock()
	return cert, nil
}

// verify checks an SNS message's signature: version 1 is RSA with SHA1,
// version 2 RSA with SHA256.
func (h *Hooks) verifySNS(ctx context.Context, m *snsMessage) error {
	text, err := m.stringToSign()
	if err != nil {
		return malformed(err.Error())
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return unauthorized("bad_signature", "missing or malformed Signature")
	}
	var hash crypto.Hash
	var sum []byte
	switch m.SignatureVersion {
	case "1":
		s := sha1.Sum([]byte(text))
		hash, sum = crypto.SHA1, s[:]
	case "2":
		s := sha256.Sum256([]byte(text))
		hash, sum = crypto.SHA256, s[:]
	default:
		return unauthorized("bad_signature", "unknown SignatureVersion")
	}
	cert, err := h.certs.get(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	if now := h.opts.Now(); now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return unauthorized("bad_certificate", "the signing certificate is not valid now")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || rsa.VerifyPKCS1v15(pub, hash, sum, sig) != nil {
		return unauthorized("bad_signature", "the SNS signature does not verify")
	}
	return nil
}

// ses: POST /webhooks/ses.
func (h *Hooks) ses(r *http.Request, body []byte) (int, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return 0, malformed("not an SNS message")
	}
	if err := h.verifySNS(r.Context(), &m); err != nil {
		return 0, err
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		return 0, h.confirmSNS(r.Context(), &m)
	case "UnsubscribeConfirmation":
		h.log.Warn("SNS topic unsubscribed herald: SES bounces no longer arrive", "topic", m.TopicArn)
		return 0, nil
	}
	reps, err := sesReports(m.Message, h.verpID)
	if err != nil {
		return 0, err
	}
	return h.record(r.Context(), reps)
}

// confirmSNS confirms a subscription by GET of its SubscribeURL (under the
// same host rule as certificates).
func (h *Hooks) confirmSNS(ctx context.Context, m *snsMessage) error {
	u, err := url.Parse(m.SubscribeURL)
	if err != nil || !h.opts.AllowSNSURL(u) {
		return unauthorized("bad_subscribe_url", "SubscribeURL is not an https URL on an sns.<region>.amazonaws.com host")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return malformed("bad SubscribeURL")
	}
	resp, err := h.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("confirm SNS subscription: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("confirm SNS subscription: status %d", resp.StatusCode)
	}
	h.log.Info("SNS subscription confirmed", "topic", m.TopicArn)
	return nil
}

// sesNotification is the part of an SES notification herald reads.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"` // configuration-set event publishing
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		Timestamp  time.Time `json:"timestamp"`
		FeedbackID string    `json:"feedbackId"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		Timestamp             time.Time `json:"timestamp"`
		FeedbackID            string    `json:"feedbackId"`
		ComplaintFeedbackType string    `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail struct {
		Source        string `json:"source"`
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
		Headers []struct {
			Name, Value string
		} `json:"headers"`
	} `json:"mail"`
}

// sesReports reads an SES notification: Bounce (Permanent: hard;
// Transient and Undetermined: soft) and Complaint, one report per
// recipient; other types (Delivery) give none.
func sesReports(msg string, verpID func(string) int64) ([]subscribers.BounceReport, error) {
	var n sesNotification
	if err := json.Unmarshal([]byte(msg), &n); err != nil {
		return nil, malformed("the SNS Message is not an SES notification")
	}
	typ := n.NotificationType
	if typ == "" {
		typ = n.EventType
	}
	base := subscribers.BounceReport{Source: store.BounceSES, OutboxID: verpID(n.Mail.Source), ByRecipient: true}
	if id := n.Mail.CommonHeaders.MessageID; id != "" {
		base.MessageIDs = append(base.MessageIDs, id)
	}
	for _, hd := range n.Mail.Headers {
		if strings.EqualFold(hd.Name, "Message-ID") {
			base.MessageIDs = append(base.MessageIDs, hd.Value)
		}
	}
	var out []subscribers.BounceReport
	switch {
	case typ == "Bounce" && n.Bounce != nil:
		kind := store.BounceSoft
		if n.Bounce.BounceType == "Permanent" {
			kind = store.BounceHard
		}
		for _, r := range n.Bounce.BouncedRecipients {
			rep := base
			rep.Kind, rep.At, rep.Recipient = kind, n.Bounce.Timestamp, r.EmailAddress
			rep.EventID = n.Bounce.FeedbackID + "/" + n.Mail.MessageID
			rep.Diagnostic = strings.TrimSpace(r.Status + " " + r.DiagnosticCode)
			out = append(out, rep)
		}
	case typ == "Complaint" && n.Complaint != nil:
		for _, r := range n.Complaint.ComplainedRecipients {
			rep := base
			rep.Kind, rep.At, rep.Recipient = store.BounceComplaint, n.Complaint.Timestamp, r.EmailAddress
			rep.EventID = n.Complaint.FeedbackID + "/" + n.Mail.MessageID
			rep.Diagnostic = strings.TrimSpace("complaint " + n.Complaint.ComplaintFeedbackType)
			out = append(out, rep)
		}
	case typ == "":
		return nil, malformed("the SES notification has no notificationType")
	}
	return out, nil
}
