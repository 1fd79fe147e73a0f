package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// block returns the text of the block opened by the line containing head
// (up to its matching brace) and the text without it; ok is false when
// there is no such block.
func block(text, head string) (inside, outside string, ok bool) {
	i := strings.Index(text, head)
	if i < 0 {
		return "", text, false
	}
	open := strings.Index(text[i:], "{")
	if open < 0 {
		return "", text, false
	}
	depth := 0
	for j := i + open; j < len(text); j++ {
		switch text[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return text[i : j+1], text[:i] + text[j+1:], true
			}
		}
	}
	return "", text, false
}

// heraldAddr is HERALD_ADDR of the example settings: the proxies must
// forward to it.
func heraldAddr(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^HERALD_ADDR="([^"]+)"$`).FindStringSubmatch(readText(t, "herald.env"))
	if m == nil {
		t.Fatal("herald.env sets no HERALD_ADDR")
	}
	return m[1]
}

func mustMatch(t *testing.T, file, text, pattern, why string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(text) {
		t.Errorf("%s: no match for %s: %s", file, pattern, why)
	}
}

func mustNotMatch(t *testing.T, file, text, pattern, why string) {
	t.Helper()
	if m := regexp.MustCompile(pattern).FindString(text); m != "" {
		t.Errorf("%s: %q: %s", file, m, why)
	}
}

// TestNginx checks the nginx example: herald's limits on slow clients, a
// long body only for imports, X-Forwarded-For, staff pages and the API not
// cached; with nginx installed, `nginx -t` checks its syntax.
func TestNginx(t *testing.T) {
	conf := readText(t, "nginx.conf")
	mustMatch(t, "nginx.conf", conf, `(?m)^\s*server `+regexp.QuoteMeta(heraldAddr(t))+`;`, "the upstream is herald's HERALD_ADDR")
	mustMatch(t, "nginx.conf", conf, `proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;`, "herald needs the client's address")
	mustMatch(t, "nginx.conf", conf, `proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;`, "")

	imp, rest, ok := block(conf, "location = /api/v1/subscribers/import")
	if !ok {
		t.Fatal("nginx.conf: no location for the import route")
	}
	mustMatch(t, "nginx.conf import", imp, `client_body_timeout\s+600s;`, "an import may take 10 minutes")
	mustMatch(t, "nginx.conf import", imp, `proxy_request_buffering\s+off;`, "the body streams to herald")
	mustMatch(t, "nginx.conf", rest, `(?m)^    client_header_timeout\s+10s;`, "headers within 10 s (SPEC 12)")
	mustMatch(t, "nginx.conf", rest, `(?m)^    client_body_timeout\s+60s;`, "bodies within 60 s (SPEC 12)")
	mustMatch(t, "nginx.conf", rest, `(?m)^    keepalive_timeout\s+120s;`, "idle connections closed after 120 s (SPEC 12)")
	mustMatch(t, "nginx.conf", rest, `(?m)^    client_max_body_size\s+1m;`, "API bodies are at most 1 MiB")
	mustNotMatch(t, "nginx.conf", rest, `client_body_timeout\s+(6[1-9]|[7-9]\d|\d{3,})s`, "a long body timeout outside the import route")
	mustNotMatch(t, "nginx.conf", rest, `client_body_timeout\s+\d+m`, "a long body timeout outside the import route")
	for _, loc := range []string{"location /admin", "location /api/"} {
		b, _, ok := block(conf, loc)
		if !ok {
			t.Errorf("nginx.conf: no %s", loc)
			continue
		}
		mustMatch(t, "nginx.conf "+loc, b, `proxy_no_cache\s+1;`, "never cached by nginx")
		mustMatch(t, "nginx.conf "+loc, b, `add_header\s+Cache-Control\s+"no-store"\s+always;`, "never cached by a browser")
	}
	metrics, _, ok := block(conf, "location = /metrics")
	if !ok || !strings.Contains(metrics, "deny all;") {
		t.Errorf("nginx.conf: /metrics is open to everyone: %q", metrics)
	}

	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Log("nginx is not installed: its syntax was not checked")
		return
	}
	// The example's certificate paths do not exist here: a throwaway
	// certificate stands in, and a minimal main file includes the example.
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	conf = strings.ReplaceAll(conf, "/etc/letsencrypt/live/press.example.org/fullchain.pem", cert)
	conf = strings.ReplaceAll(conf, "/etc/letsencrypt/live/press.example.org/privkey.pem", key)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("herald.conf", conf)
	main := write("nginx.conf", "pid "+dir+"/nginx.pid;\nerror_log "+dir+"/error.log;\nevents {}\nhttp {\n  access_log off;\n  include "+dir+"/herald.conf;\n}\n")
	out, err := exec.Command(nginx, "-t", "-q", "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", main).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

// TestCaddyfile checks the Caddy example like the nginx one; with caddy
// installed, `caddy validate` checks it.
func TestCaddyfile(t *testing.T) {
	conf := readText(t, "Caddyfile")
	mustMatch(t, "Caddyfile", conf, `reverse_proxy `+regexp.QuoteMeta(heraldAddr(t))+` \{`, "the upstream is herald's HERALD_ADDR")
	mustMatch(t, "Caddyfile", conf, `read_header 10s`, "headers within 10 s (SPEC 12)")
	mustMatch(t, "Caddyfile", conf, `idle 120s`, "idle connections closed after 120 s (SPEC 12)")
	mustNotMatch(t, "Caddyfile", conf, `read_body`, "Caddy's body timeout is one for every route; herald sets its own per route")
	mustMatch(t, "Caddyfile", conf, `@private path /admin /admin/\* /api/\*`, "")
	mustMatch(t, "Caddyfile", conf, `header @private Cache-Control "no-store"`, "staff pages and the API are never cached")
	mustMatch(t, "Caddyfile", conf, `@import path /api/v1/subscribers/import\n`, "")
	imp, rest, ok := block(conf, "handle @import")
	if !ok {
		t.Fatal("Caddyfile: no handle @import block")
	}
	mustMatch(t, "Caddyfile import", imp, `response_header_timeout 10m`, "an import may take 10 minutes")
	mustNotMatch(t, "Caddyfile", rest, `\b\d+m\b`, "a long timeout outside the import route")
	metrics, _, ok := block(conf, "@metrics")
	if !ok || !strings.Contains(metrics, "not remote_ip") {
		t.Errorf("Caddyfile: /metrics is open to everyone: %q", metrics)
	}

	caddy, err := exec.LookPath("caddy")
	if err != nil {
		t.Log("caddy is not installed: the Caddyfile was not validated")
		return
	}
	cmd := exec.Command(caddy, "validate", "--config", "Caddyfile", "--adapter", "caddyfile")
	home := t.TempDir() // caddy keeps its state under HOME and XDG_*
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Errorf("caddy validate: %v\n%s", err, out)
	}
}

// selfSigned writes a throwaway certificate and key for nginx -t.
func selfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "press.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
