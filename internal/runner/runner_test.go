package runner

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
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

// pipeListener is an in-memory listener: Dial hands the server one end of a
// net.Pipe. A goroutine blocked on a pipe is durably blocked in a synctest
// bubble, so the bubble's fake clock runs on past a request in flight, where
// a loopback socket would not let it.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

// Dial is the client's dialer: whatever the address, a pipe to the server.
func (l *pipeListener) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
	near, far := net.Pipe()
	select {
	case l.conns <- far:
		return near, nil
	case <-l.done:
		_, _ = near.Close(), far.Close()
		return nil, net.ErrClosed
	case <-ctx.Done():
		_, _ = near.Close(), far.Close()
		return nil, ctx.Err()
	}
}

// newEnv serves the test server over in-memory pipes. Inside a synctest
// bubble its fake clock then times every sleep, wait and request exactly.
// ?sleep=d holds a request for d.
func newEnv(t *testing.T) env {
	t.Helper()
	ln := newPipeListener()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
		}
		_, _ = w.Write([]byte("ok"))
	})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	rec := stats.NewRecorder()
	c, err := client.New("http://runner.test", rec, client.Options{Dial: ln.Dial})
	require.NoError(t, err)
	t.Cleanup(func() {
		c.CloseIdle()
		_ = srv.Close()
		<-served
	})
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

// bubble runs f in a synctest bubble: time is fake, so the tests' times are
// exact whatever the machine's load.
func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Parallel()
	synctest.Test(t, f)
}

func TestSpreadSpawnRateAndStopHooks(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		ev := &events{}
		wait := scenario.Constant(20 * time.Millisecond)
		classes := []scenario.Class{
			ev.hooks(cls("C", wait, scenario.Task{Name: "c", Weight: 1, Run: get("/c")})),
			ev.hooks(cls("A", wait, scenario.Task{Name: "a", Weight: 1, Run: get("/a")})),
			ev.hooks(cls("B", wait, scenario.Task{Name: "b", Weight: 1, Run: get("/b")})),
		}
		// Requests fall on multiples of 10 ms: none is due at the very
		// instant the run stops, which would make a race of the count.
		const duration = 1205 * time.Millisecond
		sum, err := Run(t.Context(), Config{Classes: classes, Users: 10, SpawnRate: 20, Duration: duration,
			Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		snap := e.rec.Close()

		assert.Equal(t, map[string]int{"A": 4, "B": 3, "C": 3}, ev.start)
		assert.Equal(t, 10, ev.stop, "every user ran OnStop")
		assert.Equal(t, 10, sum.Spawned)
		assert.Equal(t, StopDuration, sum.Reason)
		assert.False(t, sum.Interrupted())
		// 10 users at 20/s: user k starts at k × 50 ms.
		require.Len(t, ev.times, 10)
		for k, at := range ev.times {
			assert.Equal(t, time.Duration(k)*50*time.Millisecond, at.Sub(sum.Started), "user %d starts at the spawn rate", k)
		}
		assert.Equal(t, duration, sum.Stopped.Sub(sum.Started))
		assert.Equal(t, sum.Stopped, sum.Finished, "waiting users stop at once")
		// User k requests every 20 ms from k × 50 ms until the stop.
		var want int64
		for k := range 10 {
			for at := time.Duration(k) * 50 * time.Millisecond; at < duration; at += 20 * time.Millisecond {
				want++
			}
		}
		assert.Equal(t, want, snap.Total.Requests)
		assert.Zero(t, snap.Total.Failures)
		assert.Len(t, snap.Entries, 3)
		assert.Equal(t, 0, snap.Users, "no user runs after the run")
	})
}

func TestStopsWithinGraceAndCancelsStragglers(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		c := cls("Slow", scenario.Constant(0), scenario.Task{Name: "hang", Weight: 1, Run: get("/hang?sleep=30s")})
		sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 3, SpawnRate: 100,
			Duration: 200 * time.Millisecond, Grace: 300 * time.Millisecond, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		snap := e.rec.Close()
		// A 30 s request is cut at duration + grace, to the nanosecond.
		assert.Equal(t, 200*time.Millisecond, sum.Stopped.Sub(sum.Started))
		assert.Equal(t, 300*time.Millisecond, sum.Finished.Sub(sum.Stopped), "grace is honoured, and no more")
		assert.Equal(t, 3, sum.Cancelled)
		require.Len(t, snap.Failures, 1)
		assert.Contains(t, snap.Failures[0].Error, "Cancelled")
		assert.EqualValues(t, 3, snap.Failures[0].Occurrences)
	})
}

