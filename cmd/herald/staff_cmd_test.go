package main

import (
	"context"
	"os/user"

	"herald/store"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCLI_Staff(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := cli(t, dir, "", "staff", "add", "ana@example.org", "--role", "publisher", "--name", "Ana López")
	link := regexp.MustCompile(`http://\S+/admin/password\?token=[A-Za-z0-9_-]{43}`).FindString(out)
	if code != 0 || link == "" || !strings.Contains(out, "ana@example.org (publisher)") {
		t.Fatalf("staff add: %d %q %q", code, out, errOut)
	}
	// The same address in another case is refused, and so is an unknown role.
	if _, errOut, code = cli(t, dir, "", "staff", "add", "ANA@Example.org", "--role", "viewer"); code != 1 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if _, errOut, code = cli(t, dir, "", "staff", "add", "bo@example.org", "--role", "owner"); code != 2 || !strings.Contains(errOut, `unknown role "owner"`) {
		t.Fatalf("unknown role: %d %q", code, errOut)
	}
	if _, errOut, code = cli(t, dir, "", "staff", "add", "bo@example.org"); code != 2 || !strings.Contains(errOut, "needs --role") {
		t.Fatalf("no role: %d %q", code, errOut)
	}
	out, _, code = cli(t, dir, "", "staff", "list")
	if code != 0 || !regexp.MustCompile(`ana@example.org\s+Ana López\s+publisher\s+invited`).MatchString(out) || strings.Contains(out, "bo@") {
		t.Fatalf("staff list: %d %q", code, out)
	}
	// The invitation goes out through the outbox like any mail.
	if _, errOut, code = cli(t, dir, "", "deliver"); code != 0 {
		t.Fatalf("deliver: %d %q", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "maildir", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("%d messages in the maildir", len(files))
	}
	msg, _ := os.ReadFile(files[0])
	if !strings.Contains(string(msg), "X-Herald-Kind: staff-invite") || !strings.Contains(string(msg), "To: <ana@example.org>") {
		t.Fatalf("invitation:\n%s", msg)
	}
	if out, errOut, code = cli(t, dir, "", "staff", "disable", "Ana@example.org"); code != 0 || !strings.Contains(out, "disabled ana@example.org") {
		t.Fatalf("disable: %d %q %q", code, out, errOut)
	}
	if out, _, _ = cli(t, dir, "", "staff", "list"); !regexp.MustCompile(`ana@example.org.*disabled`).MatchString(out) {
		t.Fatalf("list after disable: %q", out)
	}
	if _, errOut, code = cli(t, dir, "", "staff", "disable", "nobody@example.org"); code != 1 || !strings.Contains(errOut, "no staff member with the address nobody@example.org") {
		t.Fatalf("disable unknown: %d %q", code, errOut)
	}
	// The CLI's changes are in the audit log under cli:<OS user>.
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), dbFor(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.ListAudit(context.Background(), store.AuditQuery{Action: "staff.*"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit: %v %v", entries, err)
	}
	for i, action := range []string{"staff.disable", "staff.create"} {
		if e := entries[i]; e.Action != action || e.Actor != "cli:"+u.Username || e.ActorKind != "cli" || e.Target != "staff:1" {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
}
