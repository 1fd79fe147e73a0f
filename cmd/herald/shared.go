package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// linkSecret returns the key that signs the tokens in links. On SQLite it is
// the data dir's secret file. On PostgreSQL every instance must sign alike,
// so the key lives in the database (SPEC 6): the first instance stores the
// data dir's file when it has one (links of a herald copied from SQLite keep
// working), else a new key.
func (a *app) linkSecret(ctx context.Context) ([]byte, error) {
	if a.db.Engine() != "postgres" {
		return a.cfg.Secret()
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
