// Package browsertest starts headless Chromium for the browser tests (the
// HTML report's, the web UI's), with the flags this kind of machine needs (root
// in a container, a closed network) and one rule everywhere: without a browser
// the test skips, unless PERF_REQUIRE_BROWSER=1 (make test sets it), when it
// fails. scripts/install-chromium.sh installs Debian's Chromium.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path returns the Chromium to test with: $CHROME_PATH, else /usr/bin/chromium,
// else chromium, chromium-browser or google-chrome on PATH; "" when none.
func Path() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a running headless Chromium.
type Browser struct {
	// Ctx is the browser's context: chromedp.NewContext(Ctx) opens a tab.
	Ctx context.Context
	out *output
}

// Output is what the browser printed, for failure messages.
func (b Browser) Output() string { return b.out.String() }

// Start starts a browser for t with a budget of d, closed when t ends.
func Start(t *testing.T, d time.Duration) Browser {
	t.Helper()
	exe := Path()
	if exe == "" {
		msg := "no Chromium found (set CHROME_PATH, or install it with scripts/install-chromium.sh)"
		if os.Getenv("PERF_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; PERF_REQUIRE_BROWSER=1 requires the browser test to run")
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	out := &output{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these, Chromium keeps calling Google's hosts, which a closed network refuses.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1280, 1000),
		chromedp.CombinedOutput(out),
	)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v\n%s", exe, err, out.String())
	}
	return Browser{Ctx: browserCtx, out: out}
}

// output collects the browser's output, written from chromedp's goroutine.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
