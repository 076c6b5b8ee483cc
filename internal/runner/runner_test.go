package runner

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type env struct {
	client *client.Client
	rec    *stats.Recorder
}

func newEnv(t *testing.T) env {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
		}
		_, _ = w.Write([]byte("ok"))
	}))
	rec := stats.NewRecorder()
	c, err := client.New(srv.URL, rec, client.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { c.CloseIdle(); srv.Close() })
	return env{client: c, rec: rec}
}

func get(path string) func(context.Context, *scenario.User) error {
	return func(ctx context.Context, u *scenario.User) error {
		u.Do(ctx, client.Request{Method: "GET", Path: path})
		return nil
	}
}

func cls(name string, wait scenario.Wait, tasks ...scenario.Task) scenario.Class {
	return scenario.Class{Name: name, Weight: 1, Wait: wait, Tasks: tasks}
}

// events records hook calls safely.
type events struct {
	mu    sync.Mutex
	start map[string]int
	stop  int
	times []time.Time
}

func (e *events) hooks(c scenario.Class) scenario.Class {
	c.OnStart = func(context.Context, *scenario.User) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.start == nil {
			e.start = map[string]int{}
		}
		e.start[c.Name]++
		e.times = append(e.times, time.Now())
		return nil
	}
	c.OnStop = func(context.Context, *scenario.User) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.stop++
		return nil
	}
	return c
}

func TestSpreadSpawnRateAndStopHooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := &events{}
	wait := scenario.Constant(20 * time.Millisecond)
	classes := []scenario.Class{
		ev.hooks(cls("C", wait, scenario.Task{Name: "c", Weight: 1, Run: get("/c")})),
		ev.hooks(cls("A", wait, scenario.Task{Name: "a", Weight: 1, Run: get("/a")})),
		ev.hooks(cls("B", wait, scenario.Task{Name: "b", Weight: 1, Run: get("/b")})),
	}
	sum, err := Run(t.Context(), Config{Classes: classes, Users: 10, SpawnRate: 20, Duration: 1200 * time.Millisecond,
		Grace: time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	snap := e.rec.Close()

	assert.Equal(t, map[string]int{"A": 4, "B": 3, "C": 3}, ev.start)
	assert.Equal(t, 10, ev.stop, "every user ran OnStop")
	assert.Equal(t, 10, sum.Spawned)
	assert.Equal(t, StopDuration, sum.Reason)
	assert.False(t, sum.Interrupted())
	// 10 users at 20/s: the first starts at once, the last about 450 ms later.
	spread := ev.times[len(ev.times)-1].Sub(ev.times[0])
	assert.Greater(t, spread, 400*time.Millisecond, "users must not start faster than the spawn rate")
	assert.Less(t, spread, 1200*time.Millisecond, "users must start at about the spawn rate")
	assert.Greater(t, snap.Total.Requests, int64(100))
	assert.Zero(t, snap.Total.Failures)
	assert.Len(t, snap.Entries, 3)
	assert.Equal(t, 0, snap.Users, "no user runs after the run")
}

func TestStopsWithinGraceAndCancelsStragglers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := cls("Slow", scenario.Constant(0), scenario.Task{Name: "hang", Weight: 1, Run: get("/hang?sleep=30s")})
	sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 3, SpawnRate: 100,
		Duration: 200 * time.Millisecond, Grace: 300 * time.Millisecond, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	snap := e.rec.Close()
	// A 30 s request is cut at duration + grace; the bound is loose for a busy machine
	// but far below the request's own length.
	assert.Less(t, sum.Finished.Sub(sum.Started), 5*time.Second)
	assert.GreaterOrEqual(t, sum.Finished.Sub(sum.Stopped), 250*time.Millisecond, "grace is honoured")
	assert.Equal(t, 3, sum.Cancelled)
	require.Len(t, snap.Failures, 1)
	assert.Contains(t, snap.Failures[0].Error, "Cancelled")
}

func TestFinishingTasksAreNotCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := cls("Short", scenario.Constant(0), scenario.Task{Name: "s", Weight: 1, Run: get("/s?sleep=150ms")})
	sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100,
		Duration: 100 * time.Millisecond, Grace: 5 * time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	snap := e.rec.Close()
	assert.Zero(t, sum.Cancelled)
	assert.Zero(t, snap.Total.Failures, "tasks running at the duration finish within the grace")
	assert.Less(t, sum.Finished.Sub(sum.Stopped), 3*time.Second, "the run does not wait out the whole grace")
}

func TestStopChannelAndContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stop := make(chan struct{})
	c := cls("U", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "x", Weight: 1, Run: get("/x")})
	time.AfterFunc(150*time.Millisecond, func() { close(stop) })
	sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100, Duration: time.Minute,
		Grace: time.Second, Client: e.client, Recorder: e.rec, Stop: stop})
	require.NoError(t, err)
	assert.Equal(t, StopRequested, sum.Reason)
	assert.True(t, sum.Interrupted())
	assert.Less(t, sum.Finished.Sub(sum.Started), 10*time.Second)
	e.rec.Close()

	e2 := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	sum, err = Run(ctx, Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100, Duration: time.Minute,
		Grace: time.Minute, Client: e2.client, Recorder: e2.rec})
	require.NoError(t, err)
	assert.Equal(t, StopCancelled, sum.Reason)
	assert.Less(t, sum.Finished.Sub(sum.Stopped), 5*time.Second, "a cancelled context does not wait for the grace")
	e2.rec.Close()
}

// A stop request (Ctrl-C, the UI's Stop) cancels the requests in flight at
// once: it does not wait out the grace for a server that answers in 30 s.
func TestStopCancelsRequestsInFlightAtOnce(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"users", "arrivals"} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			stop := make(chan struct{})
			started := make(chan struct{}, 64)
			c := cls("Slow", scenario.Constant(0), scenario.Task{Name: "hang", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
				select {
				case started <- struct{}{}:
				default:
				}
				u.Do(ctx, client.Request{Method: "GET", Path: "/hang?sleep=30s"})
				return nil
			}})
			cfg := Config{Classes: []scenario.Class{c}, Users: 3, SpawnRate: 100, Duration: time.Minute,
				Grace: time.Minute, Client: e.client, Recorder: e.rec, Stop: stop}
			if model == "arrivals" {
				cfg.Arrivals, cfg.MaxInFlight = ConstantRate(100), 3
			}
			go func() {
				for range 3 {
					<-started
				}
				close(stop)
			}()
			sum, err := Run(t.Context(), cfg)
			require.NoError(t, err)
			e.rec.Close()
			assert.Equal(t, StopRequested, sum.Reason)
			// Far below both the 30 s request and the 1 min grace, loose for a busy machine.
			assert.Less(t, sum.Finished.Sub(sum.Stopped), 5*time.Second, "a stop request does not wait for the grace")
			assert.Equal(t, 3, sum.Cancelled, "the three requests in flight were cancelled")
		})
	}
}

func TestPanicsAndErrorsBecomeExceptionsAndUsersContinue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	runs := 0
	c := cls("P", scenario.Constant(time.Millisecond), scenario.Task{Name: "boom", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
		mu.Lock()
		runs++
		n := runs
		mu.Unlock()
		if n%2 == 0 {
			return errors.New("bad state")
		}
		panic("kaboom")
	}})
	_, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 1, SpawnRate: 10, Duration: 100 * time.Millisecond,
		Grace: time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	snap := e.rec.Close()
	mu.Lock()
	assert.Greater(t, runs, 3, "the user kept running after a panic")
	mu.Unlock()
	require.Len(t, snap.Exceptions, 2)
	assert.Equal(t, "P.boom: panic: kaboom", snap.Exceptions[0].Message)
	assert.Contains(t, snap.Exceptions[0].Traceback, "runner_test.go")
	assert.Equal(t, "P.boom: bad state", snap.Exceptions[1].Message)
}

func TestWaitTimeBetweenTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	var starts []time.Time
	c := cls("W", scenario.Between(40*time.Millisecond, 80*time.Millisecond), scenario.Task{Name: "w", Weight: 1, Run: func(context.Context, *scenario.User) error {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return nil
	}})
	_, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 1, SpawnRate: 10, Duration: 700 * time.Millisecond,
		Grace: time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	e.rec.Close()
	require.Greater(t, len(starts), 4)
	var total time.Duration
	for i := 1; i < len(starts); i++ {
		gap := starts[i].Sub(starts[i-1])
		assert.GreaterOrEqual(t, gap, 40*time.Millisecond, "a user never waits less than the lower bound")
		total += gap
	}
	// The mean of uniform(40, 80) ms is 60 ms; timers only ever fire late.
	mean := total / time.Duration(len(starts)-1)
	assert.Greater(t, mean, 45*time.Millisecond)
	assert.Less(t, mean, 200*time.Millisecond)
}

func TestPacingRecordsIntendedStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Every task takes 100 ms but the schedule starts one every 20 ms, so each
	// task starts later than intended and response time grows past service time.
	// The run stops after 6 tasks, not after a time: on a machine so busy
	// that one 100 ms task takes 700 ms a timed run had one task and no backlog.
	stop := make(chan struct{})
	done := 0
	c := cls("Pace", scenario.ConstantPacing(20*time.Millisecond), scenario.Task{Name: "p", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
		u.Do(ctx, client.Request{Method: "GET", Path: "/p?sleep=100ms"})
		if done++; done == 6 {
			close(stop)
		}
		return nil
	}})
	_, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 1, SpawnRate: 10, Duration: time.Minute,
		Grace: time.Second, Client: e.client, Recorder: e.rec, Stop: stop})
	require.NoError(t, err)
	snap := e.rec.Close()
	ent := snap.Entries[0]
	require.GreaterOrEqual(t, ent.Requests, int64(6))
	assert.Greater(t, ent.ResponseMS(99), 2*ent.ServiceMS(99), "intended-start clock shows the backlog")
}

func TestScaleUpAndDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := &events{}
	c := ev.hooks(cls("S", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "s", Weight: 1, Run: get("/s")}))
	r, err := New(Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100, Duration: 2 * time.Second,
		Grace: time.Second, Client: e.client, Recorder: e.rec})
	require.NoError(t, err)
	done := make(chan Summary)
	go func() { s, _ := r.Run(t.Context()); done <- s }()
	require.Eventually(t, func() bool { return r.Users() == 2 }, time.Second, 5*time.Millisecond)
	require.NoError(t, r.Scale(6, 100))
	require.Eventually(t, func() bool { return r.Users() == 6 }, time.Second, 5*time.Millisecond)
	require.NoError(t, r.Scale(1, 100))
	require.Eventually(t, func() bool { return r.Users() == 1 }, time.Second, 5*time.Millisecond)
	ev.mu.Lock()
	assert.Equal(t, 5, ev.stop, "removed users ran OnStop")
	ev.mu.Unlock()
	require.Error(t, r.Scale(-1, 1))
	sum := <-done
	e.rec.Close()
	assert.Equal(t, 6, sum.Spawned)
	assert.Equal(t, 6, ev.stop)
}

func TestConfigIsValidated(t *testing.T) {
	t.Parallel()
	_, err := Run(t.Context(), Config{Users: -1, SpawnRate: 0, Duration: -time.Second, Grace: -1})
	require.Error(t, err)
	for _, want := range []string{"users -1", "spawn rate 0", "duration -1s", "grace -1ns", "client and a recorder", "no user classes"} {
		assert.Contains(t, err.Error(), want)
	}
}
