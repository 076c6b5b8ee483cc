package report

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

var htmlT0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// htmlSnapshot is a deterministic snapshot: a fixed clock, an interval longer
// than the test so the recorder closes none, and a hand-made series of points.
// name names the entry that fails; errMsg is its error.
func htmlSnapshot(name, errMsg string, points int) stats.Snapshot {
	rec := stats.NewRecorder(stats.WithClock(func() time.Time { return htmlT0 }), stats.WithInterval(time.Hour))
	for i := range 100 {
		lat := time.Duration(10+i) * time.Millisecond
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: htmlT0, Latency: lat, Bytes: 34, Status: 200})
		if i%10 == 0 {
			rec.Record(stats.Result{Method: "GET", Name: name, Start: htmlT0, Latency: lat * 2, Bytes: 200, Status: 503, Error: errMsg})
		}
	}
	// A request whose schedule ran a second late: the two clocks differ.
	rec.Record(stats.Result{Method: "POST", Name: "POST /goals", Start: htmlT0, Intended: htmlT0.Add(-time.Second), Latency: 1500 * time.Microsecond, Status: 200})
	rec.Exception("XAgentAPIUser.create_goal: panic: boom", "goroutine 7 [running]:\nmain.task()\n\tuser.go:42")
	s := rec.Close()
	s.Start, s.End = htmlT0, htmlT0.Add(10*time.Second)
	// An entry without requests: its percentiles are N/A.
	s.Entries = append(s.Entries, stats.Entry{Method: "DELETE", Name: "DELETE /goals/{id}", Service: stats.NewHistogram()})
	slices.SortFunc(s.Entries, func(a, b stats.Entry) int { return strings.Compare(a.Name, b.Name) })
	for i := range points {
		s.Series = append(s.Series, stats.Point{
			Time: htmlT0.Add(time.Duration(i+1) * time.Second), Users: 5 * (i + 1),
			Requests: int64(10 * (i + 1)), Failures: int64(i), RPS: float64(10 * (i + 1)), FailPS: float64(i),
			P50MS: 10.5 + float64(i), P95MS: 95.25 + float64(i), RespP50MS: 11, RespP95MS: 1001.5 + float64(i),
		})
	}
	return s
}

