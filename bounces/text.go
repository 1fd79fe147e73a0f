package bounces

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"

	"herald/store"
)

// Bounces that are not RFC 3464 reports: the plain-text notices of qmail
// and of older Exchange servers, and the multipart/alternative or
// multipart/mixed notices some services send. They are recognised by
// their sender (MAILER-DAEMON, postmaster, Microsoft Outlook, Mail
// Delivery Subsystem) or subject, and read for the failed address, an SMTP
// status, and the returned message's Message-ID or Return-Path.

var (
	bounceSubjectRE = regexp.MustCompile(`(?i)(undeliver|undelivered mail|delivery status notification|delivery has failed|mail delivery failed|returned mail|failure notice|delivery failure|could not be delivered|non[- ]?delivery)`)
	bounceSenderRE  = regexp.MustCompile(`(?i)(mailer-daemon|postmaster|mail delivery (subsystem|system)|microsoftexchange|microsoft outlook)`)
	// smtpReplyRE finds "550 5.1.1", "550-5.1.1", "550 Requested action", "#5.1.1", "554".
	smtpReplyRE = regexp.MustCompile(`\b([45]\d\d)[ -]`)
	addrRE      = regexp.MustCompile(`<?([A-Za-z0-9._%+\-=]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})>?`)
	headerLine  = regexp.MustCompile(`(?im)^(message-id|return-path|feedback-id)\s*:\s*(.+)$`)
)

// maxText bounds how much of a text bounce is read.
const maxText = 256 << 10

func readTextBounce(r Report, msg *mail.Message) (Report, error) {
	if !bounceSenderRE.MatchString(msg.Header.Get("From")) && !bounceSubjectRE.MatchString(decodeHeader(msg.Header.Get("Subject"))) {
		return Report{}, ErrNotReport
	}
	text := textOf(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if text == "" {
		return Report{}, ErrNotReport
	}
	r.Format = "text"
	for _, m := range headerLine.FindAllStringSubmatch(text, -1) {
		v := strings.TrimSpace(m[2])
		switch strings.ToLower(m[1]) {
		case "message-id":
			r.MessageIDs = append(r.MessageIDs, v)
		case "return-path":
			r.Addresses = append(r.Addresses, strings.Trim(v, "<>"))
		case "feedback-id":
			r.FeedbackID = v
		}
	}
	// The notice part ends where the returned message's headers begin.
	notice := text
	if i := headerLine.FindStringIndex(text); i != nil {
		notice = text[:i[0]]
	}
	r.Recipient = failedAddress(notice, r.Addresses)
	if r.Recipient == "" {
		return Report{}, ErrNotReport
	}
	r.Status = statusCode(notice)
	reply := ""
	if m := smtpReplyRE.FindStringSubmatch(notice); m != nil {
		reply = m[1]
	}
	switch {
	case strings.HasPrefix(r.Status, "4") || (r.Status == "" && strings.HasPrefix(reply, "4")) ||
		strings.Contains(strings.ToLower(notice), "will retry") || strings.Contains(strings.ToLower(notice), "delayed"):
		r.Kind = store.BounceSoft
	case strings.HasPrefix(r.Status, "5") || strings.HasPrefix(reply, "5"):
		r.Kind = store.BounceHard
	default:
		return Report{}, ErrNotReport // no status: not sure enough to act on
	}
	r.Diagnostic = diagnosticLine(notice, r.Status, reply)
	return r, nil
}

// failedAddress is the first address of the notice that is not one of the
// report's own (its envelope, the VERP address) nor a daemon's.
func failedAddress(notice string, own []string) string {
	for _, m := range addrRE.FindAllStringSubmatch(notice, -1) {
		a := m[1]
		if bounceSenderRE.MatchString(a) || containsFold(own, a) {
			continue
		}
		return a
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// diagnosticLine is the line of the notice holding the status or reply.
func diagnosticLine(notice, status, reply string) string {
	for _, line := range strings.Split(notice, "\n") {
		if (status != "" && strings.Contains(line, status)) || (reply != "" && strings.Contains(line, reply+" ")) {
			return oneLine(line)
		}
	}
	return status
}

// textOf returns the text of a body: a text/plain part of a multipart one
// (the first, and every message/rfc822 part's headers after it), decoded.
func textOf(contentType, cte string, body io.Reader, depth int) string {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		mt = "text/plain"
	}
	body = decodeBody(io.LimitReader(body, maxText), cte)
	switch {
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && depth < 3:
		var out strings.Builder
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			out.WriteString(textOf(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1))
			out.WriteString("\n")
		}
		return out.String()
	case mt == "text/plain", mt == "message/rfc822", mt == "text/rfc822-headers", mt == "message/delivery-status":
		b, _ := io.ReadAll(body)
		return string(b)
	}
	return ""
}

func decodeBody(r io.Reader, cte string) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64Reader(r)
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Reader decodes base64 that is broken into lines.
func base64Reader(r io.Reader) io.Reader {
	b, _ := io.ReadAll(r)
	b = bytes.Map(func(c rune) rune {
		if c == '\r' || c == '\n' || c == ' ' || c == '\t' {
			return -1
		}
		return c
	}, b)
	return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b))
}

func decodeHeader(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}
