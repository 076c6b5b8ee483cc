package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/xagent/perfharness/internal/fakeapi"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startFake serves a fakeapi.Server and closes it when the test ends.
func startFake(t *testing.T, opts fakeapi.Options) (*fakeapi.Server, string) {
	t.Helper()
	srv, err := fakeapi.New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return srv, ts.URL
}

// startMon starts a Monitor and makes sure it is stopped.
func startMon(t *testing.T, o Options) *Monitor {
	t.Helper()
	m, err := Start(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { m.Stop() })
	return m
}

// plain is a load-less client for the tests' own requests.
func plain(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func do(t *testing.T, c *http.Client, method, url, token, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func find(eps []Endpoint, method, route string) (Endpoint, bool) {
	for _, e := range eps {
		if e.Method == method && e.Route == route {
			return e, true
		}
	}
	return Endpoint{}, false
}

func byProbe(ts []Transition, probe string) []Transition {
	var out []Transition
	for _, t := range ts {
		if t.Probe == probe {
			out = append(out, t)
		}
	}
	return out
}

// until waits for a condition on the monitor's state, read under its lock:
// what a test waits for is observed, not slept for.
func until(t *testing.T, m *Monitor, what string, cond func(m *Monitor) bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return cond(m)
	}, 10*time.Second, 2*time.Millisecond, "waiting for %s", what)
}

// TestHealthFlapTimeline: the fake flaps on its own clock, which the test
// moves on to the next phase only once the monitor has seen the current
// one, so no poll can miss a phase however slowly the machine runs it (a
// fake flapping on the real clock every 300 ms could start unhealthy, or
// skip a phase, under a CPU hog).
func TestHealthFlapTimeline(t *testing.T) {
	const flap = 300 * time.Millisecond
	var elapsed atomic.Int64 // the fake's clock, since its start
	t0 := time.Now()
	_, base := startFake(t, fakeapi.Options{HealthFlap: flap, Now: func() time.Time { return t0.Add(time.Duration(elapsed.Load())) }})
	m := startMon(t, Options{Base: base, HealthEvery: 10 * time.Millisecond, MetricsEvery: -1})
	var polls int
	for n := 1; n <= 4; n++ {
		until(t, m, fmt.Sprintf("transition %d of each probe", n), func(m *Monitor) bool {
			polls = m.healthPolls
			return len(byProbe(m.transitions, "health")) >= n && len(byProbe(m.transitions, "ready")) >= n
		})
		if n < 4 {
			elapsed.Add(int64(flap)) // the fake's next phase
		}
	}
	until(t, m, "ten polls of the last phase", func(m *Monitor) bool { return m.healthPolls >= polls+10 })
	rep := m.Stop()

	for _, probe := range []string{"health", "ready"} {
		tl := byProbe(rep.Transitions, probe)
		require.GreaterOrEqual(t, len(tl), 4, "probe %s: %+v", probe, tl)
		good, bad := "healthy", "unhealthy"
		if probe == "ready" {
			good, bad = "ready", "not ready"
		}
		assert.Equal(t, good, tl[0].Status, "the fake starts healthy")
		for i, tr := range tl {
			want := good
			if i%2 == 1 {
				want = bad
			}
			assert.Equal(t, want, tr.Status, "transition %d of %s alternates", i, probe)
			if tr.Status == bad {
				assert.Equal(t, http.StatusServiceUnavailable, tr.HTTPStatus)
			} else {
				assert.Equal(t, http.StatusOK, tr.HTTPStatus)
			}
			if i > 0 {
				assert.True(t, tr.Time.After(tl[i-1].Time))
			}
		}
		var ps []Period
		for _, p := range rep.Periods {
			if p.Probe == probe {
				ps = append(ps, p)
			}
		}
		require.GreaterOrEqual(t, len(ps), 2, "probe %s periods %+v", probe, ps)
		for _, p := range ps {
			assert.Equal(t, bad, p.Status)
			assert.True(t, p.To.After(p.From))
		}
	}
	for _, tr := range byProbe(rep.Transitions, "health") {
		if tr.Status == "unhealthy" {
			assert.Equal(t, []string{"redis"}, tr.Failing)
		} else {
			assert.Empty(t, tr.Failing)
		}
	}
	// Transitions only: a steady phase adds polls, no entries.
	assert.Len(t, rep.Transitions, 8, "four phases of two probes")
	assert.GreaterOrEqual(t, rep.HealthPolls, len(rep.Transitions)+10)
	// The live periods are the report's; a period still open at Stop ends
	// there in the report and at the time asked for in the live view.
	live := m.Periods(time.Now())
	require.GreaterOrEqual(t, len(live), len(rep.Periods))
	for i, p := range rep.Periods {
		l := live[i]
		assert.Equal(t, [3]any{p.Probe, p.From, p.Status}, [3]any{l.Probe, l.From, l.Status}, "period %d", i)
		if !l.To.After(p.To) {
			assert.Equal(t, p.To, l.To, "a period closed before Stop ends at the same time in both")
		}
	}
}

