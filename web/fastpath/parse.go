package fastpath

import (
	"bytes"
)

// What a header does to a fast answer.
type headerKind int

const (
	unsafeHeader     headerKind = iota // unknown: the request goes to net/http
	ignoredHeader                      // no handler of a fast answer reads it
	hostHeader                         // required once, checked
	acceptEncoding                     // chooses gzip
	ifNoneMatch                        // preconditions
	ifModifiedSince                    // preconditions
	connectionHeader                   // close or keep-alive only
	contentLength                      // "0" only
)

// headerKinds are the headers the fast path accepts. Everything else, and
// in particular Authorization, Expect, Upgrade, Transfer-Encoding, Range,
// If-Match and If-Range, sends the request to net/http. Cookie, Referer and
// the forwarding headers (read only to find the client's address, which
// no fast answer uses: feeds have no rate limit) are ignored.
var headerKinds = map[string]headerKind{
	"host":              hostHeader,
	"accept-encoding":   acceptEncoding,
	"if-none-match":     ifNoneMatch,
	"if-modified-since": ifModifiedSince,
	"connection":        connectionHeader,
	"content-length":    contentLength,
	"user-agent":        ignoredHeader,
	"accept":            ignoredHeader,
	"accept-language":   ignoredHeader,
	"cache-control":     ignoredHeader,
	"pragma":            ignoredHeader,
	"cookie":            ignoredHeader,
	"referer":           ignoredHeader,
	"x-forwarded-for":   ignoredHeader,
	"x-forwarded-proto": ignoredHeader,
	"x-forwarded-host":  ignoredHeader,
	"x-real-ip":         ignoredHeader,
	"forwarded":         ignoredHeader,
}

// kindOf looks a header name up without allocating.
func kindOf(name []byte) headerKind {
	if len(name) > 32 {
		return unsafeHeader
	}
	var lower [32]byte
	for i, b := range name {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[i] = b
	}
	return headerKinds[string(lower[:len(name)])]
}

// parse reads a whole request head (ending in an empty line; every line
// ends in CRLF) into c.req. It returns the request target and whether the
// client asked to close, or false when net/http must answer: anything but
// a GET or HEAD of an origin-form target on HTTP/1.1 with exactly one
// plain Host, no body and only the headers of headerKinds.
func (c *conn) parse(head []byte) (target []byte, close, ok bool) {
	line, rest, _ := bytes.Cut(head, crlf)
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		c.req.Method, line = "GET", line[4:]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		c.req.Method, line = "HEAD", line[5:]
	default:
		return nil, false, false
	}
	target, proto, _ := bytes.Cut(line, []byte(" "))
	if string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' {
		return nil, false, false
	}
	for _, b := range target {
		if b <= ' ' || b >= 0x7f || b == '#' {
			return nil, false, false
		}
	}
	c.req.AcceptEncoding, c.req.IfNoneMatch, c.req.IfModifiedSince = c.ae[:0], nil, ""
	hosts, haveIMS := 0, false
	for {
		line, rest, _ = bytes.Cut(rest, crlf)
		if len(line) == 0 {
			break
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !cleanValue(value) {
			return nil, false, false
		}
		value = bytes.Trim(value, " \t")
		switch kindOf(name) {
		case unsafeHeader:
			return nil, false, false
		case hostHeader:
			hosts++
			if !validHost(value) {
				return nil, false, false
			}
		case acceptEncoding:
			c.req.AcceptEncoding = append(c.req.AcceptEncoding, string(value))
		case ifNoneMatch:
			if c.req.IfNoneMatch == nil {
				c.req.IfNoneMatch = c.inm[:0]
			}
			c.req.IfNoneMatch = append(c.req.IfNoneMatch, string(value))
		case ifModifiedSince:
			if !haveIMS {
				c.req.IfModifiedSince, haveIMS = string(value), true
			}
		case connectionHeader:
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.Trim(tok, " \t")
				switch {
				case bytes.EqualFold(tok, []byte("close")):
					close = true
				case bytes.EqualFold(tok, []byte("keep-alive")):
				default:
					return nil, false, false
				}
			}
		case contentLength:
			if string(value) != "0" {
				return nil, false, false
			}
		}
	}
	return target, close, hosts == 1
}

var crlf = []byte("\r\n")

// cleanValue reports whether a header value has only visible ASCII,
// spaces and tabs (net/http refuses control characters; the fast path
// leaves anything unusual to it).
func cleanValue(v []byte) bool {
	for _, b := range v {
		if (b < ' ' && b != '\t') || b >= 0x7f {
			return false
		}
	}
	return true
}

// validHost accepts a plain host[:port]: letters, digits, dots, dashes,
// underscores, colons and brackets (IPv6), not empty.
func validHost(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, b := range v {
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '.', b == '-', b == '_', b == ':', b == '[', b == ']':
		default:
			return false
		}
	}
	return true
}
