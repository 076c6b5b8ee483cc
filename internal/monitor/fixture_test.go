package monitor

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real X-Agent API's /metrics before and after a 60 s run (see its README):
// one histogram and one counter series per endpoint, method and status.
const fixtureDir = "../../fixtures/xagent-real-metrics"

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	require.NoError(t, err)
	return string(b)
}

// fixtureQuantiles are histogram_quantile(q, sum by (le) (after - before))
// per route, in ms, worked out by hand from the summed buckets of the
// fixture (le = 10, 50, 100, 500, 1000, 2000, 5000 ms, +Inf):
//
//	GET /status: 400 ≤ 10 ms, 403 ≤ 50 ms (97 "200" + 306 "429").
//	  p50: rank 201.5 of 400 in [0, 10]      → 10 × 201.5/400         = 5.0375
//	  p95: rank 382.85                       → 10 × 382.85/400        = 9.571 25
//	  p99: rank 398.97                       → 10 × 398.97/400        = 9.974 25
//	GET /goals: 61 ≤ 10 ms, 62 ≤ 50 ms (15 "200" + 5 "403" + 42 "429").
//	  p50: rank 31 of 61 in [0, 10]          → 10 × 31/61             = 5.081 97
//	  p95: rank 58.9                         → 10 × 58.9/61           = 9.655 74
//	  p99: rank 61.38, 0.38 of 1 in [10, 50] → 10 + 40 × 0.38/1       = 25.2
//	POST /goals: all 40 ≤ 10 ms              → 5, 9.5, 9.9
//	GET /health: 18 ≤ 10 ms, 77 ≤ 50 ms.
//	  p50: rank 38.5, 20.5 of 59 in [10, 50] → 10 + 40 × 20.5/59      = 23.898 31
//	  p95: rank 73.15                        → 10 + 40 × 55.15/59     = 47.389 83
//	  p99: rank 76.23                        → 10 + 40 × 58.23/59     = 49.477 97
//	GET /healthz: 279 ≤ 10 ms, 281 ≤ 50 ms.
//	  p50: rank 140.5 of 279 in [0, 10]      → 10 × 140.5/279         = 5.035 84
//	  p95: rank 266.95                       → 10 × 266.95/279        = 9.568 10
//	  p99: rank 278.19                       → 10 × 278.19/279        = 9.970 97
var fixtureQuantiles = map[string][3]float64{
	"GET /status":  {10 * 201.5 / 400, 10 * 382.85 / 400, 10 * 398.97 / 400},
	"GET /goals":   {10 * 31.0 / 61, 10 * 58.9 / 61, 10 + 40*0.38},
	"POST /goals":  {5, 9.5, 9.9},
	"GET /health":  {10 + 40*20.5/59, 10 + 40*55.15/59, 10 + 40*58.23/59},
	"GET /healthz": {10 * 140.5 / 279, 10 * 266.95 / 279, 10 * 278.19 / 279},
}