// htmlRun is a whole run: every section of the report has something to show.
func htmlRun() runfile.Run {
	s := htmlSnapshot("GET /health", "Got status code 503", 3)
	return runfile.Run{
		Meta: runfile.Meta{
			Scenario: "TestLoadLight", Host: "http://127.0.0.1:39351", Fake: true, Users: 10, SpawnRate: 2,
			Duration: time.Minute, Start: htmlT0, End: htmlT0.Add(60*time.Second + 120*time.Millisecond),
			Classes: []string{"XAgentAPIUser", "XAgentStressUser"}, Seed: 1795852059616087381,
			Stopped: "duration elapsed", Harness: runfile.HarnessVersion, GoVersion: "go1.26.0",
		},
		Server: testServer(),
		Generator: runfile.Generator{
			Model: "arrivals", Rate: 50, MaxInFlight: 2, Clock: "response", Arrivals: 3000, Iterations: 2400, Dropped: 600,
			Lag:       saturation.LagStats{Count: 2400, P50MS: 0.4, P90MS: 0.9, P99MS: 1.2, MaxMS: 3},
			Runtime:   saturation.Runtime{SchedLatencyP99MS: 0.2, GCPauseP99MS: 0.1, GCCycles: 4, CPUUtilPct: 12, GOMAXPROCS: 2},
			Saturated: true, Reasons: []string{"600 of 3000 iterations dropped (20%)"},
			Advice: "The load generator could not keep up, so the numbers describe the load generator, not the server.",
		},
		Stats: s,
		Checks: []target.Check{
			{Metric: "median_ms", Value: 59, Grade: target.GradeTarget, Bounds: target.Bounds{Target: 100, Acceptable: 200, Poor: 500}, Pass: true,
				Message: "median_ms = 59 ms is Target (Target below 100 ms; not gated)"},
			{Metric: "p95_ms", Value: 1500, Grade: target.GradeNeedsInvestigation, Bounds: target.Bounds{Target: 500, Acceptable: 1000, Poor: 2000}, Gated: true,
				Message: "p95_ms = 1500 ms is Needs investigation (Needs investigation from 1000 to 2000 ms; gate requires Acceptable: < 1000 ms)"},
			{Endpoint: "GET /status", Metric: "p95_ms", Value: 104.5, Grade: target.GradeAcceptable, Bounds: target.Bounds{Target: 100, Acceptable: 200, Poor: 300}, Gated: true, Pass: true,
				Message: "GET /status: p95_ms = 104.5 ms is Acceptable (override: Acceptable from 100 to below 200 ms; gate requires Acceptable: < 200 ms)"},
			{Endpoint: "GET /health", Metric: "failure_rate_pct", Value: 100, Grade: target.GradePoor, Bounds: target.Bounds{Target: 0.5, Acceptable: 2, Poor: 5}, Pass: true,
				Message: "GET /health: failure_rate_pct = 100% is Poor (Poor above 5%; not gated)"},
			{Metric: "rps", Value: 11.1, Grade: target.GradePoor, Bounds: target.Bounds{Target: 100, Acceptable: 50, Poor: 20}, Pass: true,
				Message: "rps = 11.1 req/s is Poor (Poor below 20 req/s; not gated)"},
			{Metric: "p99_ms", Gated: true, Message: "gate names p99_ms but the target table has no bounds for it"},
		},
		Alerts: []target.AlertResult{
			{Name: "max_failure_rate_pct", Value: 9.009, Limit: 5, Fired: true, Message: "failure rate 9.009% exceeds the 5% limit (max_failure_rate_pct)"},
			{Name: "max_avg_ms", Value: 62.3, Limit: 500, Message: "average response time 62.3 ms is within the 500 ms limit (max_avg_ms)"},
		},
		Verdict: runfile.Verdict{Reasons: []string{
			"p95_ms = 1500 ms is Needs investigation (gate requires Acceptable)",
			"alert: failure rate 9.009% exceeds the 5% limit (max_failure_rate_pct)",
			"Aggregated p50_ms: 30 → 60 ms (+100%): 30 ms slower, over the 10% limit (floor 1 ms)",
		}},
		Baseline: &compare.Result{
			Baseline: "runs/TestLoadLight-baseline.json", BaselineStart: htmlT0.Add(-24 * time.Hour), Limits: compare.DefaultLimits(),
			Rows: []compare.Row{
				{Entry: "Aggregated", Metric: compare.P50, Old: 30, New: 60, ChangePct: 100, Gated: true, Regressed: true,
					Note: "30 ms slower, over the 10% limit (floor 1 ms)"},
				{Entry: "Aggregated", Metric: compare.P99, Old: 110, New: 118, ChangePct: 7.2727, Note: "not judged: p99 needs 500 requests in each run"},
				{Entry: "Aggregated", Metric: compare.RPS, Old: 11.5, New: 11.1, ChangePct: -3.4783, Gated: true},
				{Entry: "GET /status", Metric: compare.FailRate, Old: 0, New: 0, Gated: true},
			},
			OnlyInBaseline: []string{"GET /old"},
			OnlyInRun:      []string{"POST /goals"},
		},
	}
}

// htmlAssetPlaceholder replaces the inlined uPlot files with a short marker, after
// checking each is inlined exactly once, so goldens stay readable.
func htmlAssetPlaceholder(t *testing.T, page string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(page, uplotJS), "the uPlot script is inlined once")
	require.Equal(t, 1, strings.Count(page, uplotCSS), "the uPlot stylesheet is inlined once")
	page = strings.Replace(page, uplotJS, "/* uPlot "+UplotVersion+": assets/uPlot.iife.min.js */", 1)
	return strings.Replace(page, uplotCSS, "/* uPlot "+UplotVersion+": assets/uPlot.min.css */", 1)
}

func renderHTML(t *testing.T, run runfile.Run) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, run))
	return buf.String()
}

// htmlHas reports each missing string without printing the whole page.
func htmlHas(t *testing.T, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

// htmlHasNot reports each string found in the page.
func htmlHasNot(t *testing.T, page string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if i := strings.Index(page, u); i >= 0 {
			t.Errorf("the page has %q at %d: …%s…", u, i, page[max(0, i-80):min(len(page), i+80)])
		}
	}
}