func TestFinishingTasksAreNotCancelled(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		c := cls("Short", scenario.Constant(0), scenario.Task{Name: "s", Weight: 1, Run: get("/s?sleep=150ms")})
		sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100,
			Duration: 100 * time.Millisecond, Grace: 5 * time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		snap := e.rec.Close()
		assert.Zero(t, sum.Cancelled)
		assert.Zero(t, snap.Total.Failures, "tasks running at the duration finish within the grace")
		assert.EqualValues(t, 2, snap.Total.Requests)
		// The second user started at 10 ms; its request ends at 160 ms.
		assert.Equal(t, 60*time.Millisecond, sum.Finished.Sub(sum.Stopped), "the run waits for the last task, not the whole grace")
	})
}

func TestStopChannelAndContext(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		stop := make(chan struct{})
		// The users request every 10 ms from 0 and 10 ms; the stop comes between two.
		c := cls("U", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "x", Weight: 1, Run: get("/x")})
		time.AfterFunc(155*time.Millisecond, func() { close(stop) })
		sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100, Duration: time.Minute,
			Grace: time.Second, Client: e.client, Recorder: e.rec, Stop: stop})
		require.NoError(t, err)
		assert.Equal(t, StopRequested, sum.Reason)
		assert.True(t, sum.Interrupted())
		assert.Equal(t, 155*time.Millisecond, sum.Stopped.Sub(sum.Started))
		assert.Equal(t, sum.Stopped, sum.Finished)
		assert.Zero(t, sum.Cancelled)
		assert.EqualValues(t, 16+15, e.rec.Close().Total.Requests, "0, 10, …, 150 ms and 10, …, 150 ms")

		e2 := newEnv(t)
		ctx, cancel := context.WithTimeout(t.Context(), 155*time.Millisecond)
		defer cancel()
		sum, err = Run(ctx, Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100, Duration: time.Minute,
			Grace: time.Minute, Client: e2.client, Recorder: e2.rec})
		require.NoError(t, err)
		assert.Equal(t, StopCancelled, sum.Reason)
		assert.Equal(t, 155*time.Millisecond, sum.Stopped.Sub(sum.Started))
		assert.Equal(t, sum.Stopped, sum.Finished, "a cancelled context does not wait for the grace")
		e2.rec.Close()
	})
}

// A stop request (Ctrl-C, the UI's Stop) cancels the requests in flight at
// once: it does not wait out the grace for a server that answers in 30 s.
func TestStopCancelsRequestsInFlightAtOnce(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"users", "arrivals"} {
		t.Run(model, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				e := newEnv(t)
				stop := make(chan struct{})
				started := make(chan struct{}, 64)
				c := cls("Slow", scenario.Constant(0), scenario.Task{Name: "hang", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
					started <- struct{}{}
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
					synctest.Wait() // the three requests are in flight, held by the server
					close(stop)
				}()
				sum, err := Run(t.Context(), cfg)
				require.NoError(t, err)
				e.rec.Close()
				assert.Equal(t, StopRequested, sum.Reason)
				// The third starts at 20 ms (the spawn rate, the arrival rate).
				assert.Equal(t, 20*time.Millisecond, sum.Stopped.Sub(sum.Started))
				assert.Equal(t, sum.Stopped, sum.Finished, "a stop request does not wait for the grace")
				assert.Equal(t, 3, sum.Cancelled, "the three requests in flight were cancelled")
			})
		})
	}
}

func TestPanicsAndErrorsBecomeExceptionsAndUsersContinue(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		var mu sync.Mutex
		runs := 0
		c := cls("P", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "boom", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
			mu.Lock()
			runs++
			n := runs
			mu.Unlock()
			if n%2 == 0 {
				return errors.New("bad state")
			}
			panic("kaboom")
		}})
		_, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 1, SpawnRate: 10, Duration: 95 * time.Millisecond,
			Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		snap := e.rec.Close()
		mu.Lock()
		assert.Equal(t, 10, runs, "the user kept running after each panic: 0, 10, …, 90 ms")
		mu.Unlock()
		require.Len(t, snap.Exceptions, 2)
		assert.Equal(t, "P.boom: panic: kaboom", snap.Exceptions[0].Message)
		assert.EqualValues(t, 5, snap.Exceptions[0].Count)
		assert.Contains(t, snap.Exceptions[0].Traceback, "runner_test.go")
		assert.Equal(t, "P.boom: bad state", snap.Exceptions[1].Message)
		assert.EqualValues(t, 5, snap.Exceptions[1].Count)
	})
}

