package monitor

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketQuantile(t *testing.T) {
	inf := math.Inf(1)
	// 10 observations: 2 ≤ 5ms, 4 in (5, 10], 2 in (10, 25], 2 above 25ms.
	bounds := []float64{0.005, 0.01, 0.025, inf}
	cum := []float64{2, 6, 8, 10}
	cases := []struct {
		q    float64
		want Quantile
	}{
		{0.10, Quantile{MS: 2.5, LowerMS: 0, UpperMS: 5, Bounded: true}},    // rank 1 of 2 in [0, 5]
		{0.50, Quantile{MS: 8.75, LowerMS: 5, UpperMS: 10, Bounded: true}},  // rank 3 of 4 in [5, 10]
		{0.70, Quantile{MS: 17.5, LowerMS: 10, UpperMS: 25, Bounded: true}}, // rank 1 of 2 in [10, 25]
		{0.80, Quantile{MS: 25, LowerMS: 10, UpperMS: 25, Bounded: true}},   // exactly at a boundary
		{0.95, Quantile{MS: 25, LowerMS: 25, UpperMS: inf, Bounded: false}}, // in +Inf: the lower bound
		{0.99, Quantile{MS: 25, LowerMS: 25, UpperMS: inf, Bounded: false}},
	}
	for _, c := range cases {
		got := bucketQuantile(c.q, bounds, cum)
		assert.InDelta(t, c.want.MS, got.MS, 1e-9, "q=%v", c.q)
		assert.InDelta(t, c.want.LowerMS, got.LowerMS, 1e-9, "q=%v", c.q)
		if math.IsInf(c.want.UpperMS, 1) {
			assert.True(t, math.IsInf(got.UpperMS, 1), "q=%v", c.q)
		} else {
			assert.InDelta(t, c.want.UpperMS, got.UpperMS, 1e-9, "q=%v", c.q)
		}
		assert.Equal(t, c.want.Bounded, got.Bounded, "q=%v", c.q)
	}
	assert.Equal(t, Quantile{}, bucketQuantile(0.5, bounds, []float64{0, 0, 0, 0}), "no observations")
	assert.Equal(t, Quantile{}, bucketQuantile(0.5, nil, nil))
	only := bucketQuantile(0.5, []float64{inf}, []float64{3})
	assert.False(t, only.Bounded)
	assert.Zero(t, only.MS)
}

func TestHistSortedIsMonotonic(t *testing.T) {
	b, c := hist{0.1: 5, 0.5: 4, math.Inf(1): 9}.sorted()
	assert.Equal(t, []float64{0.1, 0.5, math.Inf(1)}, b)
	assert.Equal(t, []float64{5, 5, 9}, c)
}

func TestRouteTemplate(t *testing.T) {
	cases := map[string]string{
		"/goals/3fa85f64-5717-4562-b3fc-2c963f66afa6":      "/goals/{id}",
		"/goals/goal_3fa85f64-5717-4562-b3fc-2c963f66afa6": "/goals/{id}",
		"/goals/{goal_id}":                  "/goals/{id}",
		"/goals/[id]":                       "/goals/{id}",
		"/goals/:id":                        "/goals/{id}",
		"/users/42/goals/17":                "/users/{id}/goals/{id}",
		"/objects/507f1f77bcf86cd799439011": "/objects/{id}",
		"/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV":  "/runs/{id}",
		"/goals?page=2":                     "/goals",
		"/goals":                            "/goals",
		"/api/v1/status":                    "/api/v1/status",
		"/auth/login":                       "/auth/login",
		"/":                                 "/",
		"/performance-test-goal":            "/performance-test-goal",
		"unmatched":                         "unmatched",
	}
	for in, want := range cases {
		assert.Equal(t, want, RouteTemplate(in), in)
	}
}

