package deploy

import (
	"os"
	"os/exec"
	"testing"
)

// needTool returns the path of a program, skips the test without it, and
// fails it in CI (CI=true), where .ci/run installs it: a check that CI
// skips is one nobody runs.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not on PATH in CI: .ci/run should install Debian's %s package", name, pkg)
	}
	t.Skipf("%s is not installed (Debian package %s)", name, pkg)
	return ""
}

// TestPrometheusRules runs promtool over the alert rules: their syntax, and
// their unit tests (prometheus/herald-rules_test.yml), in which each alert
// fires on the trouble it is about and stays quiet otherwise.
func TestPrometheusRules(t *testing.T) {
	promtool := needTool(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "prometheus/herald-rules.yml"},
		{"test", "rules", "prometheus/herald-rules_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
