package fakeapi

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorRate(t *testing.T) {
	t.Parallel()
	const n, rate = 5000, 0.2
	for _, status := range []int{500, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, Options{ErrorRate: rate, ErrorStatus: status, Seed: 42})
			failed := 0
			for range n {
				w := serve(s, req{method: "GET", path: "/healthz"})
				switch w.Code {
				case status:
					failed++
					if status == 503 {
						assert.Equal(t, `{"detail":"Service Unavailable"}`, w.Body.String())
					} else {
						assert.Equal(t, "Internal Server Error", w.Body.String())
					}
				case 200:
				default:
					t.Fatalf("unexpected status %d", w.Code)
				}
			}
			sigma := math.Sqrt(n * rate * (1 - rate))
			assert.InDelta(t, n*rate, float64(failed), 4*sigma, "failed %d of %d", failed, n)
			for range 200 {
				require.Equal(t, 200, serve(s, req{method: "GET", path: "/metrics"}).Code, "/metrics is never failed")
			}
		})
	}
}

func TestSeedFixesTheDraws(t *testing.T) {
	t.Parallel()
	statuses := func(seed int64) string {
		s := newTestServer(t, Options{ErrorRate: 0.5, Seed: seed})
		var b strings.Builder
		for range 200 {
			b.WriteString(strconv.Itoa(serve(s, req{method: "GET", path: "/"}).Code / 100))
		}
		return b.String()
	}
	assert.Equal(t, statuses(11), statuses(11))
	assert.NotEqual(t, statuses(11), statuses(12))
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Options{RateLimit: true, Now: clock.Now})
	get := func(path, ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = ip + ":40000"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	reset := strconv.FormatInt(clock.Now().Unix()+60, 10)
	for i := range 70 {
		w := get("/status", "10.0.0.1")
		require.Equal(t, 200, w.Code, "request %d", i+1)
		assert.Equal(t, "60", w.Header().Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(69-i), w.Header().Get("X-RateLimit-Remaining"))
		assert.Equal(t, reset, w.Header().Get("X-RateLimit-Reset"))
		assert.Equal(t, "60", w.Header().Get("X-RateLimit-Window"))
	}
	w := get("/status", "10.0.0.1")
	require.Equal(t, 429, w.Code)
	assert.Equal(t, `{"detail":"Rate limit exceeded. Please try again later."}`, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Equal(t, "0", w.Header().Get("X-RateLimit-Remaining"))
	assert.Equal(t, "60", w.Header().Get("Retry-After"))
	assert.Equal(t, "60", w.Header().Get("X-RateLimit-Limit"))
	assert.Equal(t, "60", w.Header().Get("X-RateLimit-Window"))
	assert.Equal(t, reset, w.Header().Get("X-RateLimit-Reset"))
	assert.Equal(t, 429, get("/nope", "10.0.0.1").Code, "unknown paths are limited too")

	for _, exempt := range []string{"/health", "/healthz", "/ready", "/metrics"} {
		w := get(exempt, "10.0.0.1")
		assert.Equal(t, 200, w.Code, exempt)
		assert.Empty(t, w.Header().Get("X-RateLimit-Limit"), exempt)
	}
	assert.Equal(t, 200, get("/status", "10.0.0.2").Code, "another client has its own bucket")

	r := httptest.NewRequest("GET", "/status", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "192.0.2.7, 10.0.0.1")
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	assert.Equal(t, 200, w.Code, "X-Forwarded-For names the client")

	clock.Advance(time.Second) // one token back at 1 per second
	assert.Equal(t, 200, get("/status", "10.0.0.1").Code)
	assert.Equal(t, 429, get("/status", "10.0.0.1").Code)
	clock.Advance(2 * time.Minute)
	w = get("/status", "10.0.0.1")
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "69", w.Header().Get("X-RateLimit-Remaining"), "the bucket refills to the burst")
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	t.Parallel()
	l := newLimiter()
	now := time.Unix(1_700_000_000, 0)
	for i := range 200_000 {
		l.take("client-"+strconv.Itoa(i), now)
	}
	total := 0
	for i := range l.shards {
		total += len(l.shards[i].buckets)
	}
	assert.LessOrEqual(t, total, len(l.shards)*maxBuckets)
	// After the window everything has refilled; the next sweep (when a shard
	// doubles past its last size) forgets it.
	later := now.Add(2 * time.Minute)
	for i := range 80_000 {
		l.take("late-"+strconv.Itoa(i), later)
	}
	total = 0
	for i := range l.shards {
		total += len(l.shards[i].buckets)
	}
	assert.LessOrEqual(t, total, 80_000, "the refilled buckets are gone")
}

