package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core 4.14.1 (Deque Systems, MPL-2.0: see axe.LICENSE
// and the header of axe.min.js), vendored from the npm package so that the
// accessibility tests need no network.
//
//go:embed axe.min.js
var axeSource string

// AxeViolation is one rule axe-core found broken, with the nodes that
// break it.
type AxeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []AxeNode `json:"nodes"`
}

// AxeNode is an element that breaks a rule: its CSS selector path and
// axe's summary of what to fix.
type AxeNode struct {
	Target  []any  `json:"target"`
	Summary string `json:"failureSummary"`
}

// axeRun runs every WCAG 2.x A/AA rule and best practice on the page, and
// reports the violations only.
const axeRun = `axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
  resultTypes: ["violations"]
}).then(function (r) { return r.violations; })`

// Axe runs axe-core on the page loaded in ctx and returns its violations.
// The script goes in through DevTools, so that the page's CSP, which
// allows only its own scripts, does not stop it.
func Axe(ctx context.Context) ([]AxeViolation, error) {
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(c, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if _, err := chromedp.Run(c, chromedp.Evaluate[any](axeSource+"\n;true")); err != nil {
			return nil, fmt.Errorf("injecting axe-core: %w", err)
		}
	}
	return chromedp.Run(c, chromedp.Evaluate[[]AxeViolation](axeRun, chromedp.EvalAwaitPromise))
}

// AxeCheck runs axe-core on the page loaded in ctx and fails the test for
// every serious or critical violation, naming the rule, its impact and
// each element's selector; minor and moderate ones are logged.
func AxeCheck(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	vs, err := Axe(ctx)
	if err != nil {
		t.Errorf("%s: axe-core did not run: %v", page, err)
		return
	}
	for _, v := range vs {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, fmt.Sprint(n.Target...))
		}
		msg := fmt.Sprintf("%s: axe %s (%s): %s; at %s", page, v.ID, v.Impact, v.Help, strings.Join(targets, " | "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
			for _, n := range v.Nodes {
				t.Logf("  %v: %s", n.Target, n.Summary)
			}
		} else {
			t.Log(msg)
		}
	}
}
