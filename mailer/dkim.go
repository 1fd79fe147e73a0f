package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// DKIMKey is one signing key of HERALD_DKIM (SPEC 8.1): every message is
// signed with each key given, so that an RSA and an Ed25519 signature can
// travel together (RFC 8463 recommends both while verifiers catch up).
type DKIMKey struct {
	Selector string
	Domain   string
	Signer   crypto.Signer // *rsa.PrivateKey (2048 bits or more) or ed25519.PrivateKey
}

// minRSABits is the smallest RSA key accepted: RFC 8301 forbids signing
// with less than 1024 bits, and receivers such as Gmail treat less than
// 2048 as weak.
const minRSABits = 2048

// dkimHeaders are the header fields signed (SPEC 8.1), relaxed/relaxed. A
// field listed but absent from a message (List-Id in a confirm message) is
// signed as absent, so it cannot be added later without breaking the
// signature (RFC 6376 5.4).
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
	"Content-Type", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID"}

// LoadDKIMKey reads a PEM private key (PKCS #8, or PKCS #1 for RSA) for
// selector and domain; an RSA key under 2048 bits is refused.
func LoadDKIMKey(selector, domain, path string) (DKIMKey, error) {
	k := DKIMKey{Selector: selector, Domain: domain}
	if selector == "" || domain == "" || strings.ContainsAny(selector+domain, " ;=:\r\n\t") {
		return k, fmt.Errorf("bad selector %q or domain %q", selector, domain)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("read key: %w", err)
	}
	k.Signer, err = ParseDKIMKey(b)
	if err != nil {
		return k, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParseDKIMKey parses a PEM private key and checks its type and size.
func ParseDKIMKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM private key")
	}
	var key any
	var err error
	switch blk.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is too weak (at least %d)", k.N.BitLen(), minRSABits)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("key type %T is neither RSA nor Ed25519", key)
	}
}

// GenerateDKIMKey makes a new key, "rsa" (2048 bits) or "ed25519", and
// returns it as PKCS #8 PEM.
func GenerateDKIMKey(typ string) ([]byte, crypto.Signer, error) {
	var key crypto.Signer
	var err error
	switch typ {
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, minRSABits)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, nil, fmt.Errorf("key type must be rsa or ed25519, got %q", typ)
	}
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), key, nil
}

// DKIMRecord is the value of the DNS TXT record of a key, published at
// <selector>._domainkey.<domain> (RFC 6376 3.6.1, RFC 8463 for Ed25519).
func DKIMRecord(key crypto.Signer) (string, error) {
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	default:
		return "", fmt.Errorf("key type %T is neither RSA nor Ed25519", pub)
	}
}

// dkimSign computes one DKIM-Signature field per key over msg, the final
// message (CRLF line ends, before dot-stuffing), and writes them to dst,
// to be put before its first header (RFC 6376 5, relaxed/relaxed, SHA-256
// for both key types as RFC 8463 has it). The body hash is computed once
// for all keys, in bulk over runs of bytes that canonicalization leaves
// alone; go-msgauth's Signer goes byte by byte through a pipe and a
// goroutine, several times slower. go-msgauth's verifier checks the result
// in the tests.
func dkimSign(dst *bytes.Buffer, keys []DKIMKey, msg []byte, now time.Time) error {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return errors.New("mailer: dkim: message without a body")
	}
	head, body := msg[:end+2], msg[end+4:]
	bh := relaxedBodyHash(body)
	fields := headerFields(head)
	h := sha256.New()
	for _, k := range keys {
		h.Reset()
		for _, f := range pickHeaders(fields, dkimHeaders) {
			writeRelaxedHeader(h, f)
		}
		algo := "rsa-sha256"
		if _, ok := k.Signer.(ed25519.PrivateKey); ok {
			algo = "ed25519-sha256"
		}
		prefix := "DKIM-Signature: v=1; a=" + algo + "; c=relaxed/relaxed; d=" + k.Domain + "; s=" + k.Selector +
			";\r\n\tt=" + strconv.FormatInt(now.Unix(), 10) + "; h=" + strings.Join(dkimHeaders, ":") +
			";\r\n\tbh=" + base64.StdEncoding.EncodeToString(bh) + ";\r\n\tb="
		// The signature field itself, its b= empty and without its final
		// CRLF, ends the hashed data (RFC 6376 3.7).
		writeRelaxedHeader(h, []byte(prefix))
		digest := h.Sum(nil)
		var sig []byte
		var err error
		switch key := k.Signer.(type) {
		case ed25519.PrivateKey:
			sig = ed25519.Sign(key, digest)
		default:
			sig, err = k.Signer.Sign(rand.Reader, digest, crypto.SHA256)
		}
		if err != nil {
			return fmt.Errorf("mailer: dkim %s._domainkey.%s: %w", k.Selector, k.Domain, err)
		}
		dst.WriteString(prefix)
		b := base64.StdEncoding.EncodeToString(sig)
		for len(b) > 0 { // folded: lines well under 78 characters
			n := min(len(b), 64)
			dst.WriteString(b[:n])
			if b = b[n:]; len(b) > 0 {
				dst.WriteString("\r\n\t")
			}
		}
		dst.WriteString("\r\n")
	}
	return nil
}

