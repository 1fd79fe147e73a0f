package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// herald runs the CLI in-process against dataDir.
func herald(t *testing.T, dataDir string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	env := map[string]string{"HERALD_DATA_DIR": dataDir}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"herald"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestSubscribersImportExport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "in.csv")
	in := "email,topics,regions,language,cadence,timezone,status\n" +
		"ana@example.org,migration;refugees,europe,fr,weekly,Europe/Paris,active\n" +
		"+bob@example.org,,,,,,unsubscribed\n" +
		"not an address,,,,,,\n"
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := herald(t, dir, "", "subscribers", "import", file)
	if code != exitFail || !strings.Contains(out, "added 2, updated 0, skipped 0, errors 1") || !strings.Contains(errOut, "line 4: email:") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	// The same rows again from stdin: nothing changes, no errors.
	code, out, errOut = herald(t, dir, strings.Join(strings.Split(in, "\n")[:3], "\n")+"\n", "subscribers", "import", "-")
	if code != exitOK || !strings.Contains(out, "added 0, updated 0, skipped 2, errors 0") {
		t.Fatalf("re-import: %d %q %q", code, out, errOut)
	}
	code, out, errOut = herald(t, dir, "", "subscribers", "export")
	if code != exitOK {
		t.Fatalf("export: %d %q", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][0] != "ana@example.org" || recs[2][0] != "'+bob@example.org" || recs[2][6] != "unsubscribed" {
		t.Fatalf("export: %q %v", out, err)
	}
	target := filepath.Join(t.TempDir(), "out.csv")
	if code, _, errOut = herald(t, dir, "", "subscribers", "export", target); code != exitOK {
		t.Fatalf("export to file: %d %q", code, errOut)
	}
	got, err := os.ReadFile(target)
	if err != nil || string(got) != out {
		t.Fatalf("file export differs from stdout: %v", err)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v; it holds personal data", st.Mode().Perm())
	}
}

func TestSubscribersCommands_Usage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"subscribers", "import"},
		{"subscribers", "import", "a.csv", "b.csv"},
		{"subscribers", "export", "a", "b"},
		{"subscribers", "import", "--nope", "a.csv"},
	} {
		if code, _, _ := herald(t, dir, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := herald(t, dir, "", "subscribers", "import", filepath.Join(dir, "missing.csv")); code != exitFail || !strings.Contains(errOut, "missing.csv") {
		t.Errorf("missing file: %d %q", code, errOut)
	}
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("name,city\nx,y\n"), 0o600)
	if code, _, errOut := herald(t, dir, "", "subscribers", "import", bad); code != exitFail || !strings.Contains(errOut, "header") {
		t.Errorf("file without header: %d %q", code, errOut)
	}
}