func TestUnhealthyRedisFailing(t *testing.T) {
	_, base := startFake(t, fakeapi.Options{Unhealthy: []string{"redis"}})
	m := startMon(t, Options{Base: base, HealthEvery: 20 * time.Millisecond, MetricsEvery: -1})
	require.Eventually(t, func() bool { return len(m.Periods(time.Now())) == 2 }, 5*time.Second, 10*time.Millisecond)
	until(t, m, "10 polls of the steady state", func(m *Monitor) bool { return m.healthPolls >= 10 })
	rep := m.Stop()

	h := byProbe(rep.Transitions, "health")
	require.Len(t, h, 1, "a steady state is one observation, no more")
	assert.Equal(t, "unhealthy", h[0].Status)
	assert.Equal(t, 503, h[0].HTTPStatus)
	assert.Equal(t, []string{"redis"}, h[0].Failing)
	assert.Contains(t, h[0].Message, "redis")
	assert.LessOrEqual(t, len(h[0].Message), 200)

	r := byProbe(rep.Transitions, "ready")
	require.Len(t, r, 1)
	assert.Equal(t, "not ready", r[0].Status)
	assert.Equal(t, 503, r[0].HTTPStatus)

	require.Len(t, rep.Periods, 2)
	for _, p := range rep.Periods {
		assert.False(t, p.To.Before(p.From))
	}
	assert.Empty(t, rep.Notes)
	assert.Zero(t, rep.Scrapes)
}

