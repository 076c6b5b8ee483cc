package runner

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/shape"
)

// finite is a schedule of n arrivals every gap, then the end.
type finite struct {
	n   int
	gap time.Duration
}

func (f finite) ArrivalTime(k float64) (time.Duration, bool) {
	if int(k) >= f.n {
		return 0, false
	}
	return time.Duration(k) * f.gap, true
}

func TestOpenModelStartsEveryArrivalOnItsSchedule(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		ev := &events{}
		// 18 ms iterations, not 20: none ends at the very instant an arrival
		// is due, which would make a race of whether its user is idle.
		classes := []scenario.Class{
			ev.hooks(cls("A", scenario.Constant(time.Hour), scenario.Task{Name: "a", Weight: 1, Run: get("/a?sleep=18ms")})),
			ev.hooks(cls("B", scenario.Constant(time.Hour), scenario.Task{Name: "b", Weight: 1, Run: get("/b?sleep=18ms")})),
		}
		lag := saturation.NewLag()
		sum, err := Run(t.Context(), Config{Classes: classes, Arrivals: finite{n: 40, gap: 5 * time.Millisecond}, MaxInFlight: 100,
			Grace: time.Second, Client: e.client, Recorder: e.rec, Lag: lag})
		require.NoError(t, err)
		snap := e.rec.Close()

		assert.Equal(t, StopShape, sum.Reason, "the run ends with its schedule")
		assert.False(t, sum.Interrupted())
		assert.EqualValues(t, 40, sum.Arrivals)
		assert.EqualValues(t, 40, sum.Iterations)
		assert.Zero(t, sum.Dropped)
		assert.EqualValues(t, 40, snap.Total.Requests, "the class's hour-long wait is ignored: the schedule sets the pace")
		a, _ := snap.Entry("GET", "/a?sleep=18ms")
		b, _ := snap.Entry("GET", "/b?sleep=18ms")
		assert.EqualValues(t, 20, a.Requests, "classes alternate by weight")
		assert.EqualValues(t, 20, b.Requests)
		// A class's arrivals come every 10 ms and last 18 ms: two of them
		// overlap, so each class needs two virtual users, not one per arrival.
		assert.Equal(t, 4, sum.Spawned, "virtual users are reused")
		assert.Equal(t, map[string]int{"A": 2, "B": 2}, ev.start, "OnStart once per virtual user")
		assert.Equal(t, 4, ev.stop, "OnStop once per virtual user")
		// The last arrival is due at 195 ms and its iteration ends at 213 ms.
		assert.Equal(t, 195*time.Millisecond, sum.Stopped.Sub(sum.Started))
		assert.Equal(t, 18*time.Millisecond, sum.Finished.Sub(sum.Stopped))
		assert.Equal(t, saturation.LagStats{Count: 40}, lag.Snapshot(), "every start's lag is recorded, and on a fake clock it is none")
	})
}

func TestOpenModelDropsArrivalsBeyondTheCap(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		var running, most atomic.Int64
		task := scenario.Task{Name: "slow", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			return get("/s?sleep=98ms")(ctx, u)
		}}
		sum, err := Run(t.Context(), Config{Classes: []scenario.Class{cls("S", scenario.Constant(0), task)},
			Arrivals: finite{n: 30, gap: 5 * time.Millisecond}, MaxInFlight: 3, Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		e.rec.Close()
		assert.EqualValues(t, 3, most.Load(), "never more than the cap in flight")
		assert.EqualValues(t, 30, sum.Arrivals)
		// Arrivals every 5 ms over 150 ms, 98 ms iterations, 3 at a time: those
		// due at 0, 5, 10 ms run, and again those at 100, 105, 110 ms, when the
		// first three have ended; the other 24 find the cap reached.
		assert.EqualValues(t, 6, sum.Iterations)
		assert.EqualValues(t, 24, sum.Dropped)
	})
}

func TestShapeDrivesUsersAndEndsTheRun(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		st := shape.Stages{Kind: shape.KindUsers, Stages: []shape.Stage{
			{Duration: 1500 * time.Millisecond, Users: 2, SpawnRate: 100},
			{Duration: 1500 * time.Millisecond, Users: 6, SpawnRate: 100},
		}}
		r, err := New(Config{Classes: []scenario.Class{cls("U", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "t", Weight: 1, Run: get("/t")})},
			Users: 2, SpawnRate: 100, Shape: st, Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		start := time.Now() // the run's start: fake time stands still until the test blocks
		done := make(chan Summary)
		go func() { sum, _ := r.Run(t.Context()); done <- sum }()
		users := func(at time.Duration) int { // the users running at this time into the run
			time.Sleep(at - time.Since(start))
			synctest.Wait()
			return r.Users()
		}
		// The shape is read once a second: its second stage, due at 1.5 s, is
		// applied at 2 s, and its end, due at 3 s, at 3 s.
		assert.Equal(t, 2, users(100*time.Millisecond), "stage 1 holds 2 users")
		assert.Equal(t, 2, users(1999*time.Millisecond), "…until the tick after 1.5 s")
		assert.Equal(t, 6, users(2100*time.Millisecond), "stage 2 reaches 6 users at 100/s")
		sum := <-done
		e.rec.Close()
		assert.Equal(t, StopShape, sum.Reason)
		assert.Equal(t, 3*time.Second, sum.Stopped.Sub(sum.Started))
		assert.Equal(t, 6, sum.Spawned)
	})
}

func TestOpenModelConfigIsValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := cls("A", scenario.Constant(0), scenario.Task{Name: "a", Weight: 1, Run: get("/a")})
	_, err := New(Config{Classes: []scenario.Class{c}, Arrivals: ConstantRate(10), Client: e.client, Recorder: e.rec})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "max in-flight 0")
	_, err = New(Config{Classes: []scenario.Class{c}, Arrivals: ConstantRate(10), MaxInFlight: 5, Shape: shape.Stages{Kind: shape.KindUsers},
		Client: e.client, Recorder: e.rec})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot drive the open model")
	e.rec.Close()
}
