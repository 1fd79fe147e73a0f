package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/mailer/smtptest"
	"herald/store/storetest"
)

// TestSecretGuard_MissingSecretRefusesStartAndRestoredOneKeepsLinks loses
// the secret file while herald is stopped: serve refuses to start with one
// line saying what to do instead of making a new secret, and once the file
// is restored, the one-click unsubscribe link of mail sent before works.
func TestSecretGuard_MissingSecretRefusesStartAndRestoredOneKeepsLinks(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("on PostgreSQL the secret lives in the database")
	}
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	env := []string{"HERALD_ADDR=" + addr, "HERALD_BASE_URL=" + base, fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr)}
	d := startDaemon(t, dir, env...)
	token := readToken(t, dir)
	if code := d.api(t, token, "POST", "/api/v1/subscribers",
		`{"email":"desk@example.org","cadence":"immediate","topics":["migration"],"confirmed":true}`, nil); code != 201 {
		t.Fatalf("add subscriber: %d", code)
	}
	if code := d.api(t, token, "POST", "/api/v1/releases", `{"title":"News","body":"b","topics":["migration"]}`, nil); code != 201 {
		t.Fatalf("create release: %d", code)
	}
	alert := parseMail(t, srv.Wait(t, 1, 20*time.Second)[0])
	unsub := strings.Trim(alert.header.Get("List-Unsubscribe"), "<>")
	if !strings.HasPrefix(unsub, base+"/unsubscribe?token=") {
		t.Fatalf("List-Unsubscribe = %q", unsub)
	}
	d.stop(t)

	secret := filepath.Join(dir, "secret")
	saved, err := os.ReadFile(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(secret); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cli(t, dir, "", append([]string{"serve"}, flagsOf(env)...)...)
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "secret") || !strings.Contains(stderr, "is missing") || !strings.Contains(stderr, "restore") {
		t.Fatalf("serve without its secret: exit %d, stderr %q; want exit 1 and one line", code, stderr)
	}
	if _, err := os.Stat(secret); err == nil {
		t.Fatal("serve made a new secret")
	}
	// A different secret is refused as well, and so is a command that signs links.
	if err := os.WriteFile(secret, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = cli(t, dir, "", "subscribers", "export")
	if code != 1 || !strings.Contains(stderr, "is not the one that signed") {
		t.Fatalf("export with another secret: exit %d, stderr %q", code, stderr)
	}

	out, _, code := cli(t, dir, "", "check")
	if code != 1 || !hasLine(out, "fail secret") {
		t.Fatalf("check with another secret: exit %d\n%s", code, out)
	}

	if err := os.WriteFile(secret, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, dir, env...)
	r, err := http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe after the restore: %v %v", r, err)
	}
	r.Body.Close()
	var list struct {
		Items []struct{ Status string }
	}
	d.api(t, token, "GET", "/api/v1/subscribers", "", &list)
	if len(list.Items) != 1 || list.Items[0].Status != "unsubscribed" {
		t.Fatalf("after one-click: %+v", list.Items)
	}
	d.stop(t)
}

// flagsOf turns HERALD_X=v settings into --x=v flags.
func flagsOf(env []string) []string {
	var out []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, "--"+strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "HERALD_")), "_", "-")+"="+v)
	}
	return out
}
