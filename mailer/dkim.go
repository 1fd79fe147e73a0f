package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
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
// message (CRLF line ends, before dot-stuffing), and returns them to be
// put before its first header. Each signature covers the headers of
// dkimHeaders and the hash of the whole body.
func dkimSign(dst *bytes.Buffer, keys []DKIMKey, msg []byte) error {
	for _, k := range keys {
		s, err := dkim.NewSigner(&dkim.SignOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: dkimHeaders})
		if err != nil {
			return fmt.Errorf("mailer: dkim %s._domainkey.%s: %w", k.Selector, k.Domain, err)
		}
		if _, err := s.Write(msg); err != nil {
			_ = s.Close()
			return fmt.Errorf("mailer: dkim %s._domainkey.%s: %w", k.Selector, k.Domain, err)
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("mailer: dkim %s._domainkey.%s: %w", k.Selector, k.Domain, err)
		}
		dst.WriteString(s.Signature())
	}
	return nil
}