func TestLatencyResolution(t *testing.T) {
	t.Parallel()
	fixed := func(d time.Duration) LatencySpec { return LatencySpec{Kind: LatencyFixed, Fixed: d} }
	s := newTestServer(t, Options{Latency: map[string]LatencySpec{
		"*":          fixed(1 * time.Millisecond),
		"/status":    fixed(2 * time.Millisecond),
		"GET /goals": fixed(3 * time.Millisecond),
	}})
	at := func(rt route, m method) time.Duration {
		if s.latency[rt][m] == nil {
			return 0
		}
		return s.latency[rt][m].Fixed
	}
	assert.Equal(t, 2*time.Millisecond, at(routeStatus, methodGET))
	assert.Equal(t, 2*time.Millisecond, at(routeStatus, methodPOST))
	assert.Equal(t, 3*time.Millisecond, at(routeGoals, methodGET))
	assert.Equal(t, 1*time.Millisecond, at(routeGoals, methodPOST))
	assert.Equal(t, 1*time.Millisecond, at(routeUnmatched, methodGET))
	assert.Equal(t, time.Duration(0), at(routeMetrics, methodGET), "* does not slow /metrics")
}

func TestFixedLatencyIsApplied(t *testing.T) {
	t.Parallel()
	const delay = 60 * time.Millisecond
	s := newTestServer(t, Options{Latency: map[string]LatencySpec{"/status": {Kind: LatencyFixed, Fixed: delay}}})
	url, client := loopback(t, s, 4)
	get := func(path string) time.Duration {
		began := time.Now()
		resp, err := client.Get(url + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, 200, resp.StatusCode)
		return time.Since(began)
	}
	get("/") // warm the connection
	for range 5 {
		assert.GreaterOrEqual(t, get("/status"), delay)
	}
}

func TestLatencyDistributions(t *testing.T) {
	t.Parallel()
	var g rng
	g.seed = 7
	const n = 20000
	draw := func(spec LatencySpec) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = spec.sample(g.float64(), g.float64())
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	u := draw(LatencySpec{Kind: LatencyUniform, Min: 10 * time.Millisecond, Max: 30 * time.Millisecond})
	assert.GreaterOrEqual(t, u[0], 10*time.Millisecond)
	assert.LessOrEqual(t, u[n-1], 30*time.Millisecond)
	assert.InDelta(t, float64(20*time.Millisecond), float64(u[n/2]), float64(time.Millisecond))

	l := draw(LatencySpec{Kind: LatencyLognormal, Median: 20 * time.Millisecond, P99: 200 * time.Millisecond})
	assert.InDelta(t, 1, float64(l[n/2])/float64(20*time.Millisecond), 0.05, "median %v", l[n/2])
	assert.InDelta(t, 1, float64(l[n*99/100])/float64(200*time.Millisecond), 0.15, "p99 %v", l[n*99/100])
	assert.LessOrEqual(t, l[n-1], 2*time.Second, "capped at 10×p99")
}

func TestStallHoldsThenReleases(t *testing.T) {
	t.Parallel()
	const stallFor = 300 * time.Millisecond
	began := time.Now()
	s := newTestServer(t, Options{StallAt: 0, StallFor: stallFor})
	w := serve(s, req{method: "GET", path: "/healthz"})
	assert.Equal(t, 200, w.Code)
	assert.GreaterOrEqual(t, time.Since(began), stallFor, "held until the window ends")
	// After the window requests pass straight through.
	w = serve(s, req{method: "GET", path: "/healthz"})
	assert.Equal(t, 200, w.Code)
}

func TestStallWindowUsesTheClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Options{Now: clock.Now, StallAt: 10 * time.Second, StallFor: time.Hour})
	assert.Equal(t, 200, serve(s, req{method: "GET", path: "/"}).Code, "before the window")
	clock.Advance(10 * time.Second)

	// Inside the window: cancelling the request ends the hold without an answer.
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(w, r)
	}()
	select {
	case <-done:
		t.Fatal("request inside the stall window was answered")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-done
	assert.False(t, w.Flushed)
	assert.Empty(t, w.Body.String())

	// Close releases the held requests.
	done = make(chan struct{})
	var code int
	go func() {
		defer close(done)
		code = serve(s, req{method: "GET", path: "/"}).Code
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	<-done
	assert.Equal(t, 200, code)
}

func TestResetClosesConnection(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{ResetRate: 1})
	url, client := loopback(t, s, 2)
	for range 3 {
		resp, err := client.Get(url + "/status")
		if err == nil {
			_ = resp.Body.Close()
		}
		require.Error(t, err, "the client must see the connection die")
	}
	resp, err := client.Get(url + "/metrics")
	require.NoError(t, err, "/metrics is never reset")
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
}

func TestResetRateIsAFraction(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{ResetRate: 0.5, Seed: 3})
	url, client := loopback(t, s, 2)
	const n = 200
	failed := 0
	for range n {
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			failed++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	// The client retries idempotent requests on a reused connection once, so
	// the failure rate lies between rate² and rate.
	assert.Greater(t, failed, n/10)
	assert.Less(t, failed, n*3/4)
}

func TestUnhealthy(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Unhealthy: []string{"postgres"}})
	w := serve(s, req{method: "GET", path: "/health"})
	require.Equal(t, 503, w.Code)
	b := jsonBody(t, w)
	assert.Equal(t, "unhealthy", b["status"])
	assert.Equal(t, "failed", dig(b, "checks.postgres.status"))
	assert.NotEmpty(t, dig(b, "checks.postgres.message"))
	assert.Equal(t, "ok", dig(b, "checks.redis.status"))
	assert.Nil(t, dig(b, "checks.redis.message"))

	w = serve(s, req{method: "GET", path: "/ready"})
	require.Equal(t, 503, w.Code)
	b = jsonBody(t, w)
	assert.Equal(t, false, b["ready"])
	assert.Equal(t, "unhealthy", b["status"])

	assert.Equal(t, 200, serve(s, req{method: "GET", path: "/healthz"}).Code, "liveness is unaffected")
}

func TestHealthFlap(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestServer(t, Options{Now: clock.Now, HealthFlap: 10 * time.Second})
	want := []int{200, 503, 200, 503}
	for i, status := range want {
		w := serve(s, req{method: "GET", path: "/health"})
		assert.Equal(t, status, w.Code, "period %d", i)
		if status == 503 {
			assert.Equal(t, "failed", dig(jsonBody(t, w), "checks.redis.status"))
		}
		assert.Equal(t, status, serve(s, req{method: "GET", path: "/ready"}).Code, "period %d", i)
		clock.Advance(10 * time.Second)
	}
}

func TestEvictionKeepsStoreAtMaxGoals(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{MaxGoals: 5})
	tok := issue(t, s, "admin", "admin", time.Hour)
	var ids []string
	for i := range 8 {
		w := serve(s, req{method: "POST", path: "/goals", body: `{"description":"g` + strconv.Itoa(i) + `"}`, header: bearer(tok)})
		require.Equal(t, 200, w.Code)
		ids = append(ids, dig(jsonBody(t, w), "goal.id").(string))
	}
	b := jsonBody(t, serve(s, req{method: "GET", path: "/goals?page_size=100", header: bearer(tok)}))
	assert.Equal(t, 5.0, b["total"])
	assert.Equal(t, "g7", dig(b, "goals.0.description"), "newest first")
	assert.Equal(t, "g3", dig(b, "goals.4.description"))
	for i, id := range ids {
		want := 200
		if i < 3 {
			want = 404
		}
		assert.Equal(t, want, serve(s, req{method: "GET", path: "/goals/" + id, header: bearer(tok)}).Code, "goal %d", i)
	}
	st := jsonBody(t, serve(s, req{method: "GET", path: "/status", header: bearer(tok)}))
	assert.Equal(t, 5.0, dig(st, "goals_summary.total"))
}