func TestServerCountsMatchClient(t *testing.T) {
	srv, err := fakeapi.New(fakeapi.Options{})
	require.NoError(t, err)
	var scrapes, healthPolls atomic.Int64 // answered, so counted by the fake
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		switch r.URL.Path {
		case "/metrics":
			scrapes.Add(1)
		case "/health", "/ready":
			healthPolls.Add(1)
		}
	}))
	t.Cleanup(func() { srv.Close(); ts.Close() })
	base := ts.URL
	c := plain(t)
	tok, err := srv.IssueToken("admin", "admin", time.Hour)
	require.NoError(t, err)

	// Before the run: the baseline scrape excludes these, and the harness's
	// reachability probe, GET /healthz.
	for range 5 {
		st, _ := do(t, c, "GET", base+"/status", "", "")
		require.Equal(t, 200, st)
	}
	st, _ := do(t, c, "GET", base+"/healthz", "", "")
	require.Equal(t, 200, st)

	m := startMon(t, Options{Base: base, HealthEvery: 10 * time.Millisecond, MetricsEvery: 15 * time.Millisecond})

	var ids []string
	for i := range 3 {
		st, b := do(t, c, "POST", base+"/goals", tok, fmt.Sprintf(`{"description":"goal %d"}`, i))
		require.Equal(t, 200, st, "%s", b)
		var created struct {
			Goal struct{ ID string } `json:"goal"`
		}
		require.NoError(t, json.Unmarshal(b, &created))
		require.NotEmpty(t, created.Goal.ID)
		ids = append(ids, created.Goal.ID)
	}
	for i := range 57 {
		st, _ := do(t, c, "GET", base+"/status", "", "")
		require.Equal(t, 200, st)
		if i < 13 {
			st, _ = do(t, c, "GET", base+"/goals/"+ids[i%3], tok, "")
			require.Equal(t, 200, st)
		}
		if i < 4 {
			st, _ = do(t, c, "GET", base+"/goals/goal_00000000-0000-4000-8000-000000000000", tok, "")
			require.Equal(t, 404, st)
		}
	}
	// A few scrapes and polls during the run, whatever the machine's speed.
	require.Eventually(t, func() bool { return scrapes.Load() >= 3 && healthPolls.Load() >= 4 }, 10*time.Second, 5*time.Millisecond)
	rep := m.Stop()

	require.GreaterOrEqual(t, rep.Scrapes, 3, "notes: %v", rep.Notes)
	assert.Empty(t, rep.Notes)

	status, ok := find(rep.Endpoints, "GET", "/status")
	require.True(t, ok, "%+v", rep.Endpoints)
	assert.Equal(t, 57.0, status.Requests)
	assert.Equal(t, map[string]float64{"200": 57}, status.Statuses)
	assert.Zero(t, status.Polls)
	assert.True(t, status.P50.Bounded)
	assert.Greater(t, status.P99.UpperMS, 0.0)

	goal, ok := find(rep.Endpoints, "GET", "/goals/{id}")
	require.True(t, ok, "%+v", rep.Endpoints)
	assert.Equal(t, 17.0, goal.Requests)
	assert.Equal(t, map[string]float64{"200": 13, "404": 4}, goal.Statuses)

	create, ok := find(rep.Endpoints, "POST", "/goals")
	require.True(t, ok)
	assert.Equal(t, 3.0, create.Requests)

	// The monitor's own polls are subtracted, and they are exactly what the server counted.
	health, ok := find(rep.Endpoints, "GET", "/health")
	require.True(t, ok)
	ready, ok := find(rep.Endpoints, "GET", "/ready")
	require.True(t, ok)
	metrics, ok := find(rep.Endpoints, "GET", "/metrics")
	require.True(t, ok)
	for _, e := range []Endpoint{health, ready, metrics} {
		assert.Zero(t, e.Requests, "%s: polls must be subtracted", e.Route)
		assert.Empty(t, e.Statuses, e.Route)
		assert.Positive(t, e.Polls, e.Route)
		assert.Equal(t, [3]Quantile{}, [3]Quantile{e.P50, e.P95, e.P99}, "%s: no request of the run, no quantiles", e.Route)
	}
	_, ok = find(rep.Endpoints, "GET", "/healthz")
	assert.False(t, ok, "the probe before the start is in the baseline: %+v", rep.Endpoints)
	assert.Equal(t, float64(rep.HealthPolls), health.Polls+ready.Polls)
	assert.Equal(t, float64(rep.Scrapes-1), metrics.Polls, "every scrape but the final one is in the difference")

	rows := Compare(rep.Endpoints, []ClientEntry{
		{Method: "GET", Name: "GET /status (stress)", Requests: 50, P50MS: 1},
		{Method: "GET", Name: "GET /status", Requests: 7, P50MS: 2},
		{Method: "GET", Name: "GET /goals/[id]", Requests: 17},
		{Method: "POST", Name: "POST /goals (auth)", Requests: 3},
	})
	var got []string
	for _, r := range rows {
		got = append(got, r.Method+" "+r.Route)
		assert.Equal(t, float64(r.ClientRequests), r.ServerRequests, "%+v", r)
		assert.True(t, r.ServerP50.Bounded, "%+v", r)
	}
	assert.Equal(t, []string{"POST /goals", "GET /goals/{id}", "GET /status"}, got,
		"the monitor's polls and scrapes, and the probe before the start, make no row")
}

// scripted serves /metrics texts in order (repeating the last) and counts the scrapes.
type scripted struct {
	mu     sync.Mutex
	texts  []string
	served atomic.Int64
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	i := int(s.served.Load())
	text := s.texts[min(i, len(s.texts)-1)]
	s.mu.Unlock()
	if strings.HasPrefix(text, "STATUS ") {
		code := 0
		_, _ = fmt.Sscanf(text, "STATUS %d", &code)
		w.WriteHeader(code)
	} else {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = io.WriteString(w, text)
	}
	s.served.Add(1)
}

