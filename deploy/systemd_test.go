package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// unit is a parsed systemd unit file: section -> key -> values, in order
// (a key may repeat; an empty value resets a list).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if _, dup := u[section]; dup {
				t.Errorf("%s:%d: section [%s] twice", path, n, section)
			}
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" || key != strings.TrimSpace(key) || key == "" || strings.HasSuffix(line, `\`) {
				t.Errorf("%s:%d: not a key=value line in a section: %q", path, n, line)
				continue
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// last is the value in force for a key set once or several times.
func (u unit) last(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// TestSystemdUnit checks that herald.service parses as sections of
// key=value lines and has the confinement and stop behaviour that herald
// needs; with systemd-analyze installed, systemd itself verifies it.
func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "herald.service")
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Errorf("no [%s] section", s)
		}
	}
	want := map[string]string{
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"MemoryDenyWriteExecute":  "yes",
		"LockPersonality":         "yes",
		"RestrictNamespaces":      "yes",
		"RestrictSUIDSGID":        "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectControlGroups":    "yes",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"SystemCallArchitectures": "native",
		"Restart":                 "on-failure",
		"UMask":                   "0077",
	}
	for key, value := range want {
		if _, set := u["Service"][key]; !set {
			t.Errorf("[Service] %s is not set, want %q", key, value)
		} else if got := u.last("Service", key); got != value {
			t.Errorf("[Service] %s=%q, want %q", key, got, value)
		}
	}
	if f := u["Service"]["SystemCallFilter"]; !slices.Contains(f, "@system-service") {
		t.Errorf("SystemCallFilter=%q, want @system-service among them", f)
	}
	if u.last("Service", "User") == "" && u.last("Service", "DynamicUser") != "yes" {
		t.Error("the unit runs herald as root: set User= or DynamicUser=yes")
	}
	if !strings.HasSuffix(u.last("Service", "ExecStart"), "herald serve") {
		t.Errorf("ExecStart=%q, want herald serve", u.last("Service", "ExecStart"))
	}
	if u.last("Service", "EnvironmentFile") == "" {
		t.Error("no EnvironmentFile: settings such as HERALD_SMTP_URL have nowhere to go")
	}
	if u.last("Install", "WantedBy") != "multi-user.target" {
		t.Errorf("WantedBy=%q", u.last("Install", "WantedBy"))
	}

	// The data directory is the one place herald may write.
	var dataDir string
	for _, e := range u["Service"]["Environment"] {
		if v, ok := strings.CutPrefix(e, "HERALD_DATA_DIR="); ok {
			dataDir = v
		}
	}
	if dataDir == "" || !slices.Contains(strings.Fields(strings.Join(u["Service"]["ReadWritePaths"], " ")), dataDir) {
		t.Errorf("HERALD_DATA_DIR=%q is not among ReadWritePaths=%q", dataDir, u["Service"]["ReadWritePaths"])
	}
	if sd := u.last("Service", "StateDirectory"); sd != "" && "/var/lib/"+sd != dataDir {
		t.Errorf("StateDirectory=%s creates /var/lib/%s, but HERALD_DATA_DIR=%s", sd, sd, dataDir)
	}

	// SIGTERM drains SMTP transactions for up to 30 s (SPEC 1): systemd
	// must wait longer than that before SIGKILL.
	stop, err := timeSpan(u.last("Service", "TimeoutStopSec"))
	if err != nil || stop <= 30*time.Second {
		t.Errorf("TimeoutStopSec=%q: want more than herald's 30 s drain", u.last("Service", "TimeoutStopSec"))
	}
	if sig := u.last("Service", "KillSignal"); sig != "" && sig != "SIGTERM" {
		t.Errorf("KillSignal=%s: herald drains on SIGTERM", sig)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit was not verified by systemd")
		return
	}
	// systemd-analyze verify needs ExecStart's program to exist: any
	// executable stands in for /usr/local/bin/herald.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("herald.service")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "herald.service")
	text := strings.Replace(string(b), "ExecStart=/usr/local/bin/herald", "ExecStart="+self, 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "herald.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// timeSpan parses a systemd time span such as 45, 45s, 1min or 1min 30s.
func timeSpan(v string) (time.Duration, error) {
	if v != "" && strings.Trim(v, "0123456789") == "" {
		v += "s"
	}
	v = strings.NewReplacer(" ", "", "min", "m", "sec", "s").Replace(v)
	return time.ParseDuration(v)
}
