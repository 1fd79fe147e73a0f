package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"herald/store/storetest"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// heraldBin is the herald binary built once for the tests in this package.
var heraldBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	heraldBin = filepath.Join(dir, "herald")
	build := exec.Command("go", "build", "-o", heraldBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building herald:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// dataDBs remembers the database of each test data dir on PostgreSQL.
var dataDBs sync.Map

// dbFor is the database (HERALD_DB) of a test's data dir: the default file
// inside it on SQLite; on PostgreSQL (HERALD_TEST_POSTGRES), a schema of its
// own, the same for every command run on that data dir.
func dbFor(t testing.TB, dataDir string) string {
	t.Helper()
	if !storetest.OnPostgres() {
		return filepath.Join(dataDir, "herald.db")
	}
	if v, ok := dataDBs.Load(dataDir); ok {
		return v.(string)
	}
	v, _ := dataDBs.LoadOrStore(dataDir, storetest.DSN(t))
	return v.(string)
}

// testEnv is the environment of a herald process on a test's data dir: this
// process's, plus HERALD_DB on PostgreSQL (on SQLite the data dir's own file
// is the default, and --data-dir may move it). The tests post to
// /subscribe as scripts do, without solving a proof of work: it is off
// (HERALD_SIGNUP_POW=false) unless a test turns it on again (a later
// entry of the environment wins).
func testEnv(t testing.TB, dataDir string) []string {
	t.Helper()
	env := append(os.Environ(), "HERALD_SIGNUP_POW=false")
	if storetest.OnPostgres() {
		env = append(env, "HERALD_DB="+dbFor(t, dataDir))
	}
	return env
}

// cli runs a herald command to completion.
func cli(t *testing.T, dataDir, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(heraldBin, args...)
	cmd.Env = append(testEnv(t, dataDir), "HERALD_DATA_DIR="+dataDir)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// daemon is a running `herald serve`.
type daemon struct {
	cmd  *exec.Cmd
	base string
	logs *logBuffer
	done chan error
}

// logBuffer holds a daemon's log, written by the goroutine that reads its
// stderr and read by the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var addrRE = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

func startDaemon(t *testing.T, dataDir string, env ...string) *daemon {
	t.Helper()
	cmd := exec.Command(heraldBin, "serve", "--addr", "127.0.0.1:0")
	for _, kv := range env {
		if strings.HasPrefix(kv, "HERALD_ADDR=") {
			cmd = exec.Command(heraldBin, "serve") // the caller chose the address
		}
	}
	cmd.Env = append(append(testEnv(t, dataDir), "HERALD_DATA_DIR="+dataDir), env...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: &logBuffer{}, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			d.logs.WriteString(line + "\n")
			if m := addrRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "herald is running") {
				found <- m[1]
			}
		}
	}()
	go func() { d.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case addr := <-found:
		d.base = "http://" + addr
	case err := <-d.done:
		t.Fatalf("herald serve exited early: %v\n%s", err, d.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("herald serve did not start\n%s", d.logs)
	}
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("herald serve exited with %v after SIGTERM\n%s", err, d.logs)
		}
	case <-time.After(35 * time.Second):
		t.Fatalf("herald serve did not stop within 35 s of SIGTERM")
	}
}

