// Package browsertest starts headless Chromium for herald's browser tests
// (chromedp), or skips the test when none is installed, and saves
// screenshots. Usage:
//
//	ctx := browsertest.New(t, 1280, 900)
//	dir := browsertest.Artifacts(t)
//	chromedp.Do(ctx, chromedp.Navigate(url))
//	browsertest.Shot(t, ctx, dir, "home")
//
// It is imported by tests only.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium or Chrome binary: HERALD_CHROMIUM, then
// Debian's /usr/bin/chromium (.ci/run installs it), then $PATH; "" for none.
func Chromium() string {
	if p := os.Getenv("HERALD_CHROMIUM"); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "" // named but missing: skip rather than fail
		}
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Artifacts is where screenshots go: $HERALD_ARTIFACTS to keep them, else
// a temporary directory.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HERALD_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// RequiredEnv, set to anything but "" (as .ci/run does), turns a missing
// Chromium from a skipped browser test into a failed one.
const RequiredEnv = "HERALD_TEST_BROWSER_REQUIRED"

// New starts headless Chromium with a window of width x height and
// returns its browser context, closed when the test ends. It skips the
// test in -short mode, and when no Chromium is installed unless
// HERALD_TEST_BROWSER_REQUIRED is set: then it fails.
func New(t testing.TB, width, height int) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := Chromium()
	if bin == "" && os.Getenv(RequiredEnv) != "" {
		t.Fatal("no Chromium binary found and " + RequiredEnv + " is set (apt-get install chromium, or set HERALD_CHROMIUM)")
	}
	if bin == "" {
		t.Skip("no Chromium binary found (apt-get install chromium, or set HERALD_CHROMIUM): browser test skipped")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first action starts the browser, bound to bctx: contexts derived
	// from it later (with timeouts) then only bound single steps.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return bctx
}

// Shot saves a full-page PNG screenshot as dir/name.png.
func Shot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

// ViewShot saves the viewport as dir/name.png: what the visitor sees
// without scrolling. Right-to-left pages need it: Chromium's full-page
// capture (beyond the viewport) draws them shifted sideways.
func ViewShot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}
