package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/mailer/smtptest"
	"herald/store/storetest"
)

// releaseTitles lists the titles of every release through the CLI.
func releaseTitles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out, stderr, code := cli(t, dir, "", "releases", "list", "--json", "--all")
	if code != 0 {
		t.Fatalf("releases list: %d %s", code, stderr)
	}
	var list []struct{ Title string }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("releases list: %v\n%s", err, out)
	}
	titles := map[string]bool{}
	for _, r := range list {
		titles[r.Title] = true
	}
	return titles
}

// TestBackup_WhileSendingThenRestore takes a backup while releases are
// written and their alerts sent over SMTP, then restores it with the
// daemon stopped: the restored database passes db check and holds exactly
// the releases and subscribers of the backup's moment.
func TestBackup_WhileSendingThenRestore(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("herald backup is for SQLite; PostgreSQL has pg_dump")
	}
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	d := startDaemon(t, dir, fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr))
	token := readToken(t, dir)
	const subs = 30
	for i := 0; i < subs; i++ {
		if code := d.api(t, token, "POST", "/api/v1/subscribers",
			fmt.Sprintf(`{"email":"desk%d@example.org","cadence":"immediate","topics":["migration"],"confirmed":true}`, i), nil); code != 201 {
			t.Fatalf("add subscriber: %d", code)
		}
	}

	// A writer adds releases one after another, each alerting every
	// subscriber, and records when each POST began and ended.
	type write struct {
		title      string
		begun, end time.Time
	}
	var (
		mu     sync.Mutex
		writes []write
		stop   = make(chan struct{})
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := write{title: fmt.Sprintf("Release %03d", i), begun: time.Now()}
			code := d.api(t, token, "POST", "/api/v1/releases", fmt.Sprintf(`{"title":%q,"body":"b","topics":["migration"]}`, w.title), nil)
			w.end = time.Now()
			if code != 201 {
				t.Errorf("create release: %d", code)
				return
			}
			mu.Lock()
			writes = append(writes, w)
			mu.Unlock()
		}
	}()
	srv.Wait(t, subs*3, 30*time.Second) // alerts are going out

	file := filepath.Join(t.TempDir(), "snap.db")
	sentBefore := srv.Count()
	begun := time.Now()
	out, stderr, code := cli(t, dir, "", "backup", file)
	ended := time.Now()
	if code != 0 || !strings.HasPrefix(out, "backed up ") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, stderr)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	<-done
	if srv.Count() <= sentBefore {
		t.Fatalf("no mail went out during the backup: %d then %d", sentBefore, srv.Count())
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", st, err)
	}

	// Bad targets: one that exists, one that cannot be written.
	_, stderr, code = cli(t, dir, "", "backup", file)
	if code != 1 || !strings.Contains(stderr, "already exists") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("backup onto an existing file: exit %d %q", code, stderr)
	}
	_, stderr, code = cli(t, dir, "", "backup", filepath.Join(dir, "no-such-dir", "x.db"))
	if code != 1 || !strings.Contains(stderr, "cannot write the backup") {
		t.Fatalf("backup into a missing directory: exit %d %q", code, stderr)
	}

	// A restore while serve runs is refused.
	_, stderr, code = cli(t, dir, "", "restore", file)
	if code != 1 || !strings.Contains(stderr, "herald serve is running") {
		t.Fatalf("restore beside serve: exit %d %q", code, stderr)
	}
	d.stop(t)
	before := releaseTitles(t, dir)
	mu.Lock()
	all := append([]write(nil), writes...)
	mu.Unlock()
	if len(before) != len(all) {
		t.Fatalf("%d releases in the database, %d written", len(before), len(all))
	}

	out, stderr, code = cli(t, dir, "", "restore", file)
	if code != 0 || !strings.Contains(out, "before-restore-") {
		t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = cli(t, dir, "", "db", "check")
	if code != 0 {
		t.Fatalf("db check of the restored database: exit %d\n%s%s", code, out, stderr)
	}
	after := releaseTitles(t, dir)
	inBackup := 0
	for i, w := range all {
		switch {
		case w.end.Before(begun) && !after[w.title]:
			t.Errorf("%s was written before the backup began but is not in it", w.title)
		case w.begun.After(ended) && after[w.title]:
			t.Errorf("%s was written after the backup ended but is in it", w.title)
		case after[w.title]:
			inBackup++
			if i > 0 && !after[all[i-1].title] {
				t.Errorf("%s is in the backup but the release written before it is not", w.title)
			}
		}
	}
	if len(after) != inBackup || inBackup == 0 || inBackup == len(all) {
		t.Fatalf("restored %d releases (%d of the %d written): want a strict, non-empty prefix", len(after), inBackup, len(all))
	}
	out, _, _ = cli(t, dir, "", "subscribers", "export")
	if n := strings.Count(out, "@example.org"); n != subs {
		t.Fatalf("%d subscribers restored, want %d", n, subs)
	}
	t.Logf("backup of %d bytes took %s while %d messages were sent; %d of %d releases in it",
		st.Size(), ended.Sub(begun).Round(time.Millisecond), srv.Count()-sentBefore, inBackup, len(all))

	// The restored database serves; the old one was kept aside.
	aside, _ := filepath.Glob(filepath.Join(dir, "herald.db.before-restore-*"))
	if len(aside) != 1 {
		t.Fatalf("databases kept aside: %v", aside)
	}
	d = startDaemon(t, dir, fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr))
	d.stop(t)
}