func TestWaitTimeBetweenTasks(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		var mu sync.Mutex
		var starts []time.Time
		c := cls("W", scenario.Between(40*time.Millisecond, 80*time.Millisecond), scenario.Task{Name: "w", Weight: 1, Run: func(context.Context, *scenario.User) error {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			return nil
		}})
		sum, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 1, SpawnRate: 10, Duration: 700 * time.Millisecond,
			Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		e.rec.Close()
		// At least 700 / 80 = 8.75 waits fit, at most 700 / 40 = 17.5.
		require.GreaterOrEqual(t, len(starts), 10)
		require.LessOrEqual(t, len(starts), 18)
		assert.Equal(t, sum.Started, starts[0], "the first task starts at once")
		gaps := map[time.Duration]bool{}
		for i := 1; i < len(starts); i++ {
			gap := starts[i].Sub(starts[i-1])
			assert.GreaterOrEqual(t, gap, 40*time.Millisecond, "a user never waits less than the lower bound")
			assert.LessOrEqual(t, gap, 80*time.Millisecond, "nor more than the upper bound")
			gaps[gap] = true
		}
		assert.Greater(t, len(gaps), 1, "the waits are drawn, not constant")
	})
}

func TestPacingRecordsIntendedStart(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		// Every task takes 100 ms but the schedule starts one every 20 ms, so
		// each task starts later than intended and response time grows past
		// service time: task k starts at 100k ms, 80k ms behind its schedule.
		c := cls("Pace", scenario.ConstantPacing(20*time.Millisecond), scenario.Task{Name: "p", Weight: 1, Run: get("/p?sleep=100ms")})
		_, err := Run(t.Context(), Config{Classes: []scenario.Class{c}, Users: 1, SpawnRate: 10, Duration: 550 * time.Millisecond,
			Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		snap := e.rec.Close()
		ent := snap.Entries[0]
		require.EqualValues(t, 6, ent.Requests, "tasks at 0, 100, …, 500 ms")
		assert.Equal(t, [2]int64{100_000, 100_000}, [2]int64{ent.MinMicros, ent.MaxMicros}, "each served in 100 ms")
		assert.InEpsilon(t, 100+80*5, ent.ResponseMS(100), 1e-3, "the last started 400 ms behind its intended start")
		assert.InEpsilon(t, 100, ent.ResponseMS(0), 1e-3, "the first on time")
	})
}

func TestScaleUpAndDown(t *testing.T) {
	bubble(t, func(t *testing.T) {
		e := newEnv(t)
		ev := &events{}
		c := ev.hooks(cls("S", scenario.Constant(10*time.Millisecond), scenario.Task{Name: "s", Weight: 1, Run: get("/s")}))
		r, err := New(Config{Classes: []scenario.Class{c}, Users: 2, SpawnRate: 100, Duration: 3 * time.Second,
			Grace: time.Second, Client: e.client, Recorder: e.rec})
		require.NoError(t, err)
		start := time.Now() // the run's start: fake time stands still until the test blocks
		done := make(chan Summary)
		go func() { s, _ := r.Run(t.Context()); done <- s }()
		users := func(at time.Duration) int { // the users running at this time into the run
			time.Sleep(at - time.Since(start))
			synctest.Wait()
			return r.Users()
		}
		// At 100/s, one user starts or stops every 10 ms.
		assert.Equal(t, 1, users(5*time.Millisecond))
		assert.Equal(t, 2, users(time.Second))
		require.NoError(t, r.Scale(6, 100))
		assert.Equal(t, 4, users(1015*time.Millisecond), "up at the spawn rate: at 1.000 and 1.010 s")
		assert.Equal(t, 6, users(1500*time.Millisecond))
		require.NoError(t, r.Scale(1, 100))
		assert.Equal(t, 4, users(1515*time.Millisecond), "down at the spawn rate: at 1.500 and 1.510 s")
		assert.Equal(t, 1, users(2*time.Second))
		ev.mu.Lock()
		assert.Equal(t, 5, ev.stop, "removed users ran OnStop")
		ev.mu.Unlock()
		require.Error(t, r.Scale(-1, 1))
		sum := <-done
		e.rec.Close()
		assert.Equal(t, 3*time.Second, sum.Finished.Sub(sum.Started))
		assert.Equal(t, 6, sum.Spawned)
		assert.Equal(t, 6, ev.stop)
	})
}

func TestConfigIsValidated(t *testing.T) {
	t.Parallel()
	_, err := Run(t.Context(), Config{Users: -1, SpawnRate: 0, Duration: -time.Second, Grace: -1})
	require.Error(t, err)
	for _, want := range []string{"users -1", "spawn rate 0", "duration -1s", "grace -1ns", "client and a recorder", "no user classes"} {
		assert.Contains(t, err.Error(), want)
	}
}
