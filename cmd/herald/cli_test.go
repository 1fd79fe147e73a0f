package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"herald/releases"
	"herald/store/storetest"
)

// cliEnv runs a herald command with extra environment variables.
func cliEnv(t *testing.T, dataDir string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(heraldBin, args...)
	cmd.Env = append(append(testEnv(t, dataDir), "HERALD_DATA_DIR="+dataDir), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestCLI_UsageHidesSecrets(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HERALD_ADMIN_TOKEN=supersecret", "HERALD_SMTP_URL=smtp://user:p4ssw0rd@host:587"}
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"digest"}, 2},
		{[]string{"releases", "add"}, 2},
		{[]string{"alert", "-h"}, 0},
		{[]string{"serve", "-h"}, 0},
		{[]string{"serve", "--nope"}, 2},
		{[]string{"deliver", "extra"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := cliEnv(t, dir, env, "", tt.args...)
			all := out + errOut
			if code != tt.code || !strings.Contains(all, "usage: herald") {
				t.Fatalf("exit %d (want %d), output:\n%s", code, tt.code, all)
			}
			if strings.Contains(all, "supersecret") || strings.Contains(all, "p4ssw0rd") {
				t.Fatalf("usage shows a secret:\n%s", all)
			}
			if tt.args[0] == "serve" && !strings.Contains(all, `"smtp://user:***@host:587"`) {
				t.Fatalf("serve usage does not show the redacted SMTP URL:\n%s", all)
			}
		})
	}
}

func TestCLI_SettingsListedOnlyByServe(t *testing.T) {
	dir := t.TempDir()
	_, usage, code := cli(t, dir, "", "serve", "-h")
	if code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	for _, v := range []string{"ADDR", "BASE_URL", "DATA_DIR", "DB", "SMTP_URL", "FROM", "SITE_NAME", "ADMIN_TOKEN", "TZ",
		"DIGEST_DAILY", "DIGEST_WEEKLY", "SEND_CONCURRENCY", "SEND_RATE", "RETRY_MIN", "ALERT_MAX_AGE", "LOG_FORMAT",
		"OUTBOUND_ALLOW_PRIVATE", "WEBSUB_HUBS"} {
		if !strings.Contains(usage, "($HERALD_"+v+")") {
			t.Errorf("serve -h lacks HERALD_%s", v)
		}
	}
	for _, args := range [][]string{
		{"releases", "add", "-h"}, {"releases", "list", "-h"}, {"alert", "-h"}, {"digest", "-h"},
		{"deliver", "-h"}, {"subscribers", "import", "-h"}, {"subscribers", "export", "-h"}, {"version", "-h"},
	} {
		_, usage, code := cli(t, dir, "", args...)
		if code != 0 || strings.Contains(usage, "smtp-url") || strings.Contains(usage, "$HERALD_") ||
			!strings.Contains(strings.ToLower(usage), "every herald_* setting is also accepted as a flag; see herald serve -h") {
			t.Errorf("%v: exit %d, usage:\n%s", args, code, usage)
		}
	}
	// The settings still work as flags of every command.
	other := filepath.Join(t.TempDir(), "other")
	if _, errOut, code := cli(t, dir, "", "releases", "list", "--data-dir", other, "--tz", "Europe/Paris"); code != 0 {
		t.Fatalf("releases list --data-dir: exit %d %s", code, errOut)
	}
	used := filepath.Join(other, "herald.db")
	if storetest.OnPostgres() {
		used = other // the database is HERALD_DB's; the data dir is still made
	}
	if _, err := os.Stat(used); err != nil {
		t.Fatalf("--data-dir was not used: %v", err)
	}
	if _, errOut, code := cli(t, dir, "", "releases", "list", "--tz", "Mars/Olympus"); code != 1 || !strings.HasPrefix(errOut, "herald: --tz:") {
		t.Fatalf("bad --tz: exit %d %q", code, errOut)
	}
}

