package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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

	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// browserRecordViolations runs in every new document before the page's own scripts.
const browserRecordViolations = `window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.effectiveDirective + " " + e.blockedURI));`

// pageState is what the test reads from the page.
type pageState struct {
	Polls      int      `json:"polls"`
	Error      string   `json:"error"`
	HasError   bool     `json:"hasError"`
	Violations []string `json:"violations"`
	Rows       int      `json:"rows"`
	Requests   int      `json:"requests"` // the aggregate row's count
	State      string   `json:"state"`
	Users      string   `json:"users"`
	Canvases   int      `json:"canvases"`
}

const readPage = `(() => {
	const total = document.querySelector("#stats-table tbody tr.total td:nth-child(3)");
	return {
		polls: +(document.body.dataset.polls || 0),
		error: document.body.dataset.error || "",
		hasError: "error" in document.body.dataset,
		violations: window.__violations || ["browserRecordViolations did not run"],
		rows: document.querySelectorAll("#stats-table tbody tr").length,
		requests: total ? +total.textContent : -1,
		state: document.getElementById("state").textContent,
		users: document.getElementById("users").textContent,
		canvases: ["chart-rps", "chart-latency", "chart-users"].filter(id => document.querySelector("#" + id + " canvas")).length,
	};
})()`

// liveRun makes Run return a growing run: each call records more results
// into a live Recorder first, as a running swarm's statistics grow between polls.
func liveRun(f *fake, rec *stats.Recorder) {
	var mu sync.Mutex
	calls := 0
	f.run = func() (runfile.Run, bool) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		now := time.Now()
		for i := range 20 {
			lat := time.Duration(5+i+n) * time.Millisecond
			rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: now, Latency: lat, Bytes: 34, Status: 200})
			if i%5 == 0 {
				rec.Record(stats.Result{Method: "POST", Name: "POST /goals", Start: now, Latency: 2 * lat, Status: 503, Error: "Got status code 503"})
			}
		}
		rec.SetUsers(f.Status().Users)
		s := rec.Snapshot()
		return runfile.Run{
			Meta:  runfile.Meta{Scenario: "TestLoadLight", Host: "http://127.0.0.1:8000", Users: 5, SpawnRate: 2, Start: s.Start},
			Stats: s,
			Checks: []target.Check{{Metric: "p95_ms", Value: s.Total.ServiceMS(95), Grade: target.GradeTarget, Gated: true, Pass: true,
				Message: "p95_ms is Target"}},
			Generator: runfile.Generator{Model: "users", Clock: "service"},
			Verdict:   runfile.Verdict{Pass: true},
		}, true
	}
}

