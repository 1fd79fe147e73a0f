package mailer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/mail"

	gomail "github.com/wneessen/go-mail"
)

// wireMsg is one message ready to go: the envelope addresses and the
// message as go-mail would write it (raw), plus, for SMTP, the same bytes as
// the DATA stage sends them (CRLF line ends, dot-stuffed, ending with the
// terminating ".\r\n"), made once in large buffers instead of byte by byte
// through a DotWriter while the connection waits.
type wireMsg struct {
	id       string // the Message-ID, the same on every try (names Maildir files)
	from, to string // envelope addresses, without angle brackets
	eightBit bool   // the body is 8bit: the server must offer 8BITMIME
	raw      bytes.Buffer
	data     []byte
	frame    bytes.Buffer // go-mail's output with stand-ins for the bodies
	qp       bytes.Buffer // a quoted-printable body
	signed   bytes.Buffer // DKIM-Signature fields, then raw: becomes raw
}

// Stand-ins for the two bodies in go-mail's output. Each is a part's whole
// content, so it sits between the blank line that ends the part's headers
// and the CRLF before the next boundary; a header, being one line, cannot
// hold that sequence. Quoted-printable leaves them as they are.
const (
	standText = "herald-body-text-5f1c9a0e7b"
	standHTML = "herald-body-html-5f1c9a0e7b"
)

// encode builds the message of content c for envelope e into w, reusing
// w's buffers. go-mail writes every header and the MIME structure (so the
// rules against header injection of buildMsg hold), around stand-ins for
// the two bodies; the bodies, 20 KB or so, are then put in their place,
// encoded as go-mail encodes them, without go-mail copying each through
// buffers of its own.
func (w *wireMsg) encode(c Content, e envelope) error {
	gm, b, err := newMsg(c, e)
	if err != nil {
		return err
	}
	gm.SetBodyWriter(gomail.TypeTextPlain, stringWriter(standText))
	gm.AddAlternativeWriter(gomail.TypeTextHTML, stringWriter(standHTML))
	to, _ := mail.ParseAddress(e.To) // newMsg parsed it already
	w.from, w.to, w.eightBit = e.From.Address, to.Address, !b.qp
	if e.Sender != "" {
		w.from = e.Sender
	}
	w.frame.Reset()
	if _, err := gm.WriteTo(&w.frame); err != nil {
		return fmt.Errorf("mailer: write message: %w", err)
	}
	frame := w.frame.Bytes()
	i := bytes.Index(frame, []byte("\r\n\r\n"+standText+"\r\n--"))
	j := bytes.Index(frame, []byte("\r\n\r\n"+standHTML+"\r\n--"))
	if i < 0 || j < i {
		return errors.New("mailer: write message: body stand-ins not found")
	}
	i, j = i+4, j+4
	w.raw.Reset()
	w.raw.Grow(len(frame) + len(b.text) + len(b.html) + (len(b.text)+len(b.html))/8)
	w.raw.Write(frame[:i])
	if err := w.body(b.text, b.qp); err != nil {
		return err
	}
	w.raw.Write(frame[i+len(standText) : j])
	if err := w.body(b.html, b.qp); err != nil {
		return err
	}
	w.raw.Write(frame[j+len(standHTML):])
	if len(e.DKIM) > 0 {
		// SPEC 8.1: the signatures cover exactly the bytes that go out
		// (before dot-stuffing, which the receiving server undoes).
		w.signed.Reset()
		if err := dkimSign(&w.signed, e.DKIM, w.raw.Bytes(), e.Date); err != nil {
			return err
		}
		w.signed.Write(w.raw.Bytes())
		w.raw, w.signed = w.signed, w.raw
	}
	w.data = dotStuff(w.data[:0], w.raw.Bytes())
	return nil
}

// body appends one body to raw as go-mail encodes it: as it is (8bit), or
// through mime/quotedprintable.
func (w *wireMsg) body(s string, qp bool) error {
	if !qp {
		w.raw.WriteString(s)
		return nil
	}
	w.qp.Reset()
	q := quotedprintable.NewWriter(&w.qp)
	_, err := io.WriteString(q, s)
	if err == nil {
		err = q.Close()
	}
	if err != nil {
		return fmt.Errorf("mailer: quoted-printable: %w", err)
	}
	w.raw.Write(w.qp.Bytes())
	return nil
}

// dotStuff appends src to dst as the DATA stage of SMTP sends it (RFC 5321
// 4.5.2), byte for byte what net/textproto's DotWriter writes followed by
// its Close: a bare LF becomes CRLF, a dot at the start of a line is
// doubled, and the data ends with CRLF "." CRLF. It copies the runs
// between line ends in bulk.
func dotStuff(dst, src []byte) []byte {
	if need := len(src) + len(src)/32 + 8; cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	if len(src) == 0 {
		return append(dst, "\r\n.\r\n"...) // as DotWriter closes with nothing written
	}
	const (
		beginLine = iota // at the start of the data or of a line
		data             // inside a line
		cr               // just after a CR
	)
	state := beginLine
	for len(src) > 0 {
		c := src[0]
		switch state {
		case beginLine:
			state = data
			if c == '.' {
				dst = append(dst, '.')
			}
		case cr:
			// DotWriter takes the byte after a CR as plain data, even a CR.
			state = data
			if c == '\n' {
				state = beginLine
			}
			dst = append(dst, c)
			src = src[1:]
			continue
		}
		// In data: copy up to the next CR or LF in one go (two IndexByte
		// scans are much faster than one IndexAny).
		i := bytes.IndexByte(src, '\n')
		line := src
		if i >= 0 {
			line = src[:i]
		}
		if j := bytes.IndexByte(line, '\r'); j >= 0 {
			i = j
		}
		if i < 0 {
			dst = append(dst, src...)
			src = nil
			break
		}
		dst = append(dst, src[:i]...)
		if src[i] == '\r' {
			dst = append(dst, '\r')
			state = cr
		} else {
			dst = append(dst, '\r', '\n')
			state = beginLine
		}
		src = src[i+1:]
	}
	switch state {
	case data:
		dst = append(dst, '\r', '\n')
	case cr:
		dst = append(dst, '\n')
	}
	return append(dst, '.', '\r', '\n')
}