func TestCLI_UsageErrorsBeforeAnyWork(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"audience", []string{"alert", "18", "--audience", "bogus"}, []string{"--audience must be matching or immediate"}},
		{"test-to", []string{"alert", "18", "--test-to", "notanemail"}, []string{"--test-to must be one email address"}},
		{"test-to list", []string{"alert", "--test-to", "a@example.org, b@example.org", "18"}, []string{"--test-to"}},
		{"alert without id", []string{"alert"}, []string{"exactly one argument"}},
		{"alert two ids", []string{"alert", "1", "2"}, []string{"exactly one argument"}},
		{"status", []string{"releases", "list", "--status", "bogus"}, []string{"--status must be draft, published, live or embargoed"}},
		{"limit", []string{"releases", "list", "--limit", "500"}, []string{"--limit must be from 1 to 200"}},
		{"all and limit", []string{"releases", "list", "--all", "--limit", "5"}, []string{"--all"}},
		{"digest extra", []string{"digest", "daily", "extra"}, []string{"digest takes exactly one argument"}},
		{"digest none", []string{"digest"}, []string{"digest takes exactly one argument"}},
		{"digest monthly", []string{"digest", "monthly"}, []string{"daily or weekly", `"monthly"`}},
		{"releases group", []string{"releases"}, []string{"releases needs a subcommand", "releases add", "releases list"}},
		{"subscribers group", []string{"subscribers"}, []string{"subscribers needs a subcommand", "subscribers import", "subscribers export"}},
		{"group flag", []string{"releases", "--json"}, []string{"releases needs a subcommand", "releases list"}},
		{"unknown subcommand", []string{"releases", "remove", "3"}, []string{`unknown command "releases remove"`, "releases add"}},
		{"version args", []string{"version", "now"}, []string{"version takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			out, errOut, code := cli(t, dir, "", tt.args...)
			if code != 2 || out != "" {
				t.Fatalf("exit %d (want 2), stdout %q, stderr:\n%s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "audience:") || strings.Contains(errOut, "test_to") {
				t.Errorf("stderr names the JSON field instead of the flag:\n%s", errOut)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("the data directory was created: the command did work before rejecting its usage")
			}
		})
	}
}

func TestCLI_VersionFlags(t *testing.T) {
	dir := t.TempDir()
	want, _, _ := cli(t, dir, "", "version")
	if !strings.HasPrefix(want, "herald ") {
		t.Fatalf("version: %q", want)
	}
	for _, arg := range []string{"--version", "-v", "-version"} {
		if out, errOut, code := cli(t, dir, "", arg); code != 0 || out != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", arg, code, out, errOut, want)
		}
	}
}

func TestCLI_TopLevelUsage(t *testing.T) {
	_, usage, code := cli(t, t.TempDir(), "", "-h")
	if code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	lines := strings.Split(usage, "\n")
	for _, line := range lines {
		if len(line) > 80 {
			t.Errorf("line wider than 80 columns: %q", line)
		}
	}
	// Every command's summary starts at column 36, on the synopsis line or
	// on the next one.
	for _, c := range commands() {
		aligned := false
		for _, line := range lines {
			if len(line) > usageColumn && line[usageColumn-1] == ' ' && line[usageColumn:] == c.summary {
				aligned = true
			}
		}
		if !aligned {
			t.Errorf("the summary of %q is not aligned at column %d:\n%s", c.name, usageColumn, usage)
		}
	}
	if !strings.Contains(usage, "\n"+strings.Repeat(" ", usageColumn)+"send a release to its audience now\n") {
		t.Errorf("the alert summary is not on its own aligned line:\n%s", usage)
	}
}

func TestCLI_ReleasesAddHelpShowsFormat(t *testing.T) {
	_, usage, code := cli(t, t.TempDir(), "", "releases", "add", "-h")
	if code != 0 || !strings.Contains(usage, `{"title": "...", "body": "Markdown", "topics": ["migration"]}`) ||
		!strings.Contains(usage, "array") {
		t.Fatalf("releases add -h: exit %d\n%s", code, usage)
	}
}

