package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"herald/mailer"
	"herald/mailer/smtptest"
	"herald/store"
)

// buildHerald compiles the binary once per test run.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// queueConfirmations seeds n pending subscribers and their confirmation
// mail in the data dir's database, as POST /subscribe would.
func queueConfirmations(t *testing.T, dataDir string, n int) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbFor(t, dataDir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	subs := make([]store.SeedSubscriber, n)
	for i := range subs {
		subs[i] = store.SeedSubscriber{Email: fmt.Sprintf("reader%d@example.net", i), Status: "pending"}
	}
	ids, err := db.SeedSubscribers(ctx, subs)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]store.OutboxItem, n)
	for i, id := range ids {
		items[i], err = mailer.NoticeItem(mailer.KindConfirm, id, fmt.Sprintf("confirm:%d:1", id),
			mailer.NoticeData{Language: "en", ConfirmURL: fmt.Sprintf("http://127.0.0.1/confirm?token=%d", id)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.Enqueue(ctx, time.Now(), items); return err }); err != nil {
		t.Fatal(err)
	}
}

func heraldEnv(t testing.TB, dataDir string, srv *smtptest.Server) []string {
	return append(testEnv(t, dataDir), "HERALD_DATA_DIR="+dataDir, "HERALD_ADDR=127.0.0.1:0",
		fmt.Sprintf("HERALD_SMTP_URL=smtp://%s:%d?tls=none", srv.Host, srv.Port),
		"HERALD_SEND_CONCURRENCY=4", "HERALD_LOG_FORMAT=json", "HERALD_ADMIN_TOKEN=test-token")
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServe_KilledMidDeliveryLosesNothing starts the daemon, kills it with
// SIGKILL in the middle of delivering, starts it again and checks that
// every queued message arrived, with duplicates only among the messages
// that were in flight (at most HERALD_SEND_CONCURRENCY) (SPEC 5.4).
func TestServe_KilledMidDeliveryLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildHerald(t)
	srv := smtptest.New(t, smtptest.Options{})
	srv.OnData(func(string, []string, []byte) error { time.Sleep(3 * time.Millisecond); return nil })
	dataDir := t.TempDir()
	const n = 400
	queueConfirmations(t, dataDir, n)

	var log1 bytes.Buffer
	cmd := exec.Command(bin, "serve")
	cmd.Env, cmd.Stderr = heraldEnv(t, dataDir, srv), &log1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first messages", 60*time.Second, func() bool { return srv.Count() >= 60 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	atKill := srv.Count()
	if atKill >= n {
		t.Fatalf("everything was sent before the kill (%d); the test proves nothing", atKill)
	}

	var log2 bytes.Buffer
	cmd = exec.Command(bin, "serve")
	cmd.Env, cmd.Stderr = heraldEnv(t, dataDir, srv), &log2
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	distinct := func() int {
		seen := map[string]bool{}
		for _, m := range srv.Messages() {
			seen[m.To[0]] = true
		}
		return len(seen)
	}
	// Rows the killed process held come back when their lease (15 s) ends.
	waitFor(t, "every message", 90*time.Second, func() bool { return distinct() == n })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0)\n%s", err, log2.String())
	}
	dups := srv.Count() - n
	if dups < 0 || dups > 4 {
		t.Fatalf("%d duplicates; at most HERALD_SEND_CONCURRENCY=4 may be sent twice", dups)
	}
	if !strings.Contains(log2.String(), "herald is running") {
		t.Errorf("unexpected log:\n%s", log2.String())
	}
	t.Logf("killed after %d messages; %d duplicate(s) after restart", atKill, dups)
}

// TestDeliver_Command runs `herald deliver` against the test server: it
// sends what is due and exits 0, then exits 1 naming deferred messages.
func TestDeliver_Command(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	dataDir := t.TempDir()
	queueConfirmations(t, dataDir, 5)
	var stdout, stderr bytes.Buffer
	env := heraldEnv(t, dataDir, srv)
	getenv := func(k string) string {
		for _, kv := range env {
			if strings.HasPrefix(kv, k+"=") {
				return strings.TrimPrefix(kv, k+"=")
			}
		}
		return ""
	}
	code := run(context.Background(), []string{"herald", "deliver"}, getenv, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK || srv.Count() != 5 || !strings.Contains(stderr.String(), "5 sent") {
		t.Fatalf("exit %d, %d messages, stderr:\n%s", code, srv.Count(), stderr.String())
	}

	srv.OnRcpt(func(string) error { return smtptest.Reply(451, "4.3.0 later") })
	queueConfirmationsMore(t, dataDir)
	stderr.Reset()
	code = run(context.Background(), []string{"herald", "deliver"}, getenv, strings.NewReader(""), &stdout, &stderr)
	if code != exitFail || !strings.Contains(stderr.String(), "1 message remains deferred") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"herald", "deliver", "extra"}, getenv, strings.NewReader(""), &stdout, &stderr); code != exitUsage {
		t.Fatalf("usage error: exit %d", code)
	}
}

func queueConfirmationsMore(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbFor(t, dataDir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids, err := db.SeedSubscribers(ctx, []store.SeedSubscriber{{Email: "late@example.net", Status: "pending"}})
	if err != nil {
		t.Fatal(err)
	}
	it, _ := mailer.NoticeItem(mailer.KindConfirm, ids[0], "confirm:late", mailer.NoticeData{ConfirmURL: "http://127.0.0.1/c"})
	if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.Enqueue(ctx, time.Now(), []store.OutboxItem{it}); return err }); err != nil {
		t.Fatal(err)
	}
}