func TestMetricsAreLabelledByTemplate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, DefaultOptions())
	serve(s, req{method: "DELETE", path: "/goals/goal_abc"})
	serve(s, req{method: "DELETE", path: "/goals/goal_def"})
	serve(s, req{method: "GET", path: "/random/path/1"})
	serve(s, req{method: "GET", path: "/status"})
	w := serve(s, req{method: "GET", path: "/metrics", header: map[string]string{"Accept": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}})
	require.Equal(t, 200, w.Code)
	assert.Equal(t, metricsContentType, w.Header().Get("Content-Type"))
	body := w.Body.String()
	assert.Contains(t, body, `api_requests_total{endpoint="/goals/{goal_id}",method="DELETE",status="405"} 2`)
	assert.Contains(t, body, `api_requests_total{endpoint="unmatched",method="GET",status="404"} 1`)
	assert.Contains(t, body, `api_requests_total{endpoint="/status",method="GET",status="200"} 1`)
	assert.Contains(t, body, `api_request_duration_seconds_count{endpoint="/status",method="GET",status="200"} 1`)
	assert.Contains(t, body, "# TYPE api_request_duration_seconds histogram")
	assert.NotContains(t, body, "goal_abc")
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{MaxGoals: 50})
	tok := issue(t, s, "admin", "admin", time.Hour)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch (w + i) % 4 {
				case 0:
					serve(s, req{method: "POST", path: "/goals", body: `{"description":"c","priority":3}`, header: bearer(tok)})
				case 1:
					serve(s, req{method: "GET", path: "/goals?sort_by=priority&page=2", header: bearer(tok)})
				case 2:
					serve(s, req{method: "GET", path: "/status", header: bearer(tok)})
				default:
					serve(s, req{method: "GET", path: "/metrics"})
				}
			}
		}()
	}
	wg.Wait()
	b := jsonBody(t, serve(s, req{method: "GET", path: "/goals", header: bearer(tok)}))
	assert.Equal(t, 50.0, b["total"])
}

func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	s := newTestServer(t, DefaultOptions())
	tok := issue(t, s, "admin", "admin", time.Hour)
	for i := range 100 {
		serve(s, req{method: "POST", path: "/goals", body: `{"description":"goal ` + strconv.Itoa(i) + `"}`, header: bearer(tok)})
	}
	cases := []struct {
		path, auth string
		max        float64
	}{
		{"/healthz", "", 10},
		{"/status", "", 10},
		{"/status", tok, 10},
		{"/goals", tok, 10},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.path, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", "Bearer "+c.auth)
		}
		w := &discardWriter{h: http.Header{}}
		allocs := testing.AllocsPerRun(1000, func() {
			clear(w.h)
			s.ServeHTTP(w, r)
		})
		require.Equal(t, 200, w.status, c.path)
		t.Logf("GET %s (auth=%v): %.1f allocs/request", c.path, c.auth != "", allocs)
		assert.LessOrEqual(t, allocs, c.max, "GET %s", c.path)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, DefaultOptions().Validate())
	assert.NoError(t, Options{}.Validate(), "zero values mean defaults")
	cases := []struct {
		name  string
		opts  Options
		field string
	}{
		{"max goals", Options{MaxGoals: -1}, "MaxGoals"},
		{"error rate", Options{ErrorRate: 1.5}, "ErrorRate"},
		{"error rate NaN", Options{ErrorRate: math.NaN()}, "ErrorRate"},
		{"error status", Options{ErrorStatus: 418}, "ErrorStatus"},
		{"unhealthy", Options{Unhealthy: []string{"mysql"}}, "Unhealthy"},
		{"flap", Options{HealthFlap: -time.Second}, "HealthFlap"},
		{"stall at", Options{StallAt: -1}, "StallAt"},
		{"stall for", Options{StallFor: -1}, "StallFor"},
		{"reset", Options{ResetRate: -0.1}, "ResetRate"},
		{"latency key", Options{Latency: map[string]LatencySpec{"/nope": {Kind: LatencyFixed}}}, "Latency"},
		{"latency method", Options{Latency: map[string]LatencySpec{"FETCH /status": {Kind: LatencyFixed}}}, "Latency"},
		{"latency spec", Options{Latency: map[string]LatencySpec{"*": {Kind: LatencyUniform, Min: 2, Max: 1}}}, "Max"},
		{"latency kind", Options{Latency: map[string]LatencySpec{"*": {Kind: "gamma"}}}, "Kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.opts.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.field)
			_, err = New(c.opts)
			assert.Error(t, err)
		})
	}
}

