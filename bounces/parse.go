// Package bounces reads the bounces and complaints that arrive after a
// message was sent (SPEC 8.3): delivery status notifications (RFC 3464)
// and the common non-standard bounces of Postfix, Exchange and Gmail,
// abuse reports (ARF, RFC 5965), from a mailbox polled over IMAP or POP3.
// It recognises herald's messages by the signed VERP token of the
// envelope sender (mailer.VERP) or by herald's Message-ID, and hands each
// event to the subscriber service, which applies the policy. It never
// imports net/http; the providers' webhooks are in bounces/hooks.
package bounces

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"

	"herald/store"
)

// Report is what a bounce or complaint message says, as far as it can be
// read; Kind is "" for mail that is neither.
type Report struct {
	Kind       string // store.BounceHard | BounceSoft | BounceComplaint, or ""
	Format     string // dsn | arf | text
	Recipient  string // the address that bounced or complained, "" when not given
	Status     string // enhanced status code (5.1.1), "" when unknown
	Diagnostic string
	// Addresses are the envelope and header addresses the report came to
	// or names as the original sender: one may be a VERP address.
	Addresses []string
	// MessageIDs are Message-IDs of the returned message.
	MessageIDs []string
	// FeedbackID is the returned message's Feedback-ID, if any.
	FeedbackID string
}

// ErrNotReport means the message is neither a bounce nor a complaint.
var ErrNotReport = errors.New("bounces: not a delivery status notification or abuse report")

// maxPart bounds what is read of a part (returned messages can be large;
// their headers are at the start).
const maxPart = 1 << 20

// Parse reads a message and returns what it reports. Mail that is not a
// bounce or a complaint gives ErrNotReport. A DSN naming no failed or
// delayed recipient is not a report either.
func Parse(raw []byte) (Report, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Report{}, ErrNotReport
	}
	var r Report
	for _, h := range []string{"To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"} {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(h)] {
			r.Addresses = append(r.Addresses, addresses(v)...)
		}
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt == "multipart/report" && params["boundary"] != "" {
		switch strings.ToLower(params["report-type"]) {
		case "delivery-status":
			r.Format = "dsn"
			err = readReport(&r, msg.Body, params["boundary"], readDeliveryStatus)
		case "feedback-report":
			r.Format = "arf"
			err = readReport(&r, msg.Body, params["boundary"], readFeedback)
		default:
			return Report{}, ErrNotReport
		}
		if err != nil {
			return Report{}, err
		}
		if r.Kind == "" {
			return Report{}, ErrNotReport
		}
		return r, nil
	}
	return readTextBounce(r, msg)
}

// addresses splits a header value into bare addresses.
func addresses(v string) []string {
	list, err := mail.ParseAddressList(v)
	if err != nil {
		return []string{strings.Trim(strings.TrimSpace(v), "<>")}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

// readReport walks a multipart/report: the machine-readable part goes to
// status, the returned message (message/rfc822 or text/rfc822-headers) to
// returnedHeaders.
func readReport(r *Report, body io.Reader, boundary string, status func(*Report, io.Reader) error) error {
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrNotReport
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		var part io.Reader = io.LimitReader(p, maxPart)
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			part = base64Reader(part)
		}
		switch ct {
		case "message/delivery-status", "message/global-delivery-status", "message/feedback-report":
			if err := status(r, part); err != nil {
				return err
			}
		case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
			returnedHeaders(r, part)
		}
	}
}

// readDeliveryStatus reads RFC 3464's fields: a per-message block, then one
// block per recipient. The first recipient whose action is failed or
// delayed is the report's.
func readDeliveryStatus(r *Report, body io.Reader) error {
	tp := textproto.NewReader(bufio.NewReader(body))
	if _, err := tp.ReadMIMEHeader(); err != nil && err != io.EOF { // per-message fields
		return nil
	}
	for {
		h, err := tp.ReadMIMEHeader()
		if len(h) > 0 && r.Kind == "" {
			recipientBlock(r, h)
		}
		if err != nil {
			return nil
		}
	}
}

func recipientBlock(r *Report, h textproto.MIMEHeader) {
	action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
	if action != "failed" && action != "delayed" {
		return // delivered, relayed, expanded: nothing went wrong
	}
	rcpt := typedAddress(h.Get("Final-Recipient"))
	if rcpt == "" {
		rcpt = typedAddress(h.Get("Original-Recipient"))
	}
	if rcpt == "" {
		return // SPEC 8.3: a DSN naming no recipient is skipped
	}
	status := statusCode(h.Get("Status"))
	r.Recipient, r.Status, r.Diagnostic = rcpt, status, oneLine(h.Get("Diagnostic-Code"))
	switch {
	case action == "delayed" || strings.HasPrefix(status, "4"):
		r.Kind = store.BounceSoft
	default:
		r.Kind = store.BounceHard
	}
	if r.Diagnostic == "" {
		r.Diagnostic = status
	}
}

// typedAddress reads "rfc822; user@example.org" (RFC 3464 address-type;
// address).
func typedAddress(v string) string {
	if v = strings.TrimSpace(v); v == "" {
		return ""
	}
	if _, a, ok := strings.Cut(v, ";"); ok {
		v = a
	}
	v = strings.Trim(strings.TrimSpace(v), "<>")
	if !strings.Contains(v, "@") {
		return ""
	}
	return v
}

var statusRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)

func statusCode(v string) string {
	return statusRE.FindString(v)
}

// readFeedback reads RFC 5965's fields. Feedback-Type abuse (and fraud,
// and the "complaint" some senders use) is a complaint; Original-Mail-From
// is the envelope sender of the reported message: a VERP address.
func readFeedback(r *Report, body io.Reader) error {
	h, err := textproto.NewReader(bufio.NewReader(body)).ReadMIMEHeader()
	if err != nil && err != io.EOF && len(h) == 0 {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type"))) {
	case "abuse", "fraud", "complaint", "virus":
		r.Kind = store.BounceComplaint
	default:
		return nil // not-spam, opt-out and others are no complaint
	}
	r.Recipient = strings.Trim(strings.TrimSpace(h.Get("Original-Rcpt-To")), "<>")
	if from := strings.Trim(strings.TrimSpace(h.Get("Original-Mail-From")), "<>"); from != "" {
		r.Addresses = append(r.Addresses, from)
	}
	r.Diagnostic = "feedback-type " + strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type")))
	if ua := oneLine(h.Get("User-Agent")); ua != "" {
		r.Diagnostic += " from " + ua
	}
	return nil
}

// returnedHeaders reads the headers of the returned message: its
// Message-ID, Feedback-ID, and Return-Path (the VERP address) and To.
func returnedHeaders(r *Report, body io.Reader) {
	h, err := textproto.NewReader(bufio.NewReader(body)).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return
	}
	if id := strings.TrimSpace(h.Get("Message-Id")); id != "" {
		r.MessageIDs = append(r.MessageIDs, id)
	}
	if f := oneLine(h.Get("Feedback-Id")); f != "" {
		r.FeedbackID = f
	}
	for _, v := range h.Values("Return-Path") {
		r.Addresses = append(r.Addresses, strings.Trim(strings.TrimSpace(v), "<>"))
	}
	if r.Recipient == "" {
		if to := addresses(h.Get("To")); len(to) == 1 {
			r.Recipient = to[0]
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