// TestRestore_RefusesWhatIsNotAHeraldDatabase: a text file, a SQLite file
// of another program and a database of a newer herald are each refused with
// one line, and the database is left as it was.
func TestRestore_RefusesWhatIsNotAHeraldDatabase(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("herald restore is for SQLite")
	}
	dir := t.TempDir()
	if _, stderr, code := cli(t, dir, "", "db", "migrate"); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := cli(t, dir, `{"title":"Kept","body":"b","topics":["migration"]}`, "releases", "add", "-"); code != 0 {
		t.Fatal(stderr)
	}
	dbPath := filepath.Join(dir, "herald.db")
	sum := func() [32]byte {
		b, err := os.ReadFile(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	want := sum()
	tmp := t.TempDir()

	text := filepath.Join(tmp, "notes.txt")
	os.WriteFile(text, bytes.Repeat([]byte("not a database\n"), 100), 0o600)

	other := filepath.Join(tmp, "other.db")
	odb, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := odb.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
		t.Fatal(err)
	}
	odb.Close()

	newer := filepath.Join(tmp, "newer.db")
	if out, stderr, code := cli(t, dir, "", "backup", newer); code != 0 {
		t.Fatal(out, stderr)
	}
	ndb, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ndb.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	ndb.Close()

	for file, msg := range map[string]string{
		text:                          "not a herald database",
		other:                         "not a herald database",
		newer:                         "from a newer herald",
		filepath.Join(tmp, "missing"): "no such file",
	} {
		_, stderr, code := cli(t, dir, "", "restore", file)
		if code != 1 || !strings.Contains(stderr, msg) || !strings.Contains(stderr, "nothing was changed") ||
			strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("restore %s: exit %d %q, want exit 1 and one line saying %q", filepath.Base(file), code, stderr, msg)
		}
	}
	if sum() != want {
		t.Fatal("a refused restore changed the database")
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, "*before-restore*")); len(aside) != 0 {
		t.Fatalf("a refused restore moved the database: %v", aside)
	}
	if !releaseTitles(t, dir)["Kept"] {
		t.Fatal("the release is gone")
	}
}

// TestServe_ScheduledBackupsKeepTheNewest runs HERALD_BACKUP_CRON on the
// leader and keeps HERALD_BACKUP_KEEP backups, each a herald database.
func TestServe_ScheduledBackupsKeepTheNewest(t *testing.T) {
	if storetest.OnPostgres() {
		t.Skip("scheduled backups are for SQLite")
	}
	dir := t.TempDir()
	d := startDaemon(t, dir, "HERALD_BACKUP_CRON=@every 2s", "HERALD_BACKUP_KEEP=2")
	waitFor(t, "three scheduled backups", 30*time.Second, func() bool {
		return strings.Count(d.logs.String(), "msg=\"scheduled backup\"") >= 3
	})
	d.stop(t)
	files, _ := filepath.Glob(filepath.Join(dir, "backups", "herald-*.db"))
	if len(files) != 2 {
		t.Fatalf("backups kept: %v, want 2\n%s", files, d.logs)
	}
	for _, f := range files {
		if _, stderr, code := cli(t, t.TempDir(), "", "restore", "--db", filepath.Join(t.TempDir(), "x.db"), f); code != 0 {
			t.Fatalf("restore %s: %s", f, stderr)
		}
	}
}

// TestPruneBackups keeps the newest files by their UTC names.
func TestPruneBackups(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"herald-20240101T000000Z.db", "herald-20240301T000000Z.db", "herald-20240201T000000Z.db", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	removed, err := pruneBackups(dir, 2)
	if err != nil || removed != 1 {
		t.Fatalf("removed %d, %v", removed, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 3 || strings.Contains(strings.Join(left, " "), "20240101") {
		t.Fatalf("left: %v", left)
	}
}

// TestBackup_OnPostgresSaysPgDump: herald backs up only SQLite.
func TestBackup_OnPostgresSaysPgDump(t *testing.T) {
	for _, cmd := range [][]string{{"backup"}, {"restore", "x.db"}} {
		_, stderr, code := cliEnv(t, t.TempDir(), []string{"HERALD_DB=postgres://herald@127.0.0.1:1/herald"}, "", cmd...)
		if code != 2 || !strings.Contains(stderr, "pg_") {
			t.Errorf("%s on PostgreSQL: exit %d %q, want 2 and pg_dump/pg_restore", cmd[0], code, stderr)
		}
	}
}