func TestParseLatency(t *testing.T) {
	t.Parallel()
	good := map[string]LatencySpec{
		"fixed:50ms":           {Kind: LatencyFixed, Fixed: 50 * time.Millisecond},
		"uniform:10ms:90ms":    {Kind: LatencyUniform, Min: 10 * time.Millisecond, Max: 90 * time.Millisecond},
		"lognormal:20ms:200ms": {Kind: LatencyLognormal, Median: 20 * time.Millisecond, P99: 200 * time.Millisecond},
		" FIXED:1s ":           {Kind: LatencyFixed, Fixed: time.Second},
	}
	for in, want := range good {
		got, err := ParseLatencySpec(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		back, err := ParseLatencySpec(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, back, "String round-trips")
	}
	for _, bad := range []string{"", "fixed", "fixed:1s:2s", "uniform:2s:1s", "lognormal:0s:1s", "lognormal:2s:1s", "gamma:1s", "fixed:soon", "fixed:-1s"} {
		_, err := ParseLatencySpec(bad)
		assert.Error(t, err, bad)
	}
	key, spec, err := ParseLatencyFlag("GET /goals=fixed:5ms")
	require.NoError(t, err)
	assert.Equal(t, "GET /goals", key)
	assert.Equal(t, 5*time.Millisecond, spec.Fixed)
	for _, bad := range []string{"/status", "/nope=fixed:1s", "POKE /status=fixed:1s", "*=fixed"} {
		_, _, err := ParseLatencyFlag(bad)
		assert.Error(t, err, bad)
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	opts := DefaultOptions()
	fs := newFlagSet()
	opts.RegisterFlags(fs)
	args := strings.Fields("-secret s3 -max-goals 7 -error-rate 0.2 -error-status 503 -unhealthy redis,postgres " +
		"-unhealthy chromadb -health-flap 5s -rate-limit -stall-at 10s -stall-for 2s -reset-rate 0.01 -seed 9")
	args = append(args, "-latency", "/status=fixed:50ms", "-latency", "*=lognormal:20ms:200ms", "-latency", "GET /goals=uniform:1ms:2ms")
	require.NoError(t, fs.Parse(args))
	assert.Equal(t, Options{
		SecretKey: "s3", MaxGoals: 7, ErrorRate: 0.2, ErrorStatus: 503,
		Unhealthy: []string{"redis", "postgres", "chromadb"}, HealthFlap: 5 * time.Second, RateLimit: true,
		StallAt: 10 * time.Second, StallFor: 2 * time.Second, ResetRate: 0.01, Seed: 9,
		Latency: map[string]LatencySpec{
			"/status":    {Kind: LatencyFixed, Fixed: 50 * time.Millisecond},
			"*":          {Kind: LatencyLognormal, Median: 20 * time.Millisecond, P99: 200 * time.Millisecond},
			"GET /goals": {Kind: LatencyUniform, Min: time.Millisecond, Max: 2 * time.Millisecond},
		},
	}, opts)
	require.NoError(t, opts.Validate())
	assert.Error(t, newFlagSetWith(&Options{}).Parse([]string{"-unhealthy", "mysql"}))
	assert.Error(t, newFlagSetWith(&Options{}).Parse([]string{"-latency", "/x=fixed:1s"}))
}