func TestCLI_ReleasesAddAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "batch.json")
	bad := `[{"title":"Good","body":"b","topics":["migration"]},
	         {"body":"no title","topics":["migration"]},
	         {"title":"Bad topic","body":"b","topics":["nope"]},
	         {"title":"Fine too","body":"b","topics":["refugees"],"slug":"same"},
	         {"title":"Same slug","body":"b","topics":["refugees"],"slug":"same"},
	         {"title":"EN","body":"b","topics":["migration"],"translation_key":"k"},
	         {"title":"EN again","body":"b","topics":["migration"],"translation_key":"k"}]`
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, dir, "", "releases", "add", file)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		file + ": release 2: title: is required\n",
		file + ": release 3: topics:",
		file + ": release 5: slug:",
		file + ": release 7: translation_key:",
		"nothing added: 4 of 7 releases are invalid",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, notWant := range []string{"release 1:", "release 4:", "release 6:", "store:"} {
		if strings.Contains(errOut, notWant) {
			t.Errorf("stderr has %q:\n%s", notWant, errOut)
		}
	}
	if n := countReleases(t, dir); n != 0 {
		t.Fatalf("%d releases stored after a failed import; want none", n)
	}

	// The valid ones alone are added, in order.
	good := `[{"title":"Good","body":"b","topics":["migration"]},
	          {"title":"Fine too","body":"b","topics":["refugees"],"slug":"same"},
	          {"title":"EN","body":"b","topics":["migration"],"translation_key":"k"},
	          {"title":"FR","body":"b","topics":["migration"],"translation_key":"k","language":"fr"}]`
	out, errOut, code = cli(t, dir, good, "releases", "add", "-")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasSuffix(lines[1], "\tsame") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Conflicts with what is stored are found before anything is added.
	again := `[{"title":"New","body":"b","topics":["migration"]},
	           {"title":"Other","body":"b","topics":["migration"],"slug":"same"},
	           {"title":"ES","body":"b","topics":["migration"],"translation_key":"k","language":"fr"}]`
	_, errOut, code = cli(t, dir, again, "releases", "add", "-")
	if code != 1 || !strings.Contains(errOut, "herald: release 2: slug: \"same\" is already used\n") ||
		!strings.Contains(errOut, "herald: release 3: translation_key:") || !strings.Contains(errOut, "nothing added: 2 of 3") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if n := countReleases(t, dir); n != 4 {
		t.Fatalf("%d releases stored; want the 4 of the valid file", n)
	}
}

func countReleases(t *testing.T, dir string) int {
	t.Helper()
	out, errOut, code := cli(t, dir, "", "releases", "list", "--all", "--json")
	var docs []json.RawMessage
	if err := json.Unmarshal([]byte(out), &docs); code != 0 || err != nil {
		t.Fatalf("releases list: exit %d, %v, %s", code, err, errOut)
	}
	return len(docs)
}

func TestCLI_ReleasesListSaysWhenItStopsShort(t *testing.T) {
	dir := t.TempDir()
	var batch []string
	for i := 1; i <= 60; i++ {
		batch = append(batch, fmt.Sprintf(`{"title":"Release %d","body":"b","topics":["migration"]}`, i))
	}
	batch = append(batch, `{"title":"A draft","body":"b","topics":["migration"],"status":"draft"}`)
	if _, errOut, code := cli(t, dir, "["+strings.Join(batch, ",")+"]", "releases", "add", "-"); code != 0 {
		t.Fatalf("add: %d %s", code, errOut)
	}
	tests := []struct {
		args   []string
		rows   int
		notice string
	}{
		{[]string{"releases", "list"}, 50, "(showing the 50 newest of 61; use --limit N, up to 200, or --all)\n"},
		{[]string{"releases", "list", "--limit", "10", "--status", "live"}, 10, "(showing the 10 newest of 60; use --limit N, up to 200, or --all)\n"},
		{[]string{"releases", "list", "--limit", "61"}, 61, ""},
		{[]string{"releases", "list", "--all"}, 61, ""},
		{[]string{"releases", "list", "--status", "draft"}, 1, ""},
	}
	for _, tt := range tests {
		out, errOut, code := cli(t, dir, "", tt.args...)
		if rows := strings.Count(out, "\n") - 1; code != 0 || rows != tt.rows || errOut != tt.notice {
			t.Errorf("%v: exit %d, %d rows (want %d), stderr %q (want %q)", tt.args, code, rows, tt.rows, errOut, tt.notice)
		}
	}
	out, errOut, _ := cli(t, dir, "", "releases", "list", "--json")
	var docs []struct{ Title string }
	if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 50 || !strings.HasPrefix(errOut, "(showing the 50 newest of 61") {
		t.Fatalf("--json: %d docs, %v, stderr %q", len(docs), err, errOut)
	}
	out, _, _ = cli(t, dir, "", "releases", "list", "--json", "--all")
	if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 61 || docs[0].Title != "A draft" || docs[60].Title != "Release 1" {
		t.Fatalf("--json --all: %d docs, %v", len(docs), err)
	}
}