func TestHTMLGolden(t *testing.T) {
	page := renderHTML(t, htmlRun())
	require.Equal(t, page, renderHTML(t, htmlRun()), "the same run renders the same bytes")
	golden(t, "report.golden.html", []byte(htmlAssetPlaceholder(t, page)))

	// The facts that matter, beyond the golden.
	htmlHas(t, page,
		`<div class="verdict fail">FAIL</div>`,
		"<h2>Load generator</h2>", "<h2>Server view</h2>", "unhealthy (503) failing redis: redis: connection refused",
		"2.50 [0–5.00]", "≥ 10000 [10000–∞]", "counter reset at",
		`"bands":[{"from":`, "SATURATED: 600 of 3000 iterations dropped", "Requested rate</th><td>300.0 iterations/s", "Achieved rate</th><td>240.0 iterations/s",
		"describe the load generator, not the server",
		"http://127.0.0.1:39351 (embedded fake)",
		"2026-11-28T12:00:00Z", "1m0.12s", "1795852059616087381",
		"10 (9.01%)", // aggregate failures with their percentage
		"Response time percentiles from the intended start",
		`<td class="num">N/A</td>`,
		"Got status code 503", "goroutine 7 [running]:",
		`<td class="g-target">Target</td>`, `<td class="g-acceptable">Acceptable</td>`,
		`<td class="g-investigate">Needs investigation</td>`, `<td class="g-poor">Poor</td>`,
		"Target &lt; 500 ms, Acceptable &lt; 1000 ms, Poor &gt; 2000 ms",
		"Target &gt; 100 req/s, Acceptable &gt; 50 req/s, Poor &lt; 20 req/s",
		`class="fail-cell">fired</td>`,
		"Compared with baseline", "runs/TestLoadLight-baseline.json", "latency=10%,floor=1ms,rps=10%,failures=1",
		`<tr class="regressed"><td>Aggregated</td><td>p50_ms</td><td class="num">30 ms</td><td class="num">60 ms</td><td class="num">&#43;100%</td><td>regressed</td>`,
		"<td>not judged</td>", "<td>ok</td>", "GET /old", "-3.5%",
		`id="chart-rps"`, `id="chart-latency"`, `id="chart-users"`, "p95 from intended start",
	)
	htmlHasNot(t, page, "No time series")
}

// htmlDataJSON extracts and decodes the page's data element.
func htmlDataJSON(t *testing.T, page string) htmlChartData {
	t.Helper()
	const open = `<script type="application/json" id="data">`
	i := strings.Index(page, open)
	require.GreaterOrEqual(t, i, 0, "the page has a data element")
	body, _, ok := strings.Cut(page[i+len(open):], "</script>")
	require.True(t, ok)
	var d htmlChartData
	require.NoError(t, json.Unmarshal([]byte(body), &d), "the data element is plain JSON: %s", body)
	return d
}

func TestHTMLData(t *testing.T) {
	d := htmlDataJSON(t, renderHTML(t, htmlRun()))
	require.Len(t, d.Charts, 3)
	for _, c := range d.Charts {
		require.Len(t, c.Data, len(c.Series)+1, "%s: x plus one array per series", c.ID)
		for _, col := range c.Data {
			assert.Len(t, col, 3, c.ID)
		}
		assert.Equal(t, htmlNumber(htmlT0.Add(time.Second).Unix()), c.Data[0][0], "x is unix seconds")
	}
	assert.Equal(t, []htmlNumber{10, 20, 30}, d.Charts[0].Data[1], "requests/s")
	assert.Equal(t, []htmlNumber{1001.5, 1002.5, 1003.5}, d.Charts[1].Data[3], "p95 from the intended start, as the clocks differ")
	assert.Equal(t, []htmlNumber{5, 10, 15}, d.Charts[2].Data[1], "users")
}

const htmlHostile = `</script><img src=x onerror=alert(1)><!--<script>"'&`

// htmlHostileRun puts the hostile text in every string of the run that reaches the page.
func htmlHostileRun() runfile.Run {
	run := htmlRun()
	run.Stats = htmlSnapshot("GET /h"+htmlHostile, "boom "+htmlHostile, 3)
	run.Stats.Exceptions = append(run.Stats.Exceptions, stats.Exception{Message: htmlHostile, Traceback: htmlHostile, Count: 1})
	m := &run.Meta
	m.Scenario, m.Host, m.Stopped, m.Harness, m.GoVersion = htmlHostile, "http://x/"+htmlHostile, htmlHostile, htmlHostile, htmlHostile
	m.Classes = []string{htmlHostile}
	run.Verdict.Reasons = append(run.Verdict.Reasons, htmlHostile)
	run.Checks[2].Endpoint, run.Checks[2].Message = htmlHostile, htmlHostile
	run.Checks[5].Message = htmlHostile
	run.Alerts[0].Name, run.Alerts[0].Message = htmlHostile, htmlHostile
	b := run.Baseline
	b.Baseline, b.Rows[0].Entry, b.Rows[0].Note = htmlHostile, htmlHostile, htmlHostile
	b.OnlyInBaseline, b.OnlyInRun = []string{htmlHostile}, []string{htmlHostile}
	return run
}

