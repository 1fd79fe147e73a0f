package main

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"herald/config"
	"herald/mailer"
	"herald/store"
)

// checkTimeout bounds the SMTP check of `herald check`, dnsTimeout each DNS
// lookup.
const (
	checkTimeout = 10 * time.Second
	dnsTimeout   = 5 * time.Second
)

func runCheck(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "check", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "check takes no arguments, got %q", fs.Arg(0))
	}
	checks := selfCheck(ctx, loader, net.DefaultResolver)
	code := exitOK
	for _, c := range checks {
		fmt.Fprintf(e.stdout, "%-4s %-12s %s\n", c.status, c.name, c.detail)
		if c.status == "fail" {
			code = exitFail
		}
	}
	return code
}

// selfCheck is every check of `herald check` (SPEC 12), in order; DNS
// questions go to resolver.
func selfCheck(ctx context.Context, loader *config.Loader, resolver *net.Resolver) []check {
	cfg, err := loader.Load()
	if err != nil {
		return []check{{"config", "fail", err.Error()}}
	}
	out := []check{{"config", "ok", "settings valid"}}
	if _, err := os.Stat(cfg.DB); !store.IsPostgres(cfg.DB) && err != nil {
		out = append(out, check{"database", "fail", fmt.Sprintf("no database at %s (herald serve creates it)", cfg.DB)})
	} else {
		out = append(out, dbChecks(ctx, cfg.DB)...)
		out = append(out, secretCheck(ctx, cfg))
	}
	out = append(out, smtpCheck(ctx, cfg))
	return append(out, dnsChecks(ctx, cfg, resolver)...)
}

// secretCheck compares the link secret with the fingerprint the database
// keeps.
func secretCheck(ctx context.Context, cfg config.Config) check {
	db, err := store.OpenNoMigrate(ctx, cfg.DB)
	if err != nil {
		return check{"secret", "fail", "cannot read the database: " + err.Error()}
	}
	defer db.Close()
	if db.Engine() == "postgres" {
		if _, err := db.Setting(ctx, "secret"); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return check{"secret", "warn", "not yet in the database: the first herald serve stores it"}
			}
			return check{"secret", "fail", err.Error()}
		}
		return check{"secret", "ok", "kept in the database, shared by every instance"}
	}
	path := filepath.Join(cfg.DataDir, "secret")
	fp, err := db.Setting(ctx, secretFingerprintSetting)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return check{"secret", "fail", err.Error()}
	}
	local, rerr := readTrimmed(path)
	switch {
	case rerr != nil:
		return check{"secret", "fail", rerr.Error()}
	case local == "" && fp == "":
		return check{"secret", "warn", path + " does not exist yet: herald serve generates it"}
	case local == "":
		return check{"secret", "fail", fmt.Sprintf("%s is missing, but the database's links were signed with a secret (fingerprint %s): restore the file from a backup of the data dir", path, fp)}
	}
	key, err := hex.DecodeString(local)
	if err != nil || len(key) < 16 {
		return check{"secret", "fail", path + " is damaged: restore it from a backup of the data dir"}
	}
	switch got := secretFingerprint(key); {
	case fp == "":
		return check{"secret", "ok", fmt.Sprintf("%s present (fingerprint %s, recorded in the database at the next start)", path, got)}
	case got != fp:
		return check{"secret", "fail", fmt.Sprintf("%s (fingerprint %s) is not the secret that signed the database's links (fingerprint %s): restore the right file from a backup", path, got, fp)}
	default:
		return check{"secret", "ok", fmt.Sprintf("%s matches the database (fingerprint %s)", path, fp)}
	}
}

// smtpCheck goes through the SMTP dialogue up to AUTH and sends nothing.
func smtpCheck(ctx context.Context, cfg config.Config) check {
	if cfg.SMTP == nil {
		return check{"smtp", "ok", "not used: mail is written to " + filepath.Join(cfg.DataDir, "maildir")}
	}
	s := cfg.SMTP
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	steps, err := smtpDialogue(ctx, s, addr)
	if err != nil {
		return check{"smtp", "fail", fmt.Sprintf("%s: %v", addr, err)}
	}
	return check{"smtp", "ok", fmt.Sprintf("%s: %s (no mail sent)", addr, strings.Join(steps, ", "))}
}

func smtpDialogue(ctx context.Context, s *config.SMTP, addr string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot connect: %w", errors.Unwrap(err))
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	tlsConf := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	steps := []string{"connected"}
	if s.TLS == "implicit" {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		conn = tc
		steps = append(steps, "TLS")
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	if err := c.Hello(host); err != nil {
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	steps = append(steps, "EHLO")
	if s.TLS == "mandatory" || s.TLS == "opportunistic" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return nil, fmt.Errorf("STARTTLS: %w", err)
			}
			steps = append(steps, "STARTTLS")
		} else if s.TLS == "mandatory" {
			return nil, errors.New("the server offers no STARTTLS, and tls=mandatory")
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return nil, errors.New("the server offers no AUTH, but the URL has a user name")
		}
		if err := c.Auth(plainAuth{s.Username, s.Password}); err != nil {
			return nil, fmt.Errorf("AUTH refused: %w", err)
		}
		steps = append(steps, "AUTH as "+s.Username)
	}
	_ = c.Quit()
	return steps, nil
}

