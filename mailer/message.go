package mailer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"herald/store"
)

// maxLine is the longest body line sent as 8bit; RFC 5322 allows 998
// octets, and a little margin keeps relays happy.
const maxLine = 900

// envelope is what the mailer adds to a Content to make a message.
type envelope struct {
	From     *mail.Address
	To       string
	Kind     string
	Date     time.Time
	MsgID    string // without angle brackets
	ListID   string // for alerts and digests
	EightBit bool   // the server announced 8BITMIME
	// Sender is the envelope sender (MAIL FROM, the Return-Path), the VERP
	// address of SPEC 8.2; empty: From's address.
	Sender string
	// FeedbackID is the Feedback-ID header of alerts and digests (SPEC 8.2).
	FeedbackID string
	// DKIM are the keys that sign the message (SPEC 8.1).
	DKIM []DKIMKey
}

// errBadRecipient is a recipient address that cannot be used: the message
// fails at once, it would never go.
var errBadRecipient = errors.New("mailer: unusable recipient address")

// buildMsg turns content into a go-mail message. Every header goes through
// go-mail's API, and every value taken from data is first made one line
// (oneLine) or parsed as an address, so that a CR or LF from a release
// title or an address can never start a header or add a recipient (SPEC 5.1).
func buildMsg(c Content, e envelope) (*gomail.Msg, error) {
	m, b, err := newMsg(c, e)
	if err != nil {
		return nil, err
	}
	m.SetBodyWriter(gomail.TypeTextPlain, stringWriter(b.text))
	m.AddAlternativeWriter(gomail.TypeTextHTML, stringWriter(b.html))
	return m, nil
}

// bodies are the two parts of a message, line ends normalized and long
// lines folded, and whether they go quoted-printable.
type bodies struct {
	text, html string
	qp         bool
}

// newMsg makes the message of buildMsg without its two parts, and returns
// the bodies to be added.
func newMsg(c Content, e envelope) (*gomail.Msg, bodies, error) {
	to, err := mail.ParseAddress(e.To)
	if err != nil || strings.ContainsAny(e.To, "\r\n,;") || to.Name != "" {
		return nil, bodies{}, fmt.Errorf("%w: %v", errBadRecipient, err)
	}
	text, textOK := foldLines(normalizeNL(c.Text), maxLine)
	html, htmlOK := foldLines(normalizeNL(c.HTML), maxLine)
	enc := gomail.EncodingQP
	if e.EightBit && textOK && htmlOK {
		enc = gomail.NoEncoding
	}
	m := gomail.NewMsg(gomail.WithEncoding(enc), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(e.From)
	m.ToMailAddress(&mail.Address{Address: to.Address})
	// The subject is encoded here (RFC 2047 Q encoded-words on one line)
	// rather than by go-mail, which folds a long encoded subject right after
	// "Subject:" so that strict parsers read it back with a leading space;
	// SPEC 5.2 wants the title exactly. oneLine already removed CR and LF,
	// and encoded-words cannot carry them.
	m.SetGenHeaderPreformatted(gomail.HeaderSubject, foldSubject(oneLine(c.Subject)))
	m.SetDateWithValue(e.Date)
	m.SetMessageIDWithValue(e.MsgID)
	m.SetGenHeader("X-Herald-Kind", e.Kind)
	if e.Kind == KindAlert || e.Kind == KindDigest {
		if c.UnsubscribeURL == "" {
			return nil, bodies{}, fmt.Errorf("mailer: %s without an unsubscribe link", e.Kind)
		}
		u, err := url.Parse(c.UnsubscribeURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.ContainsFunc(c.UnsubscribeURL, func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r == 0x7f }) {
			return nil, bodies{}, fmt.Errorf("mailer: bad unsubscribe link %q", c.UnsubscribeURL)
		}
		m.SetGenHeader("List-Id", e.ListID)
		// RFC 8058 one-click: List-Unsubscribe with the HTTPS link and
		// List-Unsubscribe-Post. SetListUnsubscribeOneClick refuses http://,
		// which a test or local install uses; the headers are the same.
		m.SetListUnsubscribe(u.String())
		m.SetListUnsubscribePost()
		m.SetGenHeader(gomail.HeaderPrecedence, "bulk")
		if e.FeedbackID != "" {
			m.SetGenHeader("Feedback-ID", oneLine(e.FeedbackID))
		}
	}
	return m, bodies{text: text, html: html, qp: enc == gomail.EncodingQP}, nil
}

// foldSubject encodes a subject as RFC 2047 encoded-words of at most 75
// characters each, one per header line (SPEC 8.4: no line over 998
// octets): the folding white space between two encoded-words is not part
// of the decoded text (RFC 2047 6.2), so the title reads back exactly. A
// plain ASCII subject stays as it is while it fits; a longer one is cut
// into base64 encoded-words too (a fold inside plain text would add a space
// where there was none).
func foldSubject(s string) string {
	enc := mime.QEncoding.Encode("UTF-8", s)
	if strings.HasPrefix(enc, "=?") {
		return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
	}
	if len(enc) <= 900 {
		return enc
	}
	var b strings.Builder
	for len(s) > 0 {
		n := min(len(s), 45) // 60 base64 characters: a 72-character word
		if b.Len() > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString("=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s[:n])) + "?=")
		s = s[n:]
	}
	return b.String()
}

// stringWriter is a go-mail body function writing s; it can run any number
// of times.
func stringWriter(s string) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		n, err := io.WriteString(w, s)
		return int64(n), err
	}
}

// normalizeNL makes every line end a single LF (the SMTP writer turns them
// into CRLF): a stray CR in a body must not end a line on its own.
func normalizeNL(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// messageID makes the Message-ID of an outbox row on our own domain. It is
// the same for every attempt of the row, so that the rare copy sent twice
// after a crash (SPEC 5.4) can be recognised as a duplicate by clients.
func messageID(m store.OutboxMessage, domain string) string {
	h := sha256.Sum256([]byte(m.IdemKey + "\x00" + strconv.FormatInt(m.CreatedAt.UnixNano(), 10)))
	return fmt.Sprintf("%d.%s.herald@%s", m.ID, hex.EncodeToString(h[:8]), domain)
}

// addrDomain is the domain of an address, for Message-ID and List-Id.
func addrDomain(a *mail.Address) string {
	if a == nil {
		return "localhost"
	}
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
		return strings.ToLower(a.Address[i+1:])
	}
	return "localhost"
}

// listID names herald's lists (RFC 2919): "Site name alerts <alerts.domain>".
func listID(site, kind, domain string) string {
	return fmt.Sprintf("%s %ss <%ss.%s>", oneLine(site), kind, kind, domain)
}
