package runner

import (
	"context"
	"sync/atomic"
	"testing"
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
	t.Parallel()
	e := newEnv(t)
	ev := &events{}
	classes := []scenario.Class{
		ev.hooks(cls("A", scenario.Constant(time.Hour), scenario.Task{Name: "a", Weight: 1, Run: get("/a?sleep=20ms")})),
		ev.hooks(cls("B", scenario.Constant(time.Hour), scenario.Task{Name: "b", Weight: 1, Run: get("/b?sleep=20ms")})),
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
	a, _ := snap.Entry("GET", "/a?sleep=20ms")
	b, _ := snap.Entry("GET", "/b?sleep=20ms")
	assert.EqualValues(t, 20, a.Requests, "classes alternate by weight")
	assert.EqualValues(t, 20, b.Requests)
	// 20 ms iterations every 5 ms overlap: about 4 virtual users per class,
	// not one per arrival (a busy machine that delays the requests makes
	// more overlap: 35 was seen beside a CPU hog).
	assert.Less(t, sum.Spawned, 40, "virtual users are reused")
	assert.Equal(t, sum.Spawned, ev.start["A"]+ev.start["B"], "OnStart once per virtual user")
	assert.Equal(t, sum.Spawned, ev.stop, "OnStop once per virtual user")
	assert.EqualValues(t, 40, lag.Snapshot().Count, "every start's lag is recorded")
}

func TestOpenModelDropsArrivalsBeyondTheCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var running, most atomic.Int64
	task := scenario.Task{Name: "slow", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return get("/s?sleep=100ms")(ctx, u)
	}}
	sum, err := Run(t.Context(), Config{Classes: []scenario.Class{cls("S", scenario.Constant(0), task)},
		Arrivals: finite{n: 30, gap: 5 * time.Millisecond}, MaxInFlight: 3, Grace: time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	e.rec.Close()
	assert.EqualValues(t, 3, most.Load(), "never more than the cap in flight")
	assert.EqualValues(t, 30, sum.Arrivals)
	assert.Equal(t, sum.Arrivals, sum.Iterations+sum.Dropped)
	assert.Greater(t, sum.Dropped, int64(20), "150 ms of arrivals, 100 ms iterations, 3 at a time")
}

func TestShapeDrivesUsersAndEndsTheRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := shape.Stages{Kind: shape.KindUsers, Stages: []shape.Stage{
		{Duration: 1500 * time.Millisecond, Users: 2, SpawnRate: 100},
		{Duration: 1500 * time.Millisecond, Users: 6, SpawnRate: 100},
	}}
	var peak [2]atomic.Int64
	start := time.Now()
	r, err := New(Config{Classes: []scenario.Class{cls("U", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "t", Weight: 1, Run: get("/t")})},
		Users: 2, SpawnRate: 100, Shape: st, Grace: time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	done := make(chan Summary)
	go func() { sum, _ := r.Run(t.Context()); done <- sum }()
	var sum Summary
	for sum.Reason == "" {
		select {
		case sum = <-done:
		case <-time.After(20 * time.Millisecond):
			stage := min(int(time.Since(start)/(1500*time.Millisecond)), 1)
			if u := int64(r.Users()); u > peak[stage].Load() {
				peak[stage].Store(u)
			}
		}
	}
	e.rec.Close()
	assert.Equal(t, StopShape, sum.Reason)
	assert.LessOrEqual(t, peak[0].Load(), int64(2+1), "stage 1 holds 2 users (one more at the boundary tick)")
	assert.EqualValues(t, 6, peak[1].Load(), "stage 2 reaches 6 users")
	assert.Equal(t, 6, sum.Spawned)
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