func serveScript(t *testing.T, texts ...string) (*scripted, string) {
	t.Helper()
	s := &scripted{texts: texts}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// ser is one endpoint's series in an X-Agent-style exposition: a counter for
// GET with status 200 (or status) and a histogram whose buckets le=0.1, 0.5
// and +Inf hold b1, b2 and total (cumulative). The histogram has a status
// label only when status is set, as the real X-Agent's does; created is the
// series' _created gauge (1.7e9 when 0).
type ser struct {
	endpoint      string
	total, b1, b2 float64
	status        string
	created       float64
}

// expo renders an exposition as prometheus_client writes it (float counts,
// _created gauges).
func expo(ss ...ser) string { return expoWith("", ss...) }

// expoWith is expo with head (other families, e.g. process_start_time_seconds) first.
func expoWith(head string, ss ...ser) string {
	var b strings.Builder
	b.WriteString(head)
	st := func(s ser) string {
		if s.status == "" {
			return "200"
		}
		return s.status
	}
	created := func(s ser) float64 {
		if s.created == 0 {
			return 1.7e9
		}
		return s.created
	}
	hl := func(s ser) string { // the histogram's labels after endpoint
		if s.status == "" {
			return `method="GET"`
		}
		return fmt.Sprintf("method=\"GET\",status=%q", s.status)
	}
	b.WriteString("# HELP api_requests_total Total number of API requests\n# TYPE api_requests_total counter\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "api_requests_total{endpoint=%q,method=\"GET\",status=%q} %.1f\n", s.endpoint, st(s), s.total)
	}
	b.WriteString("# HELP api_requests_created Total number of API requests\n# TYPE api_requests_created gauge\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "api_requests_created{endpoint=%q,method=\"GET\",status=%q} %g\n", s.endpoint, st(s), created(s))
	}
	b.WriteString("# HELP api_request_duration_seconds API request duration in seconds\n# TYPE api_request_duration_seconds histogram\n")
	for _, s := range ss {
		for _, bk := range []struct {
			le string
			n  float64
		}{{"0.1", s.b1}, {"0.5", s.b2}, {"+Inf", s.total}} {
			fmt.Fprintf(&b, "api_request_duration_seconds_bucket{endpoint=%q,%s,le=%q} %.1f\n", s.endpoint, hl(s), bk.le, bk.n)
		}
		fmt.Fprintf(&b, "api_request_duration_seconds_count{endpoint=%q,%s} %.1f\n", s.endpoint, hl(s), s.total)
		fmt.Fprintf(&b, "api_request_duration_seconds_sum{endpoint=%q,%s} 12.5\n", s.endpoint, hl(s))
	}
	b.WriteString("# HELP api_request_duration_seconds_created API request duration in seconds\n# TYPE api_request_duration_seconds_created gauge\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "api_request_duration_seconds_created{endpoint=%q,%s} %g\n", s.endpoint, hl(s), created(s))
	}
	return b.String()
}

func metricsText(endpoint string, total, b1, b2 float64) string {
	return expo(ser{endpoint: endpoint, total: total, b1: b1, b2: b2})
}

func TestCounterResetAddsOffset(t *testing.T) {
	s, base := serveScript(t,
		metricsText("/status", 100, 60, 90),
		metricsText("/status", 150, 90, 140),
		metricsText("/status", 20, 10, 18), // the server restarted
		metricsText("/status", 50, 30, 45),
	)
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: 10 * time.Millisecond})
	require.Eventually(t, func() bool { return s.served.Load() >= 4 }, 5*time.Second, 5*time.Millisecond)
	rep := m.Stop()

	e, ok := find(rep.Endpoints, "GET", "/status")
	require.True(t, ok, "%+v %v", rep.Endpoints, rep.Notes)
	assert.Equal(t, 100.0, e.Requests, "150-100 + 50")
	assert.Equal(t, map[string]float64{"200": 100}, e.Statuses)
	// Buckets over the run: le=0.1 → 30+30 = 60, le=0.5 → 50+45 = 95, +Inf → 100.
	assert.InDelta(t, 83.333, e.P50.MS, 0.01) // 0 + 100ms × 50/60
	assert.Equal(t, [2]float64{0, 100}, [2]float64{e.P50.LowerMS, e.P50.UpperMS})
	assert.InDelta(t, 500, e.P95.MS, 1e-6) // 100 + 400ms × (95-60)/35
	assert.True(t, e.P95.Bounded)
	assert.InDelta(t, 500, e.P99.MS, 1e-6) // in +Inf: the lower bound
	assert.False(t, e.P99.Bounded)
	assert.True(t, e.P99.UpperMS > 1e300)

	var resets int
	for _, n := range rep.Notes {
		if strings.Contains(n, "counter reset at") && strings.Contains(n, "(server restart?)") {
			resets++
		}
	}
	assert.Equal(t, 1, resets, "notes: %v", rep.Notes)
	assert.Equal(t, int(s.served.Load()), rep.Scrapes)
}