// plainAuth is AUTH PLAIN without net/smtp's refusal of an unencrypted
// connection: tls=none is the operator's choice, and the mailer sends the
// same credentials the same way.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}

// dnsChecks looks up the From domain's SPF and DMARC records and, when DKIM
// keys are configured, their public keys. A lookup that cannot be made is a
// warning; a record that is absent or wrong is a warning too (mail still
// goes, but may land in spam), except a DMARC or SPF record that is
// malformed, which fails.
func dnsChecks(ctx context.Context, cfg config.Config, r *net.Resolver) []check {
	domain := cfg.From.Address[strings.LastIndexByte(cfg.From.Address, '@')+1:]
	lookup := func(name string) ([]string, error, bool) {
		ctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		defer cancel()
		txt, err := r.LookupTXT(ctx, name)
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, nil, true
		}
		return txt, err, err == nil
	}
	out := dkimChecks(cfg, lookup)
	spf, err, answered := lookup(domain)
	var found []string
	for _, t := range spf {
		if strings.HasPrefix(strings.ToLower(t), "v=spf1") {
			found = append(found, t)
		}
	}
	switch {
	case !answered:
		out = append(out, check{"spf", "warn", fmt.Sprintf("cannot look up %s: %v", domain, err)})
	case len(found) == 0:
		out = append(out, check{"spf", "warn", fmt.Sprintf("%s has no SPF record (TXT \"v=spf1 ...\"): receivers may treat its mail as spam", domain)})
	case len(found) > 1:
		out = append(out, check{"spf", "fail", fmt.Sprintf("%s has %d SPF records; RFC 7208 allows one", domain, len(found))})
	default:
		out = append(out, check{"spf", "ok", fmt.Sprintf("%s: %q", domain, found[0])})
	}
	dmarc, err, answered := lookup("_dmarc." + domain)
	found = found[:0]
	for _, t := range dmarc {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(t)), "v=dmarc1") {
			found = append(found, t)
		}
	}
	switch {
	case !answered:
		out = append(out, check{"dmarc", "warn", fmt.Sprintf("cannot look up _dmarc.%s: %v", domain, err)})
	case len(found) == 0:
		out = append(out, check{"dmarc", "warn", fmt.Sprintf("_dmarc.%s has no DMARC record (TXT \"v=DMARC1; p=...\")", domain)})
	case len(found) > 1:
		out = append(out, check{"dmarc", "fail", fmt.Sprintf("_dmarc.%s has %d DMARC records; receivers then ignore them all", domain, len(found))})
	case !strings.Contains(strings.ToLower(found[0]), "p="):
		out = append(out, check{"dmarc", "fail", fmt.Sprintf("_dmarc.%s: %q lacks the policy p=", domain, found[0])})
	default:
		out = append(out, check{"dmarc", "ok", fmt.Sprintf("_dmarc.%s: %q", domain, found[0])})
	}
	return out
}

// dkimChecks compares each configured DKIM key with the TXT record published
// at <selector>._domainkey.<domain>: the record must carry the key's public
// part (SPEC 12), or receivers cannot verify the signatures.
func dkimChecks(cfg config.Config, lookup func(string) ([]string, error, bool)) []check {
	if len(cfg.DKIM) == 0 {
		return []check{{"dkim", "warn", "no DKIM key configured: mail goes out unsigned"}}
	}
	var out []check
	for _, k := range cfg.DKIM {
		name := k.Selector + "._domainkey." + k.Domain
		key, err := mailer.LoadDKIMKey(k.Selector, k.Domain, k.File)
		if err != nil {
			out = append(out, check{"dkim", "fail", err.Error()})
			continue
		}
		want, err := mailer.DKIMRecord(key.Signer)
		if err != nil {
			out = append(out, check{"dkim", "fail", err.Error()})
			continue
		}
		txt, err, answered := lookup(name)
		switch {
		case !answered:
			out = append(out, check{"dkim", "warn", fmt.Sprintf("cannot look up %s: %v", name, err)})
		case len(txt) == 0:
			out = append(out, check{"dkim", "fail", fmt.Sprintf("%s has no TXT record; publish: %s", name, want)})
		case dkimPublicKey(strings.Join(txt, "")) != dkimPublicKey(want):
			out = append(out, check{"dkim", "fail", fmt.Sprintf("%s publishes another key than %s; publish: %s", name, k.File, want)})
		default:
			out = append(out, check{"dkim", "ok", name + " publishes the key of " + k.File})
		}
	}
	return out
}

// dkimPublicKey is the p= tag of a DKIM key record, without spaces.
func dkimPublicKey(record string) string {
	for _, tag := range strings.Split(record, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(tag), "p="); ok {
			return strings.Join(strings.Fields(v), "")
		}
	}
	return ""
}
