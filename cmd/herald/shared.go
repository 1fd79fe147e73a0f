package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"herald/store"
)

// linkSecret returns the key that signs the tokens in links. On SQLite it is
// the data dir's secret file. On PostgreSQL every instance must sign alike,
// so the key lives in the database (SPEC 6): the first instance stores the
// data dir's file when it has one (links of a herald copied from SQLite keep
// working), else a new key.
func (a *app) linkSecret(ctx context.Context) ([]byte, error) {
	if a.db.Engine() != "postgres" {
		return a.guardedSecret(ctx)
	}
	path := filepath.Join(a.cfg.DataDir, "secret")
	local, err := readTrimmed(path)
	if err != nil {
		return nil, fmt.Errorf("%s: secret: %w", a.cfg.Name("HERALD_DATA_DIR"), err)
	}
	candidate := local
	if candidate == "" {
		candidate = randomHex(32)
	}
	v, err := a.db.SharedSetting(ctx, "secret", candidate, time.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.cfg.Name("HERALD_DB"), err)
	}
	if local != "" && local != v {
		a.log.Warn("the data dir's secret file differs from the database's; links are signed with the database's", "path", path)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("%s: the shared secret in the database is damaged", a.cfg.Name("HERALD_DB"))
	}
	return key, nil
}

// secretFingerprintSetting names the shared setting that holds the first 8
// bytes of the SHA-256 of the link secret (hex), written when the secret is
// first used with a database (SPEC 12).
const secretFingerprintSetting = "secret_fingerprint"

// secretFingerprint is the hex of the first 8 bytes of key's SHA-256.
func secretFingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// guardedSecret is the SQLite link secret, checked against the fingerprint
// the database keeps: a database whose links were signed with a secret
// refuses a missing or different secret file rather than make a new one,
// which would break every link in mail already sent. A database without a
// fingerprint (a fresh install, or one from before the fingerprint) takes
// the file's secret, generated when there is none.
func (a *app) guardedSecret(ctx context.Context) ([]byte, error) {
	path := filepath.Join(a.cfg.DataDir, "secret")
	fp, err := a.db.Setting(ctx, secretFingerprintSetting)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", a.cfg.Name("HERALD_DB"), err)
	}
	if err == nil {
		local, rerr := readTrimmed(path)
		if rerr != nil {
			return nil, fmt.Errorf("%s: secret: %w", a.cfg.Name("HERALD_DATA_DIR"), rerr)
		}
		if local == "" {
			return nil, fmt.Errorf("the link secret %s is missing, but this database's links (unsubscribe, preferences) were signed with one (fingerprint %s): restore that file from a backup of the data dir; herald will not make a new one, which would break every link in mail already sent", path, fp)
		}
		key, derr := hex.DecodeString(local)
		if derr != nil || len(key) < 16 {
			return nil, fmt.Errorf("%s: %s is damaged: expected at least 32 hex digits; restore it from a backup of the data dir", a.cfg.Name("HERALD_DATA_DIR"), path)
		}
		if got := secretFingerprint(key); got != fp {
			return nil, fmt.Errorf("the link secret %s (fingerprint %s) is not the one that signed this database's links (fingerprint %s): restore the right file from a backup of the data dir; with this one every link in mail already sent would stop working", path, got, fp)
		}
		return key, nil
	}
	key, err := a.cfg.Secret()
	if err != nil {
		return nil, err
	}
	got, err := a.db.SharedSetting(ctx, secretFingerprintSetting, secretFingerprint(key), time.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.cfg.Name("HERALD_DB"), err)
	}
	if got != secretFingerprint(key) {
		return nil, fmt.Errorf("the link secret %s is not the one that signed this database's links (fingerprint %s): restore the right file from a backup of the data dir", path, got)
	}
	return key, nil
}

// resolveAdminToken fills cfg.AdminToken when HERALD_ADMIN_TOKEN is not set:
// on SQLite from the data dir's admin-token file (generated on first start);
// on PostgreSQL from the database, shared by every instance, and written to
// the data dir's file too for the operator. It returns the file's path and
// whether the token was generated now.
func (a *app) resolveAdminToken(ctx context.Context) (string, bool, error) {
	if a.cfg.AdminToken != "" || a.db.Engine() != "postgres" {
		return a.cfg.ResolveAdminToken()
	}
	path := filepath.Join(a.cfg.DataDir, "admin-token")
	local, err := readTrimmed(path)
	if err != nil {
		return path, false, fmt.Errorf("%s: %w", a.cfg.Name("HERALD_ADMIN_TOKEN"), err)
	}
	candidate := local
	if candidate == "" {
		candidate = randomHex(24)
	}
	tok, err := a.db.SharedSetting(ctx, "admin_token", candidate, time.Now())
	if err != nil {
		return path, false, fmt.Errorf("%s: %w", a.cfg.Name("HERALD_DB"), err)
	}
	generated := local == "" && tok == candidate
	if tok != local {
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			return path, false, fmt.Errorf("%s: %w", a.cfg.Name("HERALD_ADMIN_TOKEN"), err)
		}
	}
	a.cfg.AdminToken = tok
	return path, generated, nil
}

// readTrimmed returns a file's trimmed contents, "" when it does not exist.
func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
