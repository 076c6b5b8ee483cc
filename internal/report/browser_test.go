package report

import (
	"context"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/browsertest"
)

// browserPageState is what the test reads from a loaded report.
type browserPageState struct {
	Charts   string `json:"charts"`
	Error    string `json:"error"`
	HasError bool   `json:"hasError"`
	// Violations are the Content-Security-Policy violations: requests the
	// policy stopped before they left, which the network events may not show.
	Violations []string `json:"violations"`
	Canvases   []struct {
		Width   int `json:"w"`
		Height  int `json:"h"`
		CSSW    int `json:"cw"`
		CSSH    int `json:"ch"`
		Painted int `json:"painted"` // pixels not fully transparent
	} `json:"canvases"`
}

// browserRecordViolations runs in every new document before the page's own scripts.
const browserRecordViolations = `window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.effectiveDirective + " " + e.blockedURI));`

// browserReadState waits a moment (violation events are queued) and reads the page.
const browserReadState = `new Promise(r => setTimeout(r, 100)).then(() => ({
	charts: document.body.dataset.charts || "",
	error: document.body.dataset.error || "",
	hasError: "error" in document.body.dataset,
	violations: window.__violations || ["browserRecordViolations did not run"],
	canvases: Array.from(document.querySelectorAll(".chart .uplot canvas")).map(c => {
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let painted = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
		return {w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight, painted};
	}),
}))`

// TestHTMLInBrowser opens reports in headless Chromium: the charts render with
// no script error, and no request leaves the page. A variant with an injected
// remote image and no Content-Security-Policy proves the request listener sees
// what it looks for; the same image with the policy in place proves the policy
// blocks it.
func TestHTMLInBrowser(t *testing.T) {
	browser := browsertest.Start(t, 60*time.Second)
	browserCtx := browser.Ctx
	dir := t.TempDir()

	report := renderHTML(t, htmlRun())
	const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`
	require.Contains(t, report, csp)
	const remote = "http://127.0.0.1:1/x.png"
	withImage := strings.Replace(report, "</body>", `<img src="`+remote+`" alt="">`+"\n</body>", 1)
	require.NotEqual(t, report, withImage)
	withoutCSP := strings.Replace(withImage, csp, "", 1)
	require.NotContains(t, withoutCSP, "Content-Security-Policy")

	// open loads one page in a new tab and returns its state, every URL it
	// requested and, by URL, why a request was blocked ("" when it was not).
	open := func(t *testing.T, name, html string) (browserPageState, []string, map[string]network.BlockedReason, string) {
		t.Helper()
		path := filepath.Join(dir, name+".html")
		require.NoError(t, os.WriteFile(path, []byte(html), 0o644))
		fileURL := (&url.URL{Scheme: "file", Path: path}).String()

		// The listener runs on chromedp's reader goroutine: guard what it writes.
		var mu sync.Mutex
		var requested []string
		urls := map[network.RequestID]string{}
		blocked := map[string]network.BlockedReason{}
		tabCtx, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithListener(func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				requested = append(requested, ev.Request.URL)
				urls[ev.RequestID] = ev.Request.URL
			case *network.EventWebSocketCreated:
				requested = append(requested, ev.URL)
			case *network.EventLoadingFailed:
				blocked[urls[ev.RequestID]] = ev.BlockedReason
			}
		}))
		defer cancelTab()
		require.NoError(t, chromedp.Do(tabCtx,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: browserRecordViolations})
				return err
			}),
			chromedp.Navigate(fileURL)), "%s\n%s", name, browser.Output())
		st, err := chromedp.Run(tabCtx, chromedp.Evaluate[browserPageState](browserReadState, chromedp.EvalAwaitPromise))
		require.NoError(t, err, name)
		mu.Lock()
		defer mu.Unlock()
		return st, append([]string(nil), requested...), maps.Clone(blocked), fileURL
	}

	t.Run("report", func(t *testing.T) {
		st, requested, _, fileURL := open(t, "report", report)
		assert.Equal(t, "3", st.Charts, "all charts drawn")
		assert.False(t, st.HasError, "script error: %s", st.Error)
		assert.Empty(t, st.Violations, "requests the policy had to stop")
		// uPlot draws each chart on one canvas.
		require.Len(t, st.Canvases, 3)
		for i, c := range st.Canvases {
			assert.Positive(t, c.Width, "canvas %d", i)
			assert.Positive(t, c.Height, "canvas %d", i)
			assert.Positive(t, c.CSSW, "canvas %d", i)
			assert.Positive(t, c.CSSH, "canvas %d", i)
			assert.Positive(t, c.Painted, "canvas %d has something drawn", i)
		}
		require.Contains(t, requested, fileURL, "the listener sees the page's own request")
		for _, u := range requested {
			if u != fileURL && !strings.HasPrefix(u, "data:") {
				t.Errorf("the report requested %s", u)
			}
		}
	})

	t.Run("listener detects a remote image", func(t *testing.T) {
		st, requested, blocked, fileURL := open(t, "no-csp", withoutCSP)
		assert.Equal(t, "3", st.Charts)
		require.Contains(t, requested, remote, "the negative control must be detected")
		assert.Empty(t, blocked[remote], "without the policy the request goes out (and is refused)")
		// Without the policy too, the report itself requests nothing.
		for _, u := range requested {
			if u != fileURL && u != remote && !strings.HasPrefix(u, "data:") {
				t.Errorf("the report requested %s", u)
			}
		}
	})

	t.Run("policy blocks a remote image", func(t *testing.T) {
		// Chromium reports a request the policy blocks, then fails it as blocked:
		// the listener above would flag even an attempt.
		st, requested, blocked, _ := open(t, "csp", withImage)
		assert.Equal(t, "3", st.Charts)
		require.Contains(t, requested, remote)
		assert.Equal(t, network.BlockedReasonCsp, blocked[remote], "the Content-Security-Policy stops the request")
		assert.Equal(t, []string{"img-src " + remote}, st.Violations)
	})
}
