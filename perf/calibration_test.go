package perf

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/stats"
)

// These tests check the harness's measurements against a server whose
// behaviour is known: the fake with a fixed latency, or a stall. Tolerances are
// wide enough for a shared, noisy 2-core machine under -race, and tight enough
// that a wrong clock or a lost sample fails them.

// statusClass is one user class that only gets /status, with the given wait.
func statusClass(wait scenario.Wait) scenario.Class {
	req := client.Request{Method: "GET", Path: "/status", Name: "GET /status"}
	return scenario.Class{Name: "Calibration", Weight: 1, Wait: wait, Tasks: []scenario.Task{{
		Name: "status", Weight: 1,
		Run: func(ctx context.Context, u *scenario.User) error { u.Do(ctx, req); return nil },
	}}}
}

// calibration is what calibrate measured.
type calibration struct {
	snap    stats.Snapshot
	sum     runner.Summary
	in      saturation.Input // the generator's evidence
	verdict saturation.Verdict
}

// calibrate runs cfg against a fake with opts and returns the statistics, the
// summary and the generator's evidence and verdict (on th).
func calibrate(t *testing.T, opts fakeapi.Options, cfg runner.Config, th saturation.Thresholds) calibration {
	t.Helper()
	fake, err := fakeapi.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	rec := stats.NewRecorder()
	cl, err := client.New(srv.URL, rec, client.Options{Timeout: 10 * time.Second, MaxIdlePerHost: 256})
	require.NoError(t, err)
	defer cl.CloseIdle()
	lag := saturation.NewLag()
	cfg.Client, cfg.Recorder, cfg.Lag, cfg.Seed, cfg.Grace = cl, rec, lag, 1, 5*time.Second
	sampler := saturation.StartSampler()
	sum, err := runner.Run(t.Context(), cfg)
	rt := sampler.Stop()
	require.NoError(t, err)
	snap := rec.Close()
	snap.Start, snap.End = sum.Started, sum.Stopped
	in := saturation.NewInput(lag, rt, sum.Iterations, sum.Dropped)
	return calibration{snap: snap, sum: sum, in: in, verdict: saturation.Judge(in, th)}
}

func fixedLatency(d time.Duration) fakeapi.Options {
	o := fakeapi.DefaultOptions()
	o.Latency = map[string]fakeapi.LatencySpec{"*": {Kind: fakeapi.LatencyFixed, Fixed: d}}
	return o
}

// TestCalibrationFixedLatency: a 50 ms server reads as 50 ms, on both clocks,
// in both models. The bounds hold on a loaded machine: no response beats the
// server's sleep, the median stays within half the sleep above it (a clock
// counting a wait, or two requests, reads 100 ms or more), and the clocks
// differ by the start lag the generator measured and nothing else.
func TestCalibrationFixedLatency(t *testing.T) {
	const sleep = 50.0
	t.Run("users", func(t *testing.T) {
		c := calibrate(t, fixedLatency(50*time.Millisecond), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Constant(0))}, Users: 10, SpawnRate: 100, Duration: 2 * time.Second,
		}, saturation.DefaultThresholds())
		e := c.snap.Total
		require.Greater(t, e.Requests, int64(150), "10 users × 2 s at 50 ms")
		assert.GreaterOrEqual(t, e.MinMS(), sleep, "no response can beat the server's sleep")
		assert.Less(t, e.ServiceMS(50), 1.5*sleep, "service p50 of a 50 ms server")
		assert.InDelta(t, e.ServiceMS(50), e.ResponseMS(50), 0.5, "without a schedule the clocks agree")
	})
	t.Run("arrivals", func(t *testing.T) {
		c := calibrate(t, fixedLatency(50*time.Millisecond), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Constant(0))}, Arrivals: runner.ConstantRate(100),
			MaxInFlight: 100, Duration: 2 * time.Second,
		}, saturation.DefaultThresholds())
		e := c.snap.Total
		assert.InDelta(t, 200, c.sum.Arrivals, 10, "100/s for 2 s")
		assert.Zero(t, c.sum.Dropped, "100/s at 50 ms needs 5 in flight, far below the cap")
		assert.Equal(t, c.sum.Iterations, e.Requests)
		assert.GreaterOrEqual(t, e.MinMS(), sleep)
		assert.Less(t, e.ServiceMS(50), 1.5*sleep)
		// The response clock starts at the arrival's due time: it adds the start
		// lag (at most its max, plus the few instructions between the lag's
		// reading and the request's start) and nothing more.
		added := e.ResponseMS(50) - e.ServiceMS(50)
		assert.GreaterOrEqual(t, added, -0.1, "the response clock never reads less than the service clock")
		assert.LessOrEqual(t, added, c.in.Lag.MaxMS+1, "on schedule, the response clock adds the start lag and nothing else (lag %+v)", c.in.Lag)
	})
}

