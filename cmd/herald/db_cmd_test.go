package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"herald/store/storetest"
)

func TestDBCommands_MigrateCheckCopy(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := cli(t, dir, "", "db", "check")
	if code != 1 || !strings.Contains(out, "fail schema") || !strings.Contains(out, "herald db migrate") {
		t.Fatalf("check of a new database: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = cli(t, dir, "", "db", "migrate")
	if code != 0 || !strings.Contains(out, "migrated from schema version 0 to") {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code = cli(t, dir, "", "db", "migrate"); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate again: exit %d %s", code, out)
	}
	out, errOut, code = cli(t, dir, "", "db", "check")
	oks := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "ok ") {
			oks++
		}
	}
	if code != 0 || oks < 3 || strings.Contains(out, "fail ") {
		t.Fatalf("check of a migrated database: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = cli(t, dir, `{"title": "Copied along", "body": "x", "topics": ["migration"]}`, "releases", "add", "-"); code != 0 {
		t.Fatalf("releases add: exit %d %s", code, errOut)
	}

	// Usage errors, then a copy into a fresh database of the other kind on
	// PostgreSQL runs (and of the same kind on SQLite runs).
	if _, errOut, code = cli(t, dir, "", "db", "copy"); code != 2 || !strings.Contains(errOut, "--to is required") {
		t.Fatalf("db copy without --to: exit %d %s", code, errOut)
	}
	target := filepath.Join(t.TempDir(), "copy.db")
	out, errOut, code = cli(t, dir, "", "db", "copy", "--to", target)
	if code != 0 || !strings.Contains(out, "row counts verified") {
		t.Fatalf("db copy: exit %d\n%s%s", code, out, errOut)
	}
	// The copy carries the secret's fingerprint: a data dir for it needs the
	// same secret file (links in mail already sent stay valid).
	other := t.TempDir()
	if secret, err := os.ReadFile(filepath.Join(dir, "secret")); err == nil {
		if err := os.WriteFile(filepath.Join(other, "secret"), secret, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code = cliEnv(t, other, []string{"HERALD_DB=" + target}, "", "releases", "list")
	if code != 0 || !strings.Contains(out, "copied-along") {
		t.Fatalf("the copy lacks the release: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = cli(t, dir, "", "db", "copy", "--to", target)
	if code != 1 || !strings.Contains(errOut, "not empty") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("copy into a non-empty database: exit %d %q", code, errOut)
	}
}

// A SQLite file with damaged pages fails `herald db check`.
func TestDBCheck_FindsDamagedPages(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("SQLite's pages")
	}
	dir := t.TempDir()
	var rows strings.Builder
	rows.WriteString("email,topics,regions,language,cadence,timezone,status\n")
	for i := range 3000 {
		rows.WriteString("reader" + strings.Repeat("x", 40) + strconv.Itoa(i) + "@example.org,,,en,daily,UTC,active\n")
	}
	if _, errOut, code := cli(t, dir, rows.String(), "subscribers", "import", "-"); code != 0 {
		t.Fatalf("import: exit %d %s", code, errOut)
	}
	path := filepath.Join(dir, "herald.db")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
	for off := int64(8 * 4096); off+4096 < st.Size(); off += 16 * 4096 {
		if _, err := f.WriteAt(garbage, off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	out, _, code := cli(t, dir, "", "db", "check")
	// Depending on the pages hit, the schema itself cannot be read, or
	// the page check finds the damage: either way a fail line, exit 1.
	if code != 1 || !(strings.Contains(out, "fail integrity") || strings.Contains(out, "malformed")) {
		t.Fatalf("check of a damaged file: exit %d\n%s", code, out)
	}
	// serve refuses it too, with one line, instead of answering ok.
	_, errOut, code := cliEnv(t, dir, []string{"HERALD_ADDR=127.0.0.1:0"}, "", "serve")
	if code != 1 || !(strings.Contains(errOut, "is damaged") || strings.Contains(errOut, "malformed")) ||
		strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Fatalf("serve on a damaged file: exit %d\n%s", code, errOut)
	}
}