func TestCLI_AlertMessages(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := cli(t, dir, "", "alert", "999")
	if code != 1 || out != "" || errOut != "herald: release 999 not found\n" {
		t.Fatalf("alert 999: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, _ = cli(t, dir, `{"title":"Urgent","body":"b","topics":["migration"]}`, "releases", "add", "-")
	id := strings.Split(out, "\t")[0]
	csv := "email,topics,regions,language,cadence,timezone,status\nana@example.org,,,en,immediate,,active\n"
	if _, errOut, code := cli(t, dir, csv, "subscribers", "import", "-"); code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	out, errOut, code = cli(t, dir, "", "alert", id, "--dry-run")
	if code != 0 || !strings.HasPrefix(out, "dry run: 1 recipient (") {
		t.Fatalf("dry run: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code = cli(t, dir, "", "alert", id, "--audience", "immediate")
	if code != 0 || !strings.Contains(out, ": 1 message queued (") {
		t.Fatalf("alert: exit %d, %q %q", code, out, errOut)
	}
	out, _, code = cli(t, dir, "", "digest", "daily", "--dry-run")
	if code != 0 || out != "dry run: 0 daily digests would be queued (0 subscribers looked at)\n" {
		t.Fatalf("digest: exit %d, %q", code, out)
	}
}

func TestServe_BaseURLFollowsTheAddress(t *testing.T) {
	// Set by flag: links in feeds use the address.
	dir := t.TempDir()
	addr := freeAddr(t)
	d := startDaemonArgs(t, dir, "--addr", addr)
	if d.base != "http://"+addr || !strings.Contains(d.logs.String(), "base_url=http://"+addr) {
		t.Fatalf("daemon on %s, log:\n%s", d.base, d.logs)
	}
	token := readToken(t, dir)
	if code := d.api(t, token, "POST", "/api/v1/releases", `{"title":"Linked","body":"b","topics":["migration"]}`, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	resp, err := http.Get(d.base + "/feed.rss")
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(feed, []byte("<link>http://"+addr+"/releases/linked</link>")) || bytes.Contains(feed, []byte("127.0.0.1:8080")) {
		t.Fatalf("feed links do not follow --addr %s:\n%s", addr, feed)
	}
	d.stop(t)

	// Set by the environment (the config tests cover hosts such as
	// 0.0.0.0); the admin token from the environment works although usage
	// never shows it.
	addr = freeAddr(t)
	d = startDaemon(t, t.TempDir(), "HERALD_ADDR="+addr, "HERALD_ADMIN_TOKEN=supersecret")
	if !strings.Contains(d.logs.String(), "base_url=http://"+addr) {
		t.Fatalf("base URL for HERALD_ADDR=%s, log:\n%s", addr, d.logs)
	}
	if code := d.api(t, "supersecret", "GET", "/api/v1/releases", "", nil); code != 200 {
		t.Fatalf("admin token from the environment: %d", code)
	}
	d.stop(t)
}

func TestServe_ListenFailureNamesTheSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	dir := t.TempDir()
	_, errOut, code := cli(t, dir, "", "serve", "--addr", addr)
	if code != 1 || !hasLine(errOut, "herald: --addr: cannot listen on "+addr) || strings.Contains(errOut, "HERALD_ADDR") {
		t.Fatalf("--addr: exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = cliEnv(t, dir, []string{"HERALD_ADDR=" + addr}, "", "serve")
	if code != 1 || !hasLine(errOut, "herald: HERALD_ADDR: cannot listen on "+addr) {
		t.Fatalf("HERALD_ADDR: exit %d, stderr:\n%s", code, errOut)
	}
}

// hasLine reports whether some line of s starts with prefix.
func hasLine(s, prefix string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// TestAddReleases_UndoesAPartialAdd covers the race that checkReleases
// cannot see (another writer takes a slug between the check and the
// save): the releases already added are removed again.
func TestAddReleases_UndoesAPartialAdd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var stderr bytes.Buffer
	e := env{getenv: func(k string) string { return map[string]string{"HERALD_DATA_DIR": dir}[k] }, stderr: &stderr, stdout: io.Discard}
	fs, loader := flags(e, "releases add", "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	var ins []releases.Input
	for _, raw := range []string{
		`{"title":"First","body":"b","topics":["migration"]}`,
		`{"title":"Second","body":"b","topics":["migration"],"slug":"taken"}`,
		`{"title":"Third","body":"b","topics":["migration"],"slug":"taken"}`,
	} {
		in, err := releases.DecodeInput([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}
	added, problem := a.addReleases(ctx, ins)
	if problem == nil || problem.index != 2 || added != nil || !strings.Contains(problem.err.Error(), "nothing added") {
		t.Fatalf("added %v, problem %+v", added, problem)
	}
	page, err := a.releases.List(ctx, releases.ListQuery{Limit: 10})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("%d releases left after the undo, %v", len(page.Items), err)
	}
}