// TestUIInBrowser drives the page in headless Chromium against a fake
// controller: the live table and charts fill and update, and each control
// calls the controller with what was entered.
func TestUIInBrowser(t *testing.T) {
	browser := browsertest.Start(t, 60*time.Second)
	browserCtx := browser.Ctx

	// open serves New(f) and loads the page in a new tab; the returned check
	// asserts the page requested nothing outside its origin and had no error.
	open := func(t *testing.T, f *fake) (context.Context, func()) {
		t.Helper()
		srv := httptest.NewServer(New(f))
		var mu sync.Mutex
		var requested []string
		tabCtx, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithListener(func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				requested = append(requested, ev.Request.URL)
			case *network.EventWebSocketCreated:
				requested = append(requested, ev.URL)
			}
		}))
		require.NoError(t, chromedp.Do(tabCtx,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: browserRecordViolations})
				return err
			}),
			chromedp.Navigate(srv.URL+"/")), browser.Output())
		return tabCtx, func() {
			st, err := chromedp.Run(tabCtx, chromedp.Evaluate[pageState](readPage))
			assert.NoError(t, err)
			assert.False(t, st.HasError, "script error: %s", st.Error)
			assert.Empty(t, st.Violations, "Content-Security-Policy violations")
			mu.Lock()
			for _, u := range requested {
				if !strings.HasPrefix(u, srv.URL+"/") {
					t.Errorf("the page requested %s, outside its origin %s", u, srv.URL)
				}
			}
			assert.Contains(t, requested, srv.URL+"/api/state")
			mu.Unlock()
			cancelTab()
			srv.Close()
		}
	}
	// wait polls a page expression until it is true.
	wait := func(t *testing.T, tabCtx context.Context, what, expr string) {
		t.Helper()
		_, err := chromedp.Run(tabCtx, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			st, _ := chromedp.Run(tabCtx, chromedp.Evaluate[pageState](readPage))
			t.Fatalf("waiting for %s: %v; page: %+v", what, err, st)
		}
	}
	// shot saves a screenshot to $PERF_WEB_SCREENSHOTS, when set, to look at.
	shot := func(t *testing.T, tabCtx context.Context, name string) {
		t.Helper()
		dir := os.Getenv("PERF_WEB_SCREENSHOTS")
		if dir == "" {
			return
		}
		png, err := chromedp.Run(tabCtx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
	}
	called := func(t *testing.T, f *fake, call string) {
		t.Helper()
		require.Eventually(t, func() bool { return slices.Contains(f.Calls(), call) }, 10*time.Second, 20*time.Millisecond,
			"the controller never saw %s; calls: %v", call, f.Calls())
	}

	t.Run("running", func(t *testing.T) {
		rec := stats.NewRecorder(stats.WithInterval(100 * time.Millisecond))
		defer rec.Close()
		f := newFake()
		liveRun(f, rec)
		tabCtx, done := open(t, f)
		defer done()

		wait(t, tabCtx, "the table, two polls and the charts", readPage+`.rows >= 3 && `+readPage+`.polls >= 2 && `+readPage+`.canvases === 3`)
		st, err := chromedp.Run(tabCtx, chromedp.Evaluate[pageState](readPage))
		require.NoError(t, err)
		assert.Equal(t, 3, st.Rows, "two entries and the aggregate")
		assert.Positive(t, st.Requests)
		assert.Equal(t, "running", st.State)
		assert.Equal(t, "4 / 5", st.Users)
		wait(t, tabCtx, "a later poll to grow the table", fmt.Sprintf("%s.requests > %d", readPage, st.Requests))
		shot(t, tabCtx, "stats")

		// The charts draw at their tab's width once it is shown.
		require.NoError(t, chromedp.Do(tabCtx, chromedp.Click(chromedp.CSS(`#tabs [data-tab="charts"]`))))
		wait(t, tabCtx, "the charts laid out", `["chart-rps", "chart-latency", "chart-users"].every(id => {
			const c = document.querySelector("#" + id + " canvas"); return c && c.clientWidth > 300 && c.height > 0; })`)
		wait(t, tabCtx, "chart data", `+document.body.dataset.chartPoints >= 2`)
		shot(t, tabCtx, "charts")

		require.NoError(t, chromedp.Do(tabCtx, chromedp.Click(chromedp.CSS(`#tabs [data-tab="targets"]`))))
		wait(t, tabCtx, "the graded targets", `document.querySelector("#checks-table tbody .grade.g-target") &&
			document.getElementById("verdict").textContent.startsWith("PASS")`)
		shot(t, tabCtx, "targets")

		require.NoError(t, chromedp.Do(tabCtx,
			chromedp.Click(chromedp.CSS("#edit")),
			chromedp.WaitVisible(chromedp.CSS("#edit-users")),
			chromedp.SetValue(chromedp.CSS("#edit-users"), "7"),
			chromedp.Click(chromedp.CSS("#edit-submit")),
		))
		shot(t, tabCtx, "edit")
		called(t, f, "Scale(7, 2)")
		require.NoError(t, chromedp.Do(tabCtx, chromedp.WaitNotVisible(chromedp.CSS("#edit-panel"))))
		wait(t, tabCtx, "the new target", `document.getElementById("users").textContent === "4 / 7"`)

		require.NoError(t, chromedp.Do(tabCtx, chromedp.WaitEnabled(chromedp.CSS("#reset")), chromedp.Click(chromedp.CSS("#reset"))))
		called(t, f, "Reset")
		require.NoError(t, chromedp.Do(tabCtx, chromedp.WaitEnabled(chromedp.CSS("#stop")), chromedp.Click(chromedp.CSS("#stop"))))
		called(t, f, "Stop")
		wait(t, tabCtx, "the stopped state", `document.getElementById("state").textContent === "stopped" && document.getElementById("stop").disabled`)
		assert.Equal(t, []string{"Scale(7, 2)", "Reset", "Stop"}, f.Calls())
		assert.Equal(t, [][2]float64{{7, 2}}, f.scales)

		// A refused control shows the controller's error.
		f.mu.Lock()
		f.err = errBusy
		f.mu.Unlock()
		require.NoError(t, chromedp.Do(tabCtx, chromedp.WaitEnabled(chromedp.CSS("#reset")), chromedp.Click(chromedp.CSS("#reset"))))
		wait(t, tabCtx, "the error message", `!document.getElementById("message").hidden && document.getElementById("message").textContent === "a swarm is running"`)
	})

	t.Run("idle mode", func(t *testing.T) {
		f := newFake()
		f.status = Status{State: StateIdle, Scenario: "TestUI", Host: "http://127.0.0.1:8000", TargetUsers: 1, SpawnRate: 1, Idle: true,
			Classes: []string{"XAgentAPIUser", "XAgentStressUser"}}
		tabCtx, done := open(t, f)
		defer done()

		wait(t, tabCtx, "the start form", `!document.getElementById("start-panel").hidden && document.querySelectorAll("#start-classes input").length === 2`)
		shot(t, tabCtx, "idle")
		host, err := chromedp.Run(tabCtx, chromedp.Value(chromedp.CSS("#start-host")))
		require.NoError(t, err)
		assert.Equal(t, "http://127.0.0.1:8000", host, "the host is prefilled")
		require.NoError(t, chromedp.Do(tabCtx,
			chromedp.SetValue(chromedp.CSS("#start-host"), "http://127.0.0.1:9000"),
			chromedp.SetValue(chromedp.CSS("#start-users"), "3"),
			chromedp.SetValue(chromedp.CSS("#start-rate"), "1.5"),
			chromedp.SetValue(chromedp.CSS("#start-duration"), "30s"),
			chromedp.Click(chromedp.CSS(`#start-classes input[value="XAgentStressUser"]`)), // untick it
			chromedp.Click(chromedp.CSS("#start-submit")),
		))
		called(t, f, "Start(http://127.0.0.1:9000, 3, 1.5, [XAgentAPIUser], 30s)")
		require.Len(t, f.starts, 1)
		assert.Equal(t, Swarm{Host: "http://127.0.0.1:9000", Users: 3, SpawnRate: 1.5, Classes: []string{"XAgentAPIUser"}, Duration: 30 * time.Second}, f.starts[0])
		wait(t, tabCtx, "the swarm to show", `document.getElementById("state").textContent === "spawning" && document.getElementById("start-panel").hidden`)

		require.NoError(t, chromedp.Do(tabCtx, chromedp.WaitEnabled(chromedp.CSS("#quit")), chromedp.Click(chromedp.CSS("#quit"))))
		called(t, f, "Quit")
		wait(t, tabCtx, "the end message", `document.getElementById("message").textContent.includes("ended")`)
	})
}
