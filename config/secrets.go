package config

import (
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

// Secret returns the HMAC key used to sign tokens in links, generating
// $HERALD_DATA_DIR/secret (0600) on first start.
func (c Config) Secret() ([]byte, error) {
	s, _, err := readOrCreate(filepath.Join(c.DataDir, "secret"), 32)
	if err != nil {
		return nil, fmt.Errorf("%s: secret: %w", c.Name("HERALD_DATA_DIR"), err)
	}
	key, err := hex.DecodeString(s)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("%s: %s is damaged: expected at least 32 hex digits", c.Name("HERALD_DATA_DIR"), filepath.Join(c.DataDir, "secret"))
	}
	return key, nil
}

// ResolveAdminToken fills AdminToken: HERALD_ADMIN_TOKEN if set, else the
// contents of $HERALD_DATA_DIR/admin-token, generated (0600) on first start.
// It returns the file's path ("" when the token came from the setting) and
// whether it was generated now.
func (c *Config) ResolveAdminToken() (path string, generated bool, err error) {
	if c.AdminToken != "" {
		return "", false, nil
	}
	path = filepath.Join(c.DataDir, "admin-token")
	tok, generated, err := readOrCreate(path, 24)
	if err != nil {
		return path, false, fmt.Errorf("%s: %w", c.Name("HERALD_ADMIN_TOKEN"), err)
	}
	c.AdminToken = tok
	return path, generated, nil
}

// readOrCreate returns the trimmed contents of path, or writes n random
// bytes hex-encoded into it (0600, exclusively, so that two processes
// starting at once agree on one value).
func readOrCreate(path string, n int) (string, bool, error) {
	for attempt := 0; attempt < 50; attempt++ {
		b, err := os.ReadFile(path)
		if err == nil {
			if s := strings.TrimSpace(string(b)); s != "" {
				return s, false, nil
			}
			time.Sleep(20 * time.Millisecond) // another process is writing it
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", false, err
		}
		buf := make([]byte, n)
		if _, err := rand.Read(buf); err != nil {
			return "", false, err
		}
		val := hex.EncodeToString(buf)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		_, werr := f.WriteString(val + "\n")
		serr := f.Sync()
		if err := errors.Join(werr, serr, f.Close()); err != nil {
			return "", false, err
		}
		return val, true, nil
	}
	return "", false, fmt.Errorf("%s stays empty", path)
}