// resetNotes counts the notes saying the server restarted.
func resetNotes(notes []string) int {
	n := 0
	for _, s := range notes {
		if strings.Contains(s, "counter reset at") || strings.Contains(s, "server restart seen at") {
			n++
		}
	}
	return n
}

// TestStatusSeriesAreSummed serves X-Agent's layout, one histogram per
// status with the smaller series last: the route is their sum, and only the
// real restart (the sums go down) is a counter reset.
func TestStatusSeriesAreSummed(t *testing.T) {
	two := func(ok, limited ser) string {
		ok.endpoint, ok.status = "/status", "200"
		limited.endpoint, limited.status = "/status", "429"
		return expo(ok, limited)
	}
	s, base := serveScript(t,
		two(ser{total: 100, b1: 60, b2: 90}, ser{total: 50, b1: 50, b2: 50}),
		two(ser{total: 150, b1: 90, b2: 140}, ser{total: 60, b1: 60, b2: 60}),
		two(ser{total: 20, b1: 10, b2: 18}, ser{total: 5, b1: 5, b2: 5}), // the server restarted
		two(ser{total: 50, b1: 30, b2: 45}, ser{total: 10, b1: 10, b2: 10}),
	)
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: 10 * time.Millisecond})
	require.Eventually(t, func() bool { return s.served.Load() >= 4 }, 5*time.Second, 5*time.Millisecond)
	rep := m.Stop()

	e, ok := find(rep.Endpoints, "GET", "/status")
	require.True(t, ok, "%+v %v", rep.Endpoints, rep.Notes)
	assert.Equal(t, 120.0, e.Requests)
	assert.Equal(t, map[string]float64{"200": 100, "429": 20}, e.Statuses, "150-100 + 50, 60-50 + 10")
	// Summed buckets over the run: le=0.1 → (150-110) + 40 = 80, le=0.5 →
	// (200-140) + 55 = 115, +Inf → (210-150) + 60 = 120.
	assert.InDelta(t, 75, e.P50.MS, 1e-9)              // rank 60 of 80 in [0, 100]
	assert.InDelta(t, 100+400*34.0/35, e.P95.MS, 1e-9) // rank 114, 34 of 35 in [100, 500]
	assert.Equal(t, Quantile{MS: 500, LowerMS: 500, UpperMS: math.Inf(1)}, e.P99)
	assert.Equal(t, 1, resetNotes(rep.Notes), "one restart, not one per scrape: %v", rep.Notes)
	assert.Contains(t, strings.Join(rep.Notes, "\n"), "counter reset at")
}

// TestRestartSignals: a restart after which the counters grew back past
// their old values is seen from process_start_time_seconds, or else from the
// series' _created times, and the requests before it are kept.
func TestRestartSignals(t *testing.T) {
	start := func(v float64) string {
		return fmt.Sprintf("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %g\n", v)
	}
	at := func(total, created float64) ser {
		return ser{endpoint: "/status", total: total, b1: total, b2: total, status: "200", created: created}
	}
	cases := []struct {
		name, signal string
		texts        []string
	}{
		{"process start time", "process_start_time_seconds", []string{
			expoWith(start(1000), at(100, 1)), expoWith(start(1000), at(150, 1)),
			expoWith(start(2000), at(170, 1)), // restarted, and already past 150
			expoWith(start(2000), at(200, 1)),
		}},
		{"created times", "api_requests_created", []string{
			expo(at(100, 1.7e9)), expo(at(150, 1.7e9)),
			expo(at(170, 1.8e9)),
			expo(at(200, 1.8e9)),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, base := serveScript(t, c.texts...)
			m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: 10 * time.Millisecond})
			require.Eventually(t, func() bool { return s.served.Load() >= 4 }, 5*time.Second, 5*time.Millisecond)
			rep := m.Stop()
			e, ok := find(rep.Endpoints, "GET", "/status")
			require.True(t, ok, "%+v %v", rep.Endpoints, rep.Notes)
			assert.Equal(t, 250.0, e.Requests, "150-100 + 200")
			assert.Equal(t, map[string]float64{"200": 250}, e.Statuses)
			require.Equal(t, 1, resetNotes(rep.Notes), "%v", rep.Notes)
			assert.Contains(t, strings.Join(rep.Notes, "\n"), "("+c.signal+" changed)")
		})
	}
}