func (d *daemon) api(t *testing.T, token, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, d.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func readToken(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestServe_ReleaseSurvivesSIGTERMAndRestart(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	if !strings.Contains(d.logs.String(), filepath.Join(dir, "admin-token")) {
		t.Errorf("the admin token's path is not logged:\n%s", d.logs)
	}
	token := readToken(t, dir)
	resp, err := http.Get(d.base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	var created struct{ ID, Slug string }
	body := `{"title":"Road Map Adopted","body":"Adopted in Buenos Aires.","topics":["migration"],"regions":["argentina"]}`
	if code := d.api(t, token, "POST", "/api/v1/releases", body, &created); code != 201 || created.ID == "" {
		t.Fatalf("create: %d %+v", code, created)
	}
	d.stop(t)

	d = startDaemon(t, dir)
	var got struct{ ID, Slug, Title string }
	if code := d.api(t, token, "GET", "/api/v1/releases/"+created.ID, "", &got); code != 200 || got.Title != "Road Map Adopted" {
		t.Fatalf("after restart: %d %+v", code, got)
	}
	resp, err = http.Get(d.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"herald_http_requests_total", "herald_http_request_duration_seconds", "go_goroutines"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	d.stop(t)
}

func TestServe_DemoData(t *testing.T) {
	dir := t.TempDir()
	d := startDaemonArgs(t, dir, "--demo")
	token := readToken(t, dir)
	var list struct {
		Items []struct {
			Status         string `json:"status"`
			Language       string `json:"language"`
			TranslationKey string `json:"translation_key"`
			Live           bool   `json:"live"`
		}
	}
	if code := d.api(t, token, "GET", "/api/v1/releases?limit=200", "", &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	d.stop(t)
	if len(list.Items) < 12 {
		t.Fatalf("demo has %d releases, want at least 12", len(list.Items))
	}
	langs := map[string]bool{}
	drafts, embargoed, paired := 0, 0, map[string]int{}
	for _, r := range list.Items {
		langs[r.Language] = true
		switch {
		case r.Status == "draft":
			drafts++
		case !r.Live:
			embargoed++
		}
		if r.TranslationKey != "" {
			paired[r.TranslationKey]++
		}
	}
	pairs := 0
	for _, n := range paired {
		if n >= 2 {
			pairs++
		}
	}
	if len(langs) < 3 || drafts != 1 || embargoed != 1 || pairs != 1 {
		t.Fatalf("demo: languages %v, drafts %d, embargoed %d, translation pairs %d", langs, drafts, embargoed, pairs)
	}
}

// startDaemonArgs is startDaemon with extra serve flags.
func startDaemonArgs(t *testing.T, dataDir string, args ...string) *daemon {
	t.Helper()
	saved := heraldBin
	wrapper := filepath.Join(t.TempDir(), "herald-wrapper")
	script := "#!/bin/sh\nexec " + saved + " \"$@\" " + strings.Join(args, " ") + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	heraldBin = wrapper
	defer func() { heraldBin = saved }()
	return startDaemon(t, dataDir)
}

func TestCLI_ReleasesAddAndListBesideServe(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	token := readToken(t, dir)

	in := `[{"title":"From the CLI","body":"Body text.","topics":["migration"],"language":"es"},
	        {"title":"Second","body":"More.","topics":["refugees"],"status":"draft"}]`
	out, errOut, code := cli(t, dir, in, "releases", "add", "-")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "from-the-cli") {
		t.Fatalf("releases add: code %d out %q err %q", code, out, errOut)
	}
	var list struct{ Items []struct{ Title string } }
	d.api(t, token, "GET", "/api/v1/releases", "", &list)
	if len(list.Items) != 2 {
		t.Fatalf("the daemon does not see the CLI's releases: %+v", list.Items)
	}

	out, _, code = cli(t, dir, "", "releases", "list", "--json")
	var docs []struct {
		ID, Title, Status string
	}
	if err := json.Unmarshal([]byte(out), &docs); code != 0 || err != nil || len(docs) != 2 || docs[0].ID == "" {
		t.Fatalf("releases list --json: code %d err %v out %q", code, err, out)
	}
	out, _, code = cli(t, dir, "", "releases", "list")
	if code != 0 || !strings.Contains(out, "From the CLI") || !strings.Contains(out, "draft") {
		t.Fatalf("releases list: %d %q", code, out)
	}

	_, errOut, code = cli(t, dir, `{"title":"x","body":"y","topics":["nope"]}`, "releases", "add", "-")
	if code != 1 || !strings.Contains(errOut, "topics") {
		t.Fatalf("invalid release: code %d stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, dir, `{"title":`, "releases", "add", "-")
	if code != 1 || errOut == "" {
		t.Fatalf("malformed JSON: code %d stderr %q", code, errOut)
	}
	d.stop(t)
}

func TestCLI_ExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"no command", nil, nil, 2, "usage"},
		{"missing file", nil, []string{"releases", "add"}, 2, "FILE"},
		{"bad flag", nil, []string{"serve", "--nope"}, 2, "nope"},
		{"bad tz", []string{"HERALD_TZ=Mars/Olympus"}, []string{"serve"}, 1, "HERALD_TZ"},
		{"bad cron", []string{"HERALD_DIGEST_DAILY=daily please"}, []string{"serve"}, 1, "HERALD_DIGEST_DAILY"},
		{"bad smtp", []string{"HERALD_SMTP_URL=ftp://x"}, []string{"serve"}, 1, "HERALD_SMTP_URL"},
		{"unwritable data dir", []string{"HERALD_DATA_DIR=/proc/herald"}, []string{"serve"}, 1, "HERALD_DATA_DIR"},
		{"version", nil, []string{"version"}, 0, "herald "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(heraldBin, tt.args...)
			cmd.Env = append(append(testEnv(t, dir), "HERALD_DATA_DIR="+dir, "HERALD_ADDR=127.0.0.1:0"), tt.env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("did not exit")
			}
			if got := cmd.ProcessState.ExitCode(); got != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d, output %q; want exit %d mentioning %q", got, out.String(), tt.code, tt.want)
			}
			if tt.code == 1 && strings.Count(strings.TrimSpace(out.String()), "\n") != 0 {
				t.Fatalf("a configuration error must be one line, got %q", out.String())
			}
		})
	}
}

func TestServe_EmbargoGoesLiveWithoutRequests(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	token := readToken(t, dir)
	type rel struct {
		ID     string  `json:"id"`
		Live   bool    `json:"live"`
		LiveAt *string `json:"live_at"`
	}
	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	later := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	var a, b rel
	d.api(t, token, "POST", "/api/v1/releases", `{"title":"Soon","body":"b","topics":["migration"],"published_at":"`+soon+`"}`, &a)
	d.api(t, token, "POST", "/api/v1/releases", `{"title":"Later","body":"b","topics":["migration"],"published_at":"`+later+`"}`, &b)
	if a.Live || a.LiveAt != nil || b.LiveAt != nil {
		t.Fatalf("embargoed releases are live at creation: %+v %+v", a, b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got rel
		d.api(t, token, "GET", "/api/v1/releases/"+a.ID, "", &got)
		if got.LiveAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("embargoed release did not go live by itself")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Stop before the second embargo ends: it goes live after the restart,
	// once.
	d.stop(t)
	laterAt, _ := time.Parse(time.RFC3339Nano, later)
	time.Sleep(time.Until(laterAt) + 500*time.Millisecond)
	d = startDaemon(t, dir)
	deadline = time.Now().Add(15 * time.Second)
	var got rel
	for {
		d.api(t, token, "GET", "/api/v1/releases/"+b.ID, "", &got)
		if got.LiveAt != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.stop(t)
	if got.LiveAt == nil || strings.Count(d.logs.String(), "release went live") != 1 {
		t.Fatalf("after restart: live_at %v; log:\n%s", got.LiveAt, d.logs)
	}
}

func TestServe_JSONLogs(t *testing.T) {
	cmd := exec.Command(heraldBin, "serve", "--addr", "127.0.0.1:0", "--log-format", "json")
	dir := t.TempDir()
	cmd.Env = append(testEnv(t, dir), "HERALD_DATA_DIR="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	running := false
	for !running && sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line["msg"] == nil || line["level"] == nil {
			t.Fatalf("log line is not a JSON record: %q", sc.Text())
		}
		running = line["msg"] == "herald is running" && line["addr"] != nil
	}
	if !running {
		t.Fatal("no JSON \"herald is running\" record")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("log line during shutdown is not JSON: %q", sc.Text())
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// TestBulkGC: a one-shot command collects garbage less often, the daemon
// keeps Go's default, and GOGC or GOMEMLIMIT set by the operator win.
func TestBulkGC(t *testing.T) {
	restore := func() { debug.SetGCPercent(100); debug.SetMemoryLimit(math.MaxInt64) }
	restore()
	t.Cleanup(restore)
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	check := func(args []string, kv map[string]string, wantPercent int, wantLimit int64) {
		t.Helper()
		restore()
		bulkGC(args, env(kv))
		if got := debug.SetGCPercent(100); got != wantPercent {
			t.Errorf("%v %v: GC percent %d, want %d", args, kv, got, wantPercent)
		}
		if got := debug.SetMemoryLimit(-1); got != wantLimit {
			t.Errorf("%v %v: memory limit %d, want %d", args, kv, got, wantLimit)
		}
	}
	check([]string{"herald", "serve", "--demo"}, nil, 100, math.MaxInt64)
	check([]string{"herald"}, nil, 100, math.MaxInt64)
	check([]string{"herald", "alert", "7"}, nil, 400, 96<<20)
	check([]string{"herald", "subscribers", "import", "x.csv"}, map[string]string{"GOGC": "200"}, 100, 96<<20)
	check([]string{"herald", "digest", "daily"}, map[string]string{"GOMEMLIMIT": "1GiB"}, 400, math.MaxInt64)
}