func TestCompareMatching(t *testing.T) {
	q := func(ms float64) Quantile { return Quantile{MS: ms, LowerMS: ms - 1, UpperMS: ms + 1, Bounded: true} }
	server := []Endpoint{
		{Method: "GET", Route: "/goals", Requests: 30, P50: q(4)},
		{Method: "POST", Route: "/goals", Requests: 9},
		// Only the monitor's scrapes, with the quantiles a run file from
		// before they were cleared could carry: no row.
		{Method: "GET", Route: "/metrics", Requests: 0, Polls: 12, P50: q(1), P95: q(2), P99: q(3)},
		// Only health polls, but the client hit it too: a row, without the polls' quantiles.
		{Method: "GET", Route: "/health", Requests: 0, Polls: 20, P50: q(1)},
		{Method: "GET", Route: "/status", Requests: 80, P50: q(2), P95: q(5), P99: q(9)},
	}
	client := []ClientEntry{
		{Method: "GET", Name: "GET /status", Requests: 30, P50MS: 3, P95MS: 6, P99MS: 10},
		{Method: "GET", Name: "GET /status (auth)", Requests: 50, P50MS: 2.2, P95MS: 5.5, P99MS: 9.9},
		{Method: "GET", Name: "GET /goals (auth)", Requests: 30},
		{Method: "POST", Name: "/goals (auth)", Requests: 9},
		{Method: "GET", Name: "GET /healthz (stress)", Requests: 7},
		{Method: "GET", Name: "GET /health", Requests: 2},
		{Method: "GET", Name: "GET /ready", Requests: 0}, // no request on either side: no row
		{Method: "", Name: "Aggregated", Requests: 128},
	}
	rows := Compare(server, client)
	require.Len(t, rows, 5, "%+v", rows)
	want := []struct {
		method, route, names string
		server               float64
		client               int64
	}{
		{"GET", "/goals", "GET /goals (auth)", 30, 30},
		{"POST", "/goals", "/goals (auth)", 9, 9},
		{"GET", "/health", "GET /health", 0, 2},
		{"GET", "/healthz", "GET /healthz (stress)", 0, 7},
		{"GET", "/status", "GET /status (auth), GET /status", 80, 80},
	}
	for i, w := range want {
		r := rows[i]
		assert.Equal(t, w.method, r.Method, "row %d", i)
		assert.Equal(t, w.route, r.Route, "row %d", i)
		assert.Equal(t, w.names, r.ClientName, "row %d", i)
		assert.Equal(t, w.server, r.ServerRequests, "row %d", i)
		assert.Equal(t, w.client, r.ClientRequests, "row %d", i)
	}
	for _, r := range rows[2:4] {
		assert.Equal(t, [3]Quantile{}, [3]Quantile{r.ServerP50, r.ServerP95, r.ServerP99}, "%s: no server request, no server quantiles", r.Route)
	}
	st := rows[4]
	assert.Equal(t, [3]float64{2.2, 5.5, 9.9}, [3]float64{st.ClientP50MS, st.ClientP95MS, st.ClientP99MS}, "the busiest entry's percentiles")
	assert.Equal(t, q(9), st.ServerP99)

	// Goal ids in client names group with the server's template.
	rows = Compare([]Endpoint{{Method: "GET", Route: "/goals/{id}", Requests: 5}},
		[]ClientEntry{{Method: "GET", Name: "GET /goals/goal_3fa85f64-5717-4562-b3fc-2c963f66afa6", Requests: 2},
			{Method: "GET", Name: "GET /goals/[id] (auth)", Requests: 3}})
	require.Len(t, rows, 1)
	assert.Equal(t, int64(5), rows[0].ClientRequests)
}

func TestParseProbe(t *testing.T) {
	cases := []struct {
		name, probe string
		code        int
		body        string
		status      string
		failing     []string
		msg         string
	}{
		{"fake health ok", "health", 200, `{"status":"healthy","timestamp":"x","checks":{"redis":{"status":"ok","message":null}},"version":"0.1.0"}`, "healthy", nil, ""},
		{"fake health bad", "health", 503, `{"status":"unhealthy","checks":{"redis":{"status":"failed","message":"redis: refused"},"postgres":{"status":"failed","message":"timeout"},"chromadb":{"status":"ok","message":null}}}`, "unhealthy", []string{"postgres", "redis"}, "postgres: timeout; redis: refused"},
		{"fake ready bad", "ready", 503, `{"ready":false,"timestamp":"x","status":"unhealthy"}`, "not ready", nil, ""},
		{"ready false on 200", "ready", 200, `{"ready":false}`, "not ready", nil, ""},
		{"body says unhealthy on 200", "health", 200, `{"status":"unhealthy"}`, "unhealthy", nil, ""},
		{"checks as bools and strings", "health", 503, `{"checks":{"a":false,"b":"down","c":true,"d":{"healthy":false}}}`, "unhealthy", []string{"a", "b", "d"}, "a failed; b failed; d failed"},
		{"detail text", "health", 500, `{"detail":"Internal error"}`, "unhealthy", nil, "Internal error"},
		{"plain text ok", "ready", 200, "OK", "ready", nil, ""},
		{"html error", "health", 502, "<html>\n<h1>Bad   Gateway</h1></html>", "unhealthy", nil, "<html> <h1>Bad Gateway</h1></html>"},
		{"json array", "health", 200, `[1,2]`, "healthy", nil, ""},
	}
	for _, c := range cases {
		st, failing, msg := parseProbe(c.probe, c.code, []byte(c.body))
		assert.Equal(t, c.status, st, c.name)
		assert.Equal(t, c.failing, failing, c.name)
		assert.Equal(t, c.msg, msg, c.name)
	}
	long := `{"status":"unhealthy","error":"` + string(make([]byte, 0)) + repeat("é", 300) + `"}`
	_, _, msg := parseProbe("health", 503, []byte(long))
	assert.LessOrEqual(t, len(msg), 200)
	assert.True(t, len(msg) >= 198)
	assert.Equal(t, msg, string([]rune(msg)), "cut on a rune boundary")
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestPeriods(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ts := []Transition{
		{Time: at(0), Probe: "health", Status: "healthy"},
		{Time: at(1), Probe: "ready", Status: "not ready"},
		{Time: at(2), Probe: "health", Status: "unhealthy"},
		{Time: at(3), Probe: "health", Status: "unreachable"},
		{Time: at(4), Probe: "ready", Status: "ready"},
		{Time: at(5), Probe: "health", Status: "healthy"},
		{Time: at(6), Probe: "health", Status: "unhealthy"},
	}
	assert.Equal(t, []Period{
		{Probe: "ready", From: at(1), To: at(4), Status: "not ready"},
		{Probe: "health", From: at(2), To: at(3), Status: "unhealthy"},
		{Probe: "health", From: at(3), To: at(5), Status: "unreachable"},
		{Probe: "health", From: at(6), To: at(10), Status: "unhealthy"},
	}, Periods(ts, at(10)))
}

func TestNoteBook(t *testing.T) {
	var n noteBook
	n.add("a")
	n.add("b")
	n.add("a")
	n.addN("c", 3)
	assert.Equal(t, []string{"a (2 times)", "b", "c (3 times)"}, n.lines())
}
