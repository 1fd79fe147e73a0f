package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// exportedMetrics returns the Prometheus metric names herald's Go code
// (the module's non-test files) defines. A name is found as a string
// literal ("herald_http_requests_total"), or composed from the Namespace,
// Subsystem and Name of a prometheus.*Opts literal; when Name is not a
// literal (mailer's counter helper passes it in), the literal first
// argument of each call in the same file is tried as the name.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	metricName := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		var literals, firstArgs []string
		var prefixes []string // namespace_subsystem of Opts whose Name is not a literal
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING {
					literals = append(literals, s)
				}
			case *ast.CallExpr:
				if len(n.Args) > 0 {
					if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						firstArgs = append(firstArgs, s)
					}
				}
			case *ast.CompositeLit:
				fields := map[string]string{}
				hasName, nameIsLit := false, false
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, ok := kv.Key.(*ast.Ident)
					if !ok {
						continue
					}
					if key.Name == "Name" {
						hasName = true
					}
					if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						fields[key.Name], _ = strconv.Unquote(lit.Value)
						nameIsLit = nameIsLit || key.Name == "Name"
					}
				}
				if _, ok := fields["Namespace"]; !ok || !hasName {
					return true
				}
				prefix := joinNonEmpty(fields["Namespace"], fields["Subsystem"])
				if nameIsLit {
					names[joinNonEmpty(prefix, fields["Name"])] = true
				} else {
					prefixes = append(prefixes, prefix)
				}
			}
			return true
		})
		for _, l := range literals {
			if strings.HasPrefix(l, "herald_") && metricName.MatchString(l) {
				names[l] = true
			}
		}
		for _, p := range prefixes {
			for _, a := range firstArgs {
				if metricName.MatchString(a) {
					names[p+"_"+a] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "_")
}

var heraldMetric = regexp.MustCompile(`\bherald_[a-z0-9_]*[a-z0-9]`)

// referencedMetrics returns the herald_* names in a file.
func referencedMetrics(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range heraldMetric.FindAllString(string(b), -1) {
		seen[m] = true
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// exists reports whether name is an exported metric or one of the series
// of an exported histogram or summary.
func exists(exported map[string]bool, name string) bool {
	if exported[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return true
		}
	}
	return false
}

// TestMetrics_NamedInDeployFilesExist checks that every herald_* metric
// that the alert rules, their tests and the dashboard use is one that
// herald defines: a renamed metric would otherwise leave an alert that can
// never fire.
func TestMetrics_NamedInDeployFilesExist(t *testing.T) {
	exported := exportedMetrics(t)
	// The collector must find the metrics it is meant to find, and only
	// those, or this test proves nothing.
	for _, want := range []string{"herald_http_requests_total", "herald_mail_sent_total", "herald_mail_queue_depth",
		"herald_smtp_send_seconds", "herald_leader"} {
		if !exported[want] {
			t.Errorf("the Go sources do not define %s, or the collector missed it", want)
		}
	}
	for _, bogus := range []string{"herald_mail_sent", "herald_mail_sent_totals", "herald_bounce_total"} {
		if exists(exported, bogus) {
			t.Errorf("the collector accepts %s, which herald does not export", bogus)
		}
	}
	for _, file := range []string{"prometheus/herald-rules.yml", "prometheus/herald-rules_test.yml", "grafana/herald.json"} {
		used := referencedMetrics(t, file)
		if len(used) < 5 {
			t.Errorf("%s names only %d herald metrics: %v", file, len(used), used)
		}
		for _, m := range used {
			if !exists(exported, m) {
				t.Errorf("%s uses %s, which herald does not export", file, m)
			}
		}
	}
}
