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

// calibrate runs cfg against a fake with opts and returns the statistics, the
// summary and the generator's verdict.
func calibrate(t *testing.T, opts fakeapi.Options, cfg runner.Config) (stats.Snapshot, runner.Summary, saturation.Verdict) {
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
	v := saturation.Judge(saturation.Input{Lag: lag.Snapshot(), Runtime: rt, Iterations: sum.Iterations, Dropped: sum.Dropped},
		saturation.DefaultThresholds())
	return snap, sum, v
}

func fixedLatency(d time.Duration) fakeapi.Options {
	o := fakeapi.DefaultOptions()
	o.Latency = map[string]fakeapi.LatencySpec{"*": {Kind: fakeapi.LatencyFixed, Fixed: d}}
	return o
}

// TestCalibrationFixedLatency: a 50 ms server reads as 50 ms, on both clocks,
// in both models.
func TestCalibrationFixedLatency(t *testing.T) {
	t.Run("users", func(t *testing.T) {
		snap, _, _ := calibrate(t, fixedLatency(50*time.Millisecond), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Constant(0))}, Users: 10, SpawnRate: 100, Duration: 2 * time.Second,
		})
		e := snap.Total
		require.Greater(t, e.Requests, int64(150), "10 users × 2 s at 50 ms")
		assert.InDelta(t, 52, e.ServiceMS(50), 3.5, "service p50 of a 50 ms server")
		assert.InDelta(t, e.ServiceMS(50), e.ResponseMS(50), 0.5, "without a schedule the clocks agree")
		assert.GreaterOrEqual(t, e.MinMS(), 50.0, "no response can beat the server's sleep")
	})
	t.Run("arrivals", func(t *testing.T) {
		snap, sum, _ := calibrate(t, fixedLatency(50*time.Millisecond), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Constant(0))}, Arrivals: runner.ConstantRate(100),
			MaxInFlight: 100, Duration: 2 * time.Second,
		})
		e := snap.Total
		assert.InDelta(t, 200, sum.Arrivals, 10, "100/s for 2 s")
		assert.Zero(t, sum.Dropped, "100/s at 50 ms needs 5 in flight, far below the cap")
		assert.Equal(t, sum.Iterations, e.Requests)
		assert.InDelta(t, 52, e.ServiceMS(50), 3.5)
		assert.InDelta(t, 52, e.ResponseMS(50), 3.5, "on schedule, the response clock adds no delay")
	})
}

// TestCalibrationStallShowsOnTheIntendedStartClock: paced users against a
// server that stalls for 1 s. The service clock sees one slow request per user
// (coordinated omission hides the rest); the clock from the intended start sees
// every request the stall delayed.
func TestCalibrationStallShowsOnTheIntendedStartClock(t *testing.T) {
	opts := fakeapi.DefaultOptions()
	opts.StallAt, opts.StallFor = 500*time.Millisecond, time.Second
	snap, _, _ := calibrate(t, opts, runner.Config{
		Classes: []scenario.Class{statusClass(scenario.ConstantPacing(10 * time.Millisecond))}, Users: 2, SpawnRate: 100,
		Duration: 3 * time.Second,
	})
	e := snap.Total
	require.Greater(t, e.Requests, int64(300), "2 users paced at 10 ms for 3 s, minus the stall")
	assert.Less(t, e.ServiceMS(99), 100.0, "service time: only two requests were in the stall")
	assert.Greater(t, e.ServiceMS(100), 500.0, "…and they waited for its end")
	assert.Greater(t, e.ResponseMS(99), 500.0, "from the intended start, the stall delays a whole second of schedule")
	assert.Greater(t, e.ResponseMS(90), 100.0)
}

// TestCalibrationStarvedGeneratorIsSaturated: a generator that cannot keep up
// must say its numbers are its own.
func TestCalibrationStarvedGeneratorIsSaturated(t *testing.T) {
	t.Run("dropped iterations", func(t *testing.T) {
		_, sum, v := calibrate(t, fixedLatency(20*time.Millisecond), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Constant(0))}, Arrivals: runner.ConstantRate(500),
			MaxInFlight: 2, Duration: time.Second,
		})
		assert.Positive(t, sum.Dropped, "500/s at 20 ms needs 10 in flight; the cap is 2")
		assert.InDelta(t, sum.Arrivals, sum.Iterations+sum.Dropped, 0)
		assert.True(t, v.Saturated, "dropped iterations saturate the generator")
		assert.Contains(t, v.Message(), "load generator")
	})
	t.Run("CPU starved", func(t *testing.T) {
		// Spin more goroutines than there are cores, so timers fire late.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 * runtime.GOMAXPROCS(0) {
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
		_, _, v := calibrate(t, fakeapi.DefaultOptions(), runner.Config{
			Classes: []scenario.Class{statusClass(scenario.Between(time.Millisecond, 2*time.Millisecond))}, Users: 50, SpawnRate: 1000,
			Duration: 2 * time.Second,
		})
		close(stop)
		wg.Wait()
		assert.True(t, v.Saturated, "a starved generator must be saturated: %+v", v)
	})
}