// TestUnknownLabelsAreSummed: a label this package does not know (here
// "instance") splits a route's series; they are summed like the statuses.
func TestUnknownLabelsAreSummed(t *testing.T) {
	text := func(a, b float64) string {
		var sb strings.Builder
		sb.WriteString("# TYPE api_requests_total counter\n")
		fmt.Fprintf(&sb, "api_requests_total{endpoint=\"/goals\",instance=\"a\",method=\"get\",status=\"200\"} %g\n", a)
		fmt.Fprintf(&sb, "api_requests_total{endpoint=\"/goals\",instance=\"b\",method=\"get\",status=\"200\"} %g\n", b)
		sb.WriteString("# TYPE api_request_duration_seconds histogram\n")
		for i, n := range []float64{a, b} {
			inst := string(rune('a' + i))
			fmt.Fprintf(&sb, "api_request_duration_seconds_bucket{endpoint=\"/goals\",instance=%q,le=\"0.01\",method=\"GET\",status=\"200\"} %g\n", inst, n)
			fmt.Fprintf(&sb, "api_request_duration_seconds_bucket{endpoint=\"/goals\",instance=%q,le=\"+Inf\",method=\"GET\",status=\"200\"} %g\n", inst, n)
			fmt.Fprintf(&sb, "api_request_duration_seconds_count{endpoint=\"/goals\",instance=%q,method=\"GET\",status=\"200\"} %g\n", inst, n)
			fmt.Fprintf(&sb, "api_request_duration_seconds_sum{endpoint=\"/goals\",instance=%q,method=\"GET\",status=\"200\"} 0\n", inst)
		}
		return sb.String()
	}
	s, base := serveScript(t, text(40, 4), text(50, 14))
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: time.Hour})
	rep := m.Stop()
	require.Equal(t, int64(2), s.served.Load())
	assert.Empty(t, rep.Notes)
	e, ok := find(rep.Endpoints, "GET", "/goals")
	require.True(t, ok, "%+v", rep.Endpoints)
	assert.Equal(t, 20.0, e.Requests)
	assert.InDelta(t, 5, e.P50.MS, 1e-9, "all 20 in le=0.01")
}

func TestRawPathsGroupedByTemplate(t *testing.T) {
	const g1 = "/goals/goal_3fa85f64-5717-4562-b3fc-2c963f66afa6"
	const g2 = "/goals/goal_9c1d2e3f-0000-4abc-8def-123456789abc"
	two := func(n1, n2 float64) string {
		return expo(ser{endpoint: g1, total: n1, b1: n1, b2: n1}, ser{endpoint: g2, total: n2, b1: n2, b2: n2})
	}
	s, base := serveScript(t, two(4, 0), two(10, 5))
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: 10 * time.Millisecond})
	require.Eventually(t, func() bool { return s.served.Load() >= 2 }, 5*time.Second, 5*time.Millisecond)
	rep := m.Stop()
	require.Len(t, rep.Endpoints, 1, "%+v %v", rep.Endpoints, rep.Notes)
	e := rep.Endpoints[0]
	assert.Equal(t, "/goals/{id}", e.Route)
	assert.Equal(t, 11.0, e.Requests, "(10-4) + (5-0)")
	assert.InDelta(t, 50.0, e.P50.MS, 1e-6) // all 11 in le=0.1: 100ms × 5.5/11
}