// TestCalibrationStallShowsOnTheIntendedStartClock: paced users against a
// server that stalls for 1 s. The service clock sees one slow request per user
// (coordinated omission hides the rest); the clock from the intended start sees
// every request the stall delayed. The two clocks are compared in the same run,
// so a loaded machine, which slows both, does not change the outcome.
func TestCalibrationStallShowsOnTheIntendedStartClock(t *testing.T) {
	opts := fakeapi.DefaultOptions()
	opts.StallAt, opts.StallFor = 500*time.Millisecond, time.Second
	c := calibrate(t, opts, runner.Config{
		Classes: []scenario.Class{statusClass(scenario.ConstantPacing(10 * time.Millisecond))}, Users: 2, SpawnRate: 100,
		Duration: 3 * time.Second,
	}, saturation.DefaultThresholds())
	e := c.snap.Total
	require.Greater(t, e.Requests, int64(300), "2 users paced at 10 ms for 3 s, minus the stall")
	assert.Greater(t, e.ServiceMS(100), 500.0, "service time: the two requests in the stall waited for its end")
	assert.Greater(t, e.ResponseMS(99), 500.0, "from the intended start, the stall delays a whole second of schedule")
	assert.Greater(t, e.ResponseMS(90), 100.0)
	// About a third of the schedule is behind the stall on the intended-start
	// clock; on the service clock only the two requests in it are slow.
	assert.Less(t, 5*e.ServiceMS(90), e.ResponseMS(90), "service p90 %.1f ms against response p90 %.1f ms", e.ServiceMS(90), e.ResponseMS(90))
	assert.Less(t, 2*e.ServiceMS(99), e.ResponseMS(99), "service p99 %.1f ms against response p99 %.1f ms", e.ServiceMS(99), e.ResponseMS(99))
}

// spin keeps perP goroutines per P spinning until the test ends, so timers
// fire late and runnable goroutines queue for a P: the generator's own overload.
func spin(t *testing.T, perP int) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range perP * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := 0; i < 1_000_000; i++ {
					_ = i * i
				}
			}
		})
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// TestCalibrationStarvedGeneratorIsSaturated: a generator that cannot keep up
// must say its numbers are its own, whatever the host is doing besides.
func TestCalibrationStarvedGeneratorIsSaturated(t *testing.T) {
	t.Run("dropped iterations", func(t *testing.T) {
		c := calibrate(t, fixedLatency(20*time.Millisecond), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Constant(0))}, Arrivals: runner.ConstantRate(500),
			MaxInFlight: 2, Duration: time.Second,
		}, saturation.DefaultThresholds())
		assert.Positive(t, c.sum.Dropped, "500/s at 20 ms needs 10 in flight; the cap is 2")
		assert.InDelta(t, c.sum.Arrivals, c.sum.Iterations+c.sum.Dropped, 0)
		assert.True(t, c.verdict.Saturated, "dropped iterations saturate the generator")
		assert.Contains(t, c.verdict.Message(), "load generator")
	})
	t.Run("CPU starved", func(t *testing.T) {
		spin(t, 8)
		c := calibrate(t, fakeapi.DefaultOptions(), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Between(time.Millisecond, 2*time.Millisecond))}, Users: 50, SpawnRate: 1000,
			Duration: 2 * time.Second,
		}, saturation.DefaultThresholds())
		// 8 spinning goroutines a P keep a Go run queue however little CPU
		// the host grants: the sentinel calls that busy, never a host pause.
		h := c.in.Runtime.Host
		assert.True(t, c.verdict.Saturated, "a starved generator must be saturated: %s", c.verdict.Message())
		assert.Positive(t, h.BusyStalls, "busy stalls: %+v", h)
	})
	// Judged on the start lag alone (no CPU, scheduler or drop check), the
	// spinning generator's lateness must not pass for a host pause: its Ps
	// were busy, so the sentinel's late wake-ups are busy stalls.
	t.Run("CPU starved, judged on the lag alone", func(t *testing.T) {
		spin(t, 4) // fewer spinners: enough starts to judge the lag, still a lasting run queue
		c := calibrate(t, fakeapi.DefaultOptions(), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Between(time.Millisecond, 2*time.Millisecond))}, Users: 50, SpawnRate: 1000,
			Duration: 2 * time.Second,
		}, saturation.Thresholds{MaxLagP99: 10 * time.Millisecond, MaxDroppedPct: -1})
		h := c.in.Runtime.Host
		t.Logf("lag %+v, without host pauses %+v; busy stalls %d (max %v), host pauses %d (%v)",
			c.in.Lag, c.in.LagOwn, h.BusyStalls, h.BusyStallMax, len(h.Pauses), h.PauseTotal())
		// Beside another busy process some late wake-ups are the host's too;
		// the generator's own show as busy stalls, and decide the verdict.
		assert.Positive(t, h.BusyStalls, "the sentinel blames the spinning Ps on the generator")
		require.True(t, c.verdict.Saturated, "the lag of a starved generator is its own: %s", c.verdict.Message())
		assert.Contains(t, c.verdict.Reasons[0], "start lag p99")
	})
}
