package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"herald/mailer"
)

// runDKIMKeygen writes a new DKIM key into the data dir (0600) and prints
// the DNS TXT record to publish and the HERALD_DKIM entry (SPEC 8.1).
func runDKIMKeygen(_ context.Context, e env, args []string) int {
	fs, loader := flags(e, "dkim keygen", "")
	selector := fs.String("selector", "", "DNS selector of the key, e.g. herald2026")
	domain := fs.String("domain", "", "signing domain, e.g. news.example.org")
	typ := fs.String("type", "rsa", "rsa (2048 bits) or ed25519")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "dkim keygen takes no arguments, got %q", fs.Arg(0))
	}
	*domain = strings.ToLower(strings.TrimSpace(*domain))
	if !dnsLabel(*selector) || *domain == "" || !validDomain(*domain) {
		return usageError(e, fs, "--selector (letters, digits, -) and --domain are required")
	}
	if *typ != "rsa" && *typ != "ed25519" {
		return usageError(e, fs, "--type must be rsa or ed25519, got %q", *typ)
	}
	cfg, err := loader.Load()
	if err != nil {
		fmt.Fprintln(e.stderr, "herald:", err)
		return exitFail
	}
	pemBytes, key, err := mailer.GenerateDKIMKey(*typ)
	if err != nil {
		fmt.Fprintln(e.stderr, "herald: dkim keygen:", err)
		return exitFail
	}
	record, err := mailer.DKIMRecord(key)
	if err != nil {
		fmt.Fprintln(e.stderr, "herald: dkim keygen:", err)
		return exitFail
	}
	dir := filepath.Join(cfg.DataDir, "dkim")
	name := fmt.Sprintf("%s.%s.%s.pem", *selector, *domain, *typ)
	if err := writeNewFile(dir, name, pemBytes); err != nil {
		fmt.Fprintln(e.stderr, "herald: dkim keygen:", err)
		return exitFail
	}
	path := filepath.Join(dir, name)
	fmt.Fprintf(e.stdout, "Key written to %s\n\nPublish this DNS TXT record:\n\n%s._domainkey.%s. IN TXT %s\n\n", path, *selector, *domain, txtQuote(record))
	fmt.Fprintf(e.stdout, "Then add to HERALD_DKIM (comma-separated):\n\n%s:%s:%s\n", *selector, *domain, path)
	return exitOK
}

// writeNewFile creates dir/name with mode 0600, never replacing a key.
func writeNewFile(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already: choose another selector", filepath.Join(dir, name))
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// txtQuote splits a record into quoted strings of at most 255 octets, as
// a TXT record must be written (RFC 1035 3.3.14); an RSA key is longer.
func txtQuote(s string) string {
	var parts []string
	for len(s) > 0 {
		n := min(len(s), 255)
		parts = append(parts, `"`+s[:n]+`"`)
		s = s[n:]
	}
	return "( " + strings.Join(parts, " ") + " )"
}

func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func validDomain(d string) bool {
	for _, l := range strings.Split(d, ".") {
		if !dnsLabel(l) {
			return false
		}
	}
	return strings.Contains(d, ".")
}
