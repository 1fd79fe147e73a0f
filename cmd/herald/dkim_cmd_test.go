package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"herald/mailer/smtptest"
)

// TestCLI_DKIMKeygenThenDeliverSigned: herald dkim keygen writes a 0600
// key and prints its DNS record; herald deliver with that key in
// HERALD_DKIM sends mail that verifies against the printed record.
func TestCLI_DKIMKeygenThenDeliverSigned(t *testing.T) {
	dataDir := t.TempDir()
	dns := map[string]string{}
	var spec []string
	for _, typ := range []string{"rsa", "ed25519"} {
		out, errOut, code := cli(t, dataDir, "", "dkim", "keygen", "--selector", "k"+typ, "--domain", "News.Example.org", "--type", typ)
		if code != 0 {
			t.Fatalf("keygen %s: exit %d: %s", typ, code, errOut)
		}
		m := regexp.MustCompile(`(?m)^(\S+)\._domainkey\.(\S+)\. IN TXT \( (.*) \)$`).FindStringSubmatch(out)
		if m == nil || m[1] != "k"+typ || m[2] != "news.example.org" {
			t.Fatalf("no DNS record in %q", out)
		}
		rec := strings.ReplaceAll(strings.ReplaceAll(m[3], `" "`, ""), `"`, "")
		if !strings.Contains(rec, "k="+typ) {
			t.Errorf("record %q", rec)
		}
		dns[m[1]+"._domainkey."+m[2]] = rec
		path := filepath.Join(dataDir, "dkim", "k"+typ+".news.example.org."+typ+".pem")
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v %v", path, st, err)
		}
		spec = append(spec, "k"+typ+":news.example.org:"+path)
		if _, errOut, code := cli(t, dataDir, "", "dkim", "keygen", "--selector", "k"+typ, "--domain", "news.example.org", "--type", typ); code == 0 || !strings.Contains(errOut, "exists") {
			t.Errorf("keygen over an existing key: exit %d, %q", code, errOut)
		}
	}
	srv := smtptest.New(t, smtptest.Options{})
	queueConfirmations(t, dataDir, 2)
	_, errOut, code := cliEnv(t, dataDir, []string{fmt.Sprintf("HERALD_SMTP_URL=smtp://%s:%d?tls=none", srv.Host, srv.Port),
		"HERALD_DKIM=" + strings.Join(spec, ",")}, "", "deliver")
	if code != 0 {
		t.Fatalf("deliver: exit %d: %s", code, errOut)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Data), &dkim.VerifyOptions{LookupTXT: func(n string) ([]string, error) {
			return []string{dns[n]}, nil
		}})
		if err != nil || len(vs) != 2 {
			t.Fatalf("verify: %v, %d signatures", err, len(vs))
		}
		for _, v := range vs {
			if v.Err != nil {
				t.Errorf("signature %s: %v", v.Domain, v.Err)
			}
		}
	}
}

// TestCLI_DKIMBadKeyStopsStartup: a missing key file, a weak RSA key or a
// malformed entry stops herald with an error naming HERALD_DKIM.
func TestCLI_DKIMBadKeyStopsStartup(t *testing.T) {
	dataDir := t.TempDir()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakPath := filepath.Join(dataDir, "weak.pem")
	if err := os.WriteFile(weakPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ spec, want string }{
		{"s:example.org:" + weakPath, "too weak"},
		{"s:example.org:missing.pem", "missing.pem"},
		{"s:example.org", "selector:domain:keyfile"},
	} {
		_, errOut, code := cliEnv(t, dataDir, []string{"HERALD_DKIM=" + tc.spec}, "", "deliver")
		if code != 1 || !strings.Contains(errOut, "HERALD_DKIM") || !strings.Contains(errOut, tc.want) {
			t.Errorf("HERALD_DKIM=%s: exit %d, %q", tc.spec, code, errOut)
		}
	}
}
