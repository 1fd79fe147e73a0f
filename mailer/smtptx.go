package mailer

import (
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
)

// reply is the server's answer to one command of a transaction.
type reply struct {
	code int
	msg  string
	err  error // a refusal (*textproto.Error) or a broken connection
}

// refused reports whether the server answered with a code other than the
// one expected (as opposed to the connection breaking).
func (r reply) refused() bool {
	var te *textproto.Error
	return errors.As(r.err, &te)
}

// transact sends one message on the open connection: MAIL, RCPT and DATA,
// written together when the server offers PIPELINING (RFC 2920) and one by
// one otherwise, then the pre-encoded, dot-stuffed data in one write. The
// message counts as sent only on the server's 250 after the data (SPEC 5.4).
// It speaks through go-mail's textproto connection, which go-mail set up
// (greeting, EHLO, STARTTLS, AUTH) and keeps using for NOOP, RSET and QUIT.
func (s *smtpSession) transact(w *wireMsg) error {
	if w.eightBit && !s.eight {
		return &sendErr{err: errors.New("smtp: 8bit message but the server does not offer 8BITMIME")}
	}
	if strings.ContainsAny(w.from, "\r\n") || strings.ContainsAny(w.to, "\r\n") {
		return &sendErr{err: errors.New("smtp: line break in an envelope address")}
	}
	if err := s.c.UpdateDeadline(s.t.timeout); err != nil {
		return &sendErr{err: err, temp: true, broken: true, early: true}
	}
	cmds := [3]string{"MAIL FROM:" + angle(w.from) + s.mailParams(w), "RCPT TO:" + angle(w.to), "DATA"}
	expect := [3]int{250, 25, 354} // 25: 250 or 251 (RFC 5321 3.4)
	var got [3]reply
	n := 0 // replies read
	if s.pipelining {
		if err := s.write(cmds[:]...); err != nil {
			return &sendErr{err: fmt.Errorf("smtp: %w", err), temp: true, broken: true, early: true}
		}
		for ; n < 3; n++ {
			if got[n] = s.read(expect[n]); got[n].err != nil && !got[n].refused() {
				n++
				break // the connection is gone: no more replies
			}
		}
	} else {
		for ; n < 3; n++ {
			if err := s.write(cmds[n]); err != nil {
				got[n] = reply{err: err}
				n++
				break
			}
			if got[n] = s.read(expect[n]); got[n].err != nil {
				n++
				break
			}
		}
	}
	if e := s.envelopeFailure(got[:n]); e != nil {
		return e
	}
	// 354: the data, then the final reply.
	if _, err := s.c.Text.W.Write(w.data); err != nil {
		return &sendErr{err: fmt.Errorf("smtp: write data: %w", err), temp: true, broken: true}
	}
	if err := s.c.Text.W.Flush(); err != nil {
		return &sendErr{err: fmt.Errorf("smtp: write data: %w", err), temp: true, broken: true}
	}
	return s.dataFailure(s.read(250))
}

// envelopeFailure sorts the replies to MAIL, RCPT and DATA (those read):
// nil when all three were accepted. A broken connection before any data
// went out is retried on a new one; 4xx is temporary; 5xx to RCPT is a
// bounce of the recipient, to MAIL or DATA a failure of the message.
func (s *smtpSession) envelopeFailure(got []reply) error {
	// Fewer than three replies: the sequential exchange stopped at a
	// refusal, or the connection broke (and that reply says so).
	broken := false
	first := -1
	for i := range got {
		if got[i].err == nil {
			continue
		}
		if !got[i].refused() {
			broken = true
		} else if first < 0 {
			first = i
		}
	}
	if !broken && first < 0 {
		return nil
	}
	if first < 0 {
		return &sendErr{err: fmt.Errorf("smtp: %w", lastErr(got)), temp: true, broken: true, early: true}
	}
	r := got[first]
	stage := [3]string{"MAIL FROM", "RCPT TO", "DATA"}[first]
	e := &sendErr{err: fmt.Errorf("smtp: %s refused: %w", stage, r.err), code: r.code}
	switch {
	case r.code >= 400 && r.code < 500:
		e.temp = true
		broken = broken || r.code == 421 // the server is closing the connection
	case first == 1:
		e.bounce = true
	}
	if !broken && len(got) == 3 && got[2].err == nil {
		// The server took DATA although MAIL or RCPT failed: an empty
		// message ends it, and its reply does not matter (RFC 2920 3.1).
		if err := s.write("."); err != nil || !s.read(0).refusedOrOK() {
			broken = true
		}
	}
	if !broken {
		// End the half-open transaction, so the connection serves the next.
		if err := s.c.Reset(); err != nil {
			broken = true
		}
	}
	e.broken = broken
	return e
}

// refusedOrOK reports whether the connection still works after the reply.
func (r reply) refusedOrOK() bool { return r.err == nil || r.refused() }

// dataFailure sorts the reply to the end of the data: 250 means sent; a
// broken connection or 4xx is temporary; 5xx fails the message, and with
// an addressing status 5.1.x it is a bounce of the recipient.
func (s *smtpSession) dataFailure(r reply) error {
	if r.err == nil {
		return nil
	}
	if !r.refused() {
		return &sendErr{err: fmt.Errorf("smtp: after data: %w", r.err), temp: true, broken: true}
	}
	e := &sendErr{err: fmt.Errorf("smtp: message refused: %w", r.err), code: r.code}
	switch {
	case r.code >= 400 && r.code < 500:
		e.temp, e.broken = true, r.code == 421
	case s.enhanced && strings.HasPrefix(r.msg, "5.1."):
		e.bounce = true
	}
	return e
}

func lastErr(got []reply) error {
	for i := len(got) - 1; i >= 0; i-- {
		if got[i].err != nil {
			return got[i].err
		}
	}
	return errors.New("connection closed")
}

// write sends command lines in one flush.
func (s *smtpSession) write(lines ...string) error {
	w := s.c.Text.W
	for _, l := range lines {
		_, _ = w.WriteString(l)
		_, _ = w.WriteString("\r\n")
	}
	return w.Flush()
}

// read reads one reply; expect as in textproto.Reader.ReadResponse.
func (s *smtpSession) read(expect int) reply {
	code, msg, err := s.c.Text.ReadResponse(expect)
	return reply{code: code, msg: msg, err: err}
}

// mailParams are the MAIL FROM parameters: BODY=8BITMIME wherever the
// server offers it (as go-mail sends), SMTPUTF8 when an address needs it.
func (s *smtpSession) mailParams(w *wireMsg) string {
	p := ""
	if s.eight {
		p += " BODY=8BITMIME"
	}
	if s.utf8 && (!ascii(w.from) || !ascii(w.to)) {
		p += " SMTPUTF8"
	}
	return p
}

// angle writes an address as a reverse- or forward-path, as go-mail does.
func angle(addr string) string { return (&mail.Address{Address: addr}).String() }

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