func TestBaselineFailureCountsFromZero(t *testing.T) {
	s, base := serveScript(t, "STATUS 500", metricsText("/status", 40, 40, 40))
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: 10 * time.Millisecond})
	require.Eventually(t, func() bool { return s.served.Load() >= 2 }, 5*time.Second, 5*time.Millisecond)
	rep := m.Stop()
	e, ok := find(rep.Endpoints, "GET", "/status")
	require.True(t, ok)
	assert.Equal(t, 40.0, e.Requests)
	joined := strings.Join(rep.Notes, "\n")
	assert.Contains(t, joined, "GET /metrics: 500 Internal Server Error")
	assert.Contains(t, joined, "baseline is taken as zero")
}

func TestGarbageMetricsIsNoted(t *testing.T) {
	s, base := serveScript(t, "not prometheus{{{")
	m := startMon(t, Options{Base: base, HealthEvery: -1, MetricsEvery: 5 * time.Millisecond})
	require.Eventually(t, func() bool { return s.served.Load() >= 4 }, 5*time.Second, 5*time.Millisecond)
	rep := m.Stop()
	assert.Empty(t, rep.Endpoints)
	assert.Zero(t, rep.Scrapes)
	require.Len(t, rep.Notes, 1, "identical failures make one note: %v", rep.Notes)
	n := rep.Notes[0]
	assert.True(t, strings.HasPrefix(n, "GET /metrics: not Prometheus text format"), n)
	assert.True(t, strings.HasSuffix(n, fmt.Sprintf("(%d times); server-side figures unavailable", s.served.Load())), n)
}

func TestMetrics404StopsScraping(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(ts.Close)
	m := startMon(t, Options{Base: ts.URL, HealthEvery: -1, MetricsEvery: 5 * time.Millisecond})
	until(t, m, "scraping to stop after the 404", func(m *Monitor) bool { return m.metrics.disabled })
	rep := m.Stop()
	assert.Equal(t, int64(1), hits.Load(), "no scrape after a 404, not even at Stop")
	assert.Empty(t, rep.Endpoints)
	assert.Equal(t, []string{"GET /metrics: 404 Not Found; server-side figures unavailable"}, rep.Notes)
}

func TestMetricsTimeoutIsNoted(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(ts.Close)
	m := startMon(t, Options{Base: ts.URL, HealthEvery: -1, MetricsEvery: 10 * time.Millisecond, Timeout: 30 * time.Millisecond})
	until(t, m, "two timed-out scrapes", func(m *Monitor) bool {
		l := m.metrics.failures.lines()
		return len(l) == 1 && strings.Contains(l[0], "times)")
	})
	rep := m.Stop()
	assert.Empty(t, rep.Endpoints)
	require.Len(t, rep.Notes, 1, "%v", rep.Notes)
	assert.Contains(t, rep.Notes[0], "GET /metrics: timed out after 30ms")
	assert.Contains(t, rep.Notes[0], "times)")
	assert.Contains(t, rep.Notes[0], "server-side figures unavailable")
}

func TestHealth404IsNotedAndStopsPolling(t *testing.T) {
	var healthHits, readyHits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			healthHits.Add(1)
			http.NotFound(w, r)
		case "/ready":
			readyHits.Add(1)
			_, _ = io.WriteString(w, "OK") // not JSON: judged by the status alone
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	m := startMon(t, Options{Base: ts.URL, HealthEvery: 10 * time.Millisecond, MetricsEvery: -1})
	require.Eventually(t, func() bool { return readyHits.Load() >= 4 }, 5*time.Second, 5*time.Millisecond)
	rep := m.Stop()
	assert.Equal(t, int64(1), healthHits.Load())
	assert.Equal(t, []string{"GET /health: 404 Not Found; health probe not polled further"}, rep.Notes)
	require.Len(t, rep.Transitions, 1)
	assert.Equal(t, Transition{Time: rep.Transitions[0].Time, Probe: "ready", Status: "ready", HTTPStatus: 200}, rep.Transitions[0])
	assert.Empty(t, rep.Periods)
}