// headerFields splits a header block (ending with CRLF) into its fields,
// each with its continuation lines and without the final CRLF.
func headerFields(head []byte) [][]byte {
	var fields [][]byte
	for len(head) > 0 {
		i := 0
		for {
			j := bytes.Index(head[i:], []byte("\r\n"))
			if j < 0 {
				i = len(head)
				break
			}
			i += j + 2
			if i >= len(head) || (head[i] != ' ' && head[i] != '\t') {
				break
			}
		}
		fields = append(fields, bytes.TrimSuffix(head[:i], []byte("\r\n")))
		head = head[i:]
	}
	return fields
}

// pickHeaders returns the fields named in names, in that order, each the
// last instance not yet picked (RFC 6376 5.4.2); a name with no field left
// is skipped, and so signed as absent.
func pickHeaders(fields [][]byte, names []string) [][]byte {
	used := make([]bool, len(fields))
	out := make([][]byte, 0, len(names))
	for _, n := range names {
		for i := len(fields) - 1; i >= 0; i-- {
			f := fields[i]
			c := bytes.IndexByte(f, ':')
			if used[i] || c < 0 || !strings.EqualFold(strings.TrimSpace(string(f[:c])), n) {
				continue
			}
			used[i] = true
			out = append(out, f)
			break
		}
	}
	return out
}

// writeRelaxedHeader writes a field in the relaxed header canonical form
// (RFC 6376 3.4.2): name lower-cased, lines unfolded, runs of white space
// made one space, none around the colon or at the end, then CRLF, except
// for the signature field itself, whose CRLF the caller leaves out.
func writeRelaxedHeader(w io.Writer, f []byte) {
	c := bytes.IndexByte(f, ':')
	out := make([]byte, 0, len(f)+2)
	out = append(out, bytes.ToLower(bytes.TrimRight(f[:c], " \t"))...)
	out = append(out, ':')
	space := false
	for _, b := range bytes.TrimLeft(f[c+1:], " \t\r\n") {
		switch b {
		case ' ', '\t', '\r', '\n':
			space = true
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, b)
	}
	if !bytes.HasPrefix(bytes.ToLower(f), []byte("dkim-signature:")) {
		out = append(out, '\r', '\n')
	}
	_, _ = w.Write(out)
}

// relaxedBodyHash is the SHA-256 of a body in the relaxed canonical form
// (RFC 6376 3.4.4): white space at line ends removed, other runs of it
// made one space, empty lines at the end removed, and a non-empty body
// ending with CRLF. Lines needing none of this (nearly all) are hashed
// as they are.
func relaxedBodyHash(body []byte) []byte {
	h := sha256.New()
	empty := 0 // empty lines held back: they count only if text follows
	var line []byte
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			line, body = body, nil
		} else {
			line, body = body[:i], body[i+1:]
		}
		line = bytes.TrimRight(bytes.TrimSuffix(line, []byte("\r")), " \t")
		if len(line) == 0 {
			empty++
			continue
		}
		for ; empty > 0; empty-- {
			h.Write([]byte("\r\n"))
		}
		if bytes.IndexByte(line, '\t') < 0 && !bytes.Contains(line, []byte("  ")) {
			h.Write(line)
		} else {
			h.Write(collapseWSP(line))
		}
		h.Write([]byte("\r\n"))
	}
	return h.Sum(nil)
}

func collapseWSP(line []byte) []byte {
	out := make([]byte, 0, len(line))
	space := false
	for _, b := range line {
		if b == ' ' || b == '\t' {
			space = true
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, b)
	}
	return out
}