func TestHTMLEscapesServerText(t *testing.T) {
	page := htmlAssetPlaceholder(t, renderHTML(t, htmlHostileRun()))
	htmlHasNot(t, page, "<img", "<!--")
	// Exactly the page's own scripts: onerror hook, uPlot, data, page script.
	assert.Equal(t, 4, strings.Count(page, "<script"), "script elements")
	assert.Equal(t, 4, strings.Count(page, "</script"), "script ends")
	htmlHas(t, page, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") // shown as text
	// The data element holds the text intact, escaped as JSON.
	assert.Equal(t, htmlHostile, htmlDataJSON(t, page).Scenario)
	htmlHas(t, page, `\u003c/script\u003e\u003cimg`) // encoding/json escapes < and >
}

// The patterns of htmlFetchRefs: a start tag and its attributes, a meta refresh,
// style elements and CSS references.
var (
	htmlTagRe     = regexp.MustCompile(`<[a-zA-Z][^\s/>]*((?:\s*[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?)*)\s*/?>`)
	htmlAttrRe    = regexp.MustCompile(`\s*([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?`)
	htmlRefreshRe = regexp.MustCompile(`(?i)^<meta[^>]+http-equiv\s*=\s*["']?refresh`)
	htmlStyleRe   = regexp.MustCompile(`(?is)<style[^>]*>(.*?)</style>`)
	htmlCSSRefRe  = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")]*)|@import`)
	htmlURLAttrs  = map[string]bool{"src": true, "href": true, "srcset": true, "action": true, "formaction": true, "poster": true,
		"background": true, "data": true, "xlink:href": true, "ping": true, "manifest": true, "cite": true, "codebase": true}
)

// htmlFetchRefs lists the references in a page that a browser would fetch:
// URL-valued attributes of tags other than data: and #fragments, url() other
// than data: and @import in style elements and style attributes, and a meta
// refresh. The inlined uPlot library must be replaced first: its code is not
// markup, and its strings are never fetched. Text (escaped, so without a raw
// "<") is not looked at: a URL shown as text is not fetched.
func htmlFetchRefs(page string) []string {
	var refs, styles []string
	for _, tg := range htmlTagRe.FindAllStringSubmatch(page, -1) {
		if htmlRefreshRe.MatchString(tg[0]) {
			refs = append(refs, tg[0])
		}
		// Attribute by attribute, so that text inside a quoted value is not taken for one.
		for _, m := range htmlAttrRe.FindAllStringSubmatch(tg[1], -1) {
			name, v := strings.ToLower(m[1]), strings.Trim(m[2], `"'`)
			switch {
			case name == "style":
				styles = append(styles, v)
			case htmlURLAttrs[name] && !strings.HasPrefix(v, "data:") && !strings.HasPrefix(v, "#"):
				refs = append(refs, tg[0])
			}
		}
	}
	for _, m := range htmlStyleRe.FindAllStringSubmatch(page, -1) {
		styles = append(styles, m[1])
	}
	for _, css := range styles {
		for _, m := range htmlCSSRefRe.FindAllStringSubmatch(css, -1) {
			if m[0] == "@import" || !strings.HasPrefix(strings.ToLower(m[1]), "data:") {
				refs = append(refs, m[0])
			}
		}
	}
	return refs
}

func TestHTMLNoNetworkReferences(t *testing.T) {
	for name, run := range map[string]runfile.Run{"full": htmlRun(), "htmlHostile": htmlHostileRun(), "empty": {}} {
		page := htmlAssetPlaceholder(t, renderHTML(t, run))
		assert.Empty(t, htmlFetchRefs(page), name)
		htmlHas(t, page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`)
		assert.Less(t, strings.Index(page, "Content-Security-Policy"), strings.Index(page, "<script"), "%s: the policy comes before any script", name)
	}
	// The check finds what it looks for.
	bad := []string{`<img src="http://127.0.0.1:1/x.png">`, `<link rel="stylesheet" href="https://cdn.example/u.css">`,
		`<script src=//cdn.example/u.js></script>`, `<style>@import "x.css";</style>`, `<style>b{background:url(https://x/y.png)}</style>`,
		`<p style="background: URL('x.png')">`, `<meta http-equiv="refresh" content="0; url=https://x/">`}
	page := htmlAssetPlaceholder(t, renderHTML(t, htmlRun()))
	for _, b := range bad {
		assert.NotEmpty(t, htmlFetchRefs(strings.Replace(page, "</body>", b+"</body>", 1)), b)
	}
}

func TestHTMLAssets(t *testing.T) {
	assert.Regexp(t, `^1\.6\.\d+$`, UplotVersion)
	assert.Contains(t, uplotJS, "uPlot (v"+UplotVersion+")", "the script is the version VERSION names")
	assert.Greater(t, len(uplotJS), 20_000)
	assert.Contains(t, uplotCSS, ".uplot")
	// Inlined verbatim, the assets must not end or confuse their elements.
	for _, bad := range []string{"</script", "<!--", "<script"} {
		assert.NotContains(t, strings.ToLower(uplotJS), bad)
		assert.NotContains(t, strings.ToLower(reportJS), bad)
	}
	for _, bad := range []string{"</style", "url(", "@import"} {
		assert.NotContains(t, strings.ToLower(uplotCSS), bad)
		assert.NotContains(t, strings.ToLower(reportCSS), bad)
	}
}

func TestHTMLEmptyRun(t *testing.T) {
	page := renderHTML(t, runfile.Run{})
	htmlHas(t, page, "No time series (run shorter than one interval).", "<td>Aggregated</td>", `<td class="num">N/A</td>`,
		"No targets were graded.", `"charts":[]`)
	htmlHasNot(t, page, `class="chart"`, "Compared with baseline", "Failures</h2>", "Exceptions")
	assert.Empty(t, htmlDataJSON(t, page).Charts)
}

func TestHTMLNonFiniteSeries(t *testing.T) {
	run := htmlRun()
	run.Stats.Series[1].P95MS = math.NaN()
	page := renderHTML(t, run)
	htmlDataJSON(t, page)                  // still valid JSON
	htmlHas(t, page, "[95.25,null,97.25]") // NaN is a gap in the p95 series, not a broken page
}

// testServer is a server view with a health flap, a reset note and an unbounded quantile.
func testServer() *runfile.Server {
	return &runfile.Server{
		HealthEvery: time.Second, MetricsEvery: 5 * time.Second,
		Report: monitor.Report{
			Transitions: []monitor.Transition{
				{Time: htmlT0, Probe: "health", Status: monitor.StatusHealthy, HTTPStatus: 200},
				{Time: htmlT0.Add(3 * time.Second), Probe: "health", Status: monitor.StatusUnhealthy, HTTPStatus: 503, Failing: []string{"redis"}, Message: "redis: connection refused"},
				{Time: htmlT0.Add(5 * time.Second), Probe: "health", Status: monitor.StatusHealthy, HTTPStatus: 200},
			},
			Periods:     []monitor.Period{{Probe: "health", From: htmlT0.Add(3 * time.Second), To: htmlT0.Add(5 * time.Second), Status: monitor.StatusUnhealthy}},
			Scrapes:     4,
			HealthPolls: 20,
			Notes:       []string{"counter reset at 12:00:03 (server restart?)"},
		},
		Rows: []monitor.Row{
			{Method: "GET", Route: "/status", ClientName: "GET /status", ServerRequests: 100, ClientRequests: 100,
				ServerP50: monitor.Quantile{MS: 2.5, LowerMS: 0, UpperMS: 5, Bounded: true}, ServerP95: monitor.Quantile{MS: 9, LowerMS: 5, UpperMS: 10, Bounded: true},
				ServerP99: monitor.Quantile{MS: 10000, LowerMS: 10000, UpperMS: math.Inf(1)}, ClientP50MS: 2.7, ClientP95MS: 9.5, ClientP99MS: 12},
			{Method: "GET", Route: "/metrics", ServerRequests: 0},
		},
	}
}

func TestServerConsole(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteServer(&buf, testServer()))
	golden(t, "server.txt", buf.Bytes())
	out := buf.String()
	assert.Contains(t, out, "Server view: /health and /ready every 1s (20 polls, 3 transitions); /metrics every 5s (4 scrapes)")
	assert.Contains(t, out, "12:00:03.000  health unhealthy (503) failing redis: redis: connection refused")
	assert.Contains(t, out, "note: counter reset")
	require.NoError(t, WriteServer(&buf, nil), "no server view: nothing written")
}

func TestHostPauseText(t *testing.T) {
	assert.Empty(t, HostPauseText(saturation.Host{}), "no pause, no text")
	h := saturation.Host{Pauses: []saturation.Pause{
		{Offset: 3 * time.Second, Length: 20 * time.Millisecond},
		{Offset: 42 * time.Second, Length: 85800 * time.Microsecond},
	}}
	assert.Equal(t, "host paused the process 2 time(s), 105.8 ms in all, longest 85.8 ms at +42.000 s", HostPauseText(h))
}