// TestRealXAgentMetrics runs the monitor on the real captures: the per-route
// counts are the summed deltas of the README, the quantiles are
// histogram_quantile's over the summed buckets, and the status series do not
// pass for counter resets.
func TestRealXAgentMetrics(t *testing.T) {
	s, base := serveScript(t, readFixture(t, "before.txt"), readFixture(t, "after.txt"))
	// Period of an hour: the baseline at Start and the final scrape at Stop, nothing else.
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: time.Hour})
	rep := m.Stop()
	require.Equal(t, int64(2), s.served.Load())
	require.Equal(t, 2, rep.Scrapes)
	assert.Empty(t, rep.Notes, "no counter reset: the status series of a route are one route")

	want := []struct {
		method, route string
		requests      float64
		statuses      map[string]float64
	}{
		{"POST", "/auth/login", 3, map[string]float64{"200": 3}},
		{"GET", "/goals", 62, map[string]float64{"200": 15, "403": 5, "429": 42}},
		{"POST", "/goals", 40, map[string]float64{"200": 6, "403": 3, "429": 31}},
		{"GET", "/health", 77, map[string]float64{"200": 77}},
		{"GET", "/healthz", 281, map[string]float64{"200": 281}},
		// 15, less the baseline scrape this monitor made (and the server in the capture did not see).
		{"GET", "/metrics", 14, map[string]float64{"200": 14}},
		{"GET", "/ready", 78, map[string]float64{"200": 78}},
		{"GET", "/status", 403, map[string]float64{"200": 97, "429": 306}},
	}
	require.Len(t, rep.Endpoints, len(want), "%+v", rep.Endpoints)
	for i, w := range want {
		e := rep.Endpoints[i]
		assert.Equal(t, w.method+" "+w.route, e.Method+" "+e.Route, "endpoint %d", i)
		assert.Equal(t, w.requests, e.Requests, "%s %s", w.method, w.route)
		assert.Equal(t, w.statuses, e.Statuses, "%s %s", w.method, w.route)
	}
	for name, qs := range fixtureQuantiles {
		method, route, _ := strings.Cut(name, " ")
		e, ok := find(rep.Endpoints, method, route)
		require.True(t, ok, name)
		for i, got := range []Quantile{e.P50, e.P95, e.P99} {
			assert.InDelta(t, qs[i], got.MS, 1e-9, "%s p%d", name, []int{50, 95, 99}[i])
			assert.True(t, got.Bounded, name)
			assert.LessOrEqual(t, got.LowerMS, qs[i], "%s: within its bucket", name)
			assert.GreaterOrEqual(t, got.UpperMS, qs[i], "%s: within its bucket", name)
		}
	}
	st, _ := find(rep.Endpoints, "GET", "/status")
	assert.Equal(t, Quantile{MS: st.P99.MS, LowerMS: 0, UpperMS: 10, Bounded: true}, st.P99)
	goals, _ := find(rep.Endpoints, "GET", "/goals")
	assert.Equal(t, Quantile{MS: 25.2, LowerMS: 10, UpperMS: 50, Bounded: true}, roundQ(goals.P99))
}

func roundQ(q Quantile) Quantile {
	q.MS = math.Round(q.MS*1e9) / 1e9
	return q
}

// TestRealXAgentRows pairs the fixture with the run's client counts (README:
// 823 requests) and the monitor's own polls of that run (60 /health, 60
// /ready, 15 /metrics counting the capture of before.txt): every route the
// client hit has a row with the server's count, and /metrics, only polled,
// has none.
func TestRealXAgentRows(t *testing.T) {
	var s metricsState
	s.init()
	s.ingest(parseText(t, readFixture(t, "before.txt")), time.Now(), true)
	s.ingest(parseText(t, readFixture(t, "after.txt")), time.Now(), false)
	s.lastPolls = map[pollKey]float64{
		{"GET", "/health", "200"}:  60,
		{"GET", "/ready", "200"}:   60,
		{"GET", "/metrics", "200"}: 15,
	}
	eps := s.endpoints()
	assert.Empty(t, s.resets)
	client := []ClientEntry{
		{Method: "GET", Name: "GET /status", Requests: 403},
		{Method: "GET", Name: "GET /goals (auth)", Requests: 62},
		{Method: "POST", Name: "POST /goals (auth)", Requests: 40},
		{Method: "POST", Name: "POST /auth/login", Requests: 3},
		{Method: "GET", Name: "GET /health", Requests: 17},
		{Method: "GET", Name: "GET /ready", Requests: 18},
		{Method: "GET", Name: "GET /healthz (stress)", Requests: 280},
	}
	var got []string
	for _, r := range Compare(eps, client) {
		got = append(got, r.Method+" "+r.Route)
		switch r.Route {
		case "/healthz":
			// before.txt was captured before the run's reachability probe,
			// the monitor's own baseline after it.
			assert.Equal(t, float64(r.ClientRequests+1), r.ServerRequests, "%+v", r)
		default:
			assert.Equal(t, float64(r.ClientRequests), r.ServerRequests, "%+v", r)
		}
		assert.True(t, r.ServerP50.Bounded, "%+v", r)
	}
	assert.Equal(t, []string{"POST /auth/login", "GET /goals", "POST /goals", "GET /health", "GET /healthz", "GET /ready", "GET /status"}, got)
	metrics, ok := find(eps, "GET", "/metrics")
	require.True(t, ok)
	assert.Zero(t, metrics.Requests)
	assert.Equal(t, 15.0, metrics.Polls)
	assert.Equal(t, Quantile{}, metrics.P50, "no request of the run: no quantiles")
	assert.Equal(t, Quantile{}, metrics.P99)
}

func parseText(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader([]byte(text)))
	require.NoError(t, err)
	return fams
}
