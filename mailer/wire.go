package mailer

import (
	"bytes"
	"fmt"
	"net/mail"
)

// wireMsg is one message ready to go: the envelope addresses and the
// message as go-mail wrote it (raw), plus, for SMTP, the same bytes as the
// DATA stage sends them (CRLF line ends, dot-stuffed, ending with the
// terminating ".\r\n"), made once in large buffers instead of byte by byte
// through a DotWriter while the connection waits.
type wireMsg struct {
	from, to string // envelope addresses, without angle brackets
	eightBit bool   // the body is 8bit: the server must offer 8BITMIME
	raw      bytes.Buffer
	data     []byte
}

// encode builds the message of content c for envelope e into w, reusing
// w's buffers. buildMsg does every header, so the rules against header
// injection (SPEC 5.1) hold as before.
func (w *wireMsg) encode(c Content, e envelope) error {
	gm, err := buildMsg(c, e)
	if err != nil {
		return err
	}
	to, _ := mail.ParseAddress(e.To) // buildMsg parsed it already
	w.from, w.to, w.eightBit = e.From.Address, to.Address, e.EightBit
	w.raw.Reset()
	if _, err := gm.WriteTo(&w.raw); err != nil {
		return fmt.Errorf("mailer: write message: %w", err)
	}
	w.data = dotStuff(w.data[:0], w.raw.Bytes())
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