func TestUnreachableServer(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	base := ts.URL
	ts.Close() // nothing listens there any more
	m := startMon(t, Options{Base: base, HealthEvery: 10 * time.Millisecond, MetricsEvery: 10 * time.Millisecond, Timeout: 200 * time.Millisecond})
	until(t, m, "polls of both probes", func(m *Monitor) bool { return m.healthPolls >= 4 })
	rep := m.Stop()
	require.Len(t, rep.Transitions, 2, "%+v", rep.Transitions)
	for _, tr := range rep.Transitions {
		assert.Equal(t, "unreachable", tr.Status)
		assert.Zero(t, tr.HTTPStatus)
		assert.NotEmpty(t, tr.Message)
		assert.NotContains(t, tr.Message, "http://", "the URL is dropped from the message")
	}
	require.Len(t, rep.Periods, 2)
	assert.Empty(t, rep.Endpoints)
	require.Len(t, rep.Notes, 1, "%v", rep.Notes)
	assert.Contains(t, rep.Notes[0], "GET /metrics: ")
	assert.Contains(t, rep.Notes[0], "server-side figures unavailable")
}

func TestStopIsIdempotentAndCtxEndsPolling(t *testing.T) {
	_, base := startFake(t, fakeapi.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Start(ctx, Options{Base: base + "/", HealthEvery: 5 * time.Millisecond, MetricsEvery: 5 * time.Millisecond})
	require.NoError(t, err)
	until(t, m, "a health poll", func(m *Monitor) bool { return m.healthPolls >= 1 })
	cancel()
	first := m.Stop()
	second := m.Stop()
	assert.Equal(t, first, second)
	assert.Positive(t, first.HealthPolls)
	assert.GreaterOrEqual(t, first.Scrapes, 2, "the final scrape happens after ctx ended: %v", first.Notes)
}

func TestStartRejectsBadOptions(t *testing.T) {
	for _, b := range []string{"", "localhost:8000", "ftp://x", "http://"} {
		_, err := Start(context.Background(), Options{Base: b})
		assert.Error(t, err, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Start(ctx, Options{Base: "http://localhost:1"})
	assert.Error(t, err)
}

func TestHeaderIsSent(t *testing.T) {
	var got atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, `{"status":"healthy","checks":{}}`)
	}))
	t.Cleanup(ts.Close)
	m := startMon(t, Options{Base: ts.URL, HealthEvery: 10 * time.Millisecond, MetricsEvery: -1,
		Header: http.Header{"Authorization": {"Bearer xyz"}}})
	require.Eventually(t, func() bool { return got.Load() != nil }, 5*time.Second, 5*time.Millisecond)
	m.Stop()
	assert.Equal(t, "Bearer xyz", got.Load())
}

// An interrupted run stops the monitor within a bound, whatever the server
// does: a server that stalls every poll after the baseline scrape holds
// Stop for its 2 s timeouts; StopWithin gives up at its limit, says so, and
// records no false "unreachable" transition for the polls it cancelled.
func TestStopWithinBoundsAStalledServer(t *testing.T) {
	var stalled atomic.Bool
	held := make(chan struct{}, 16)
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stalled.Load() {
			select {
			case held <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		if r.URL.Path == "/metrics" {
			_, _ = io.WriteString(w, "# TYPE api_requests_total counter\napi_requests_total{endpoint=\"/status\",method=\"GET\",status=\"200\"} 1\n")
			return
		}
		_, _ = io.WriteString(w, `{"status":"healthy"}`)
	}))
	t.Cleanup(func() { close(release); ts.Close() })
	m, err := Start(context.Background(), Options{Base: ts.URL, HealthEvery: 10 * time.Millisecond, MetricsEvery: time.Hour})
	require.NoError(t, err)
	stalled.Store(true)
	<-held // a poll is in flight and held
	start := time.Now()
	rep := m.StopWithin(100 * time.Millisecond)
	took := time.Since(start)
	// Far below the 2 s poll timeout plus the 2 s final scrape an unbounded Stop waits.
	assert.Less(t, took, 1500*time.Millisecond, "StopWithin must not wait for the stalled server")
	assert.Contains(t, strings.Join(rep.Notes, "\n"), "stopped within 100ms (the run was interrupted)")
	for _, tr := range rep.Transitions {
		assert.NotEqual(t, StatusUnreachable, tr.Status, "a cancelled poll is not the server being unreachable: %+v", tr)
	}
}
