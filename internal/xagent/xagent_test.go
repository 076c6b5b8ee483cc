package xagent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/stats"
)

func TestClassesMatchTheLocustSuite(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		wait  scenario.Wait
		tasks []int
	}{
		APIUser:           {scenario.Between(time.Second, 3*time.Second), []int{3, 2, 1, 1, 2}},
		AuthenticatedUser: {scenario.Between(500*time.Millisecond, 2*time.Second), []int{5, 3, 2}},
		StressUser:        {scenario.Between(100*time.Millisecond, 500*time.Millisecond), []int{1, 1}},
	}
	classes := Classes()
	require.NoError(t, scenario.Validate(classes))
	require.Len(t, classes, 3)
	for _, c := range classes {
		w, ok := want[c.Name]
		require.True(t, ok, c.Name)
		assert.Equal(t, 1, c.Weight, c.Name)
		assert.Equal(t, w.wait, c.Wait, c.Name)
		var weights []int
		for _, tk := range c.Tasks {
			weights = append(weights, tk.Weight)
		}
		assert.Equal(t, w.tasks, weights, c.Name)
	}
	assert.NotNil(t, classes[1].OnStart, "the authenticated user logs in on start")
}

func TestGoalID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "goal_1", GoalID([]byte(`{"status":"created","goal":{"id":"goal_1"}}`)))
	assert.Equal(t, "goal_2", GoalID([]byte(`{"id":"goal_2"}`)))
	assert.Equal(t, "", GoalID([]byte(`not json`)))
}

// run runs the classes with no wait against handler and returns the statistics.
func run(t *testing.T, h http.Handler, d time.Duration, classes ...scenario.Class) stats.Snapshot {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	rec := stats.NewRecorder()
	cl, err := client.New(srv.URL, rec, client.Options{})
	require.NoError(t, err)
	defer cl.CloseIdle()
	_, err = runner.Run(t.Context(), runner.Config{Classes: classes, Users: 4, SpawnRate: 100, Duration: d,
		Grace: 5 * time.Second, Seed: 42, Client: cl, Recorder: rec})
	require.NoError(t, err)
	return rec.Close()
}

func fake(t *testing.T) *fakeapi.Server {
	t.Helper()
	f, err := fakeapi.New(fakeapi.DefaultOptions())
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

func noWait(c scenario.Class) scenario.Class {
	c.Wait = scenario.Constant(0)
	return c
}

// stopAfter wraps every task of c so that the run is asked to stop once n tasks
// have run: a count, not a time, so a slow machine only takes longer.
func stopAfter(c scenario.Class, n int64, stop chan struct{}) scenario.Class {
	var count atomic.Int64
	var once sync.Once
	tasks := make([]scenario.Task, len(c.Tasks))
	for i, tk := range c.Tasks {
		run := tk.Run
		tk.Run = func(ctx context.Context, u *scenario.User) error {
			err := run(ctx, u)
			if count.Add(1) == n {
				once.Do(func() { close(stop) })
			}
			return err
		}
		tasks[i] = tk
	}
	c.Tasks = tasks
	return c
}

func TestAPIUserRequestMixFollowsWeightsAgainstTheFake(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(fake(t))
	defer srv.Close()
	rec := stats.NewRecorder()
	cl, err := client.New(srv.URL, rec, client.Options{})
	require.NoError(t, err)
	defer cl.CloseIdle()
	stop := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = runner.Run(ctx, runner.Config{Classes: []scenario.Class{stopAfter(noWait(Classes()[0]), 3000, stop)},
		Users: 4, SpawnRate: 100, Grace: 5 * time.Second, Seed: 42, Client: cl, Recorder: rec, Stop: stop})
	require.NoError(t, err)
	snap := rec.Close()
	// 3,000 picks: a share's standard deviation is under 0.9 points, so ±4 points is over 4.5 sigma.
	require.GreaterOrEqual(t, snap.Total.Requests, int64(3000))
	// The stop cancels the other users' requests in flight (at most one
	// each); every other request succeeds.
	for _, f := range snap.Failures {
		if client.FailureKind(f.Error) == client.FailCancelled {
			assert.LessOrEqual(t, f.Occurrences, int64(4), "cut short by the stop: %v", f)
			continue
		}
		t.Errorf("the fake answers the API user as X-Agent does, but: %v", f)
	}
	shares := map[string]float64{"GET /status": 3. / 9, "GET /goals": 2. / 9, "POST /goals": 1. / 9, "GET /health": 1. / 9, "GET /ready": 2. / 9}
	for name, want := range shares {
		e, ok := snap.Entry(map[bool]string{true: "POST", false: "GET"}[name == "POST /goals"], name)
		require.True(t, ok, name)
		got := float64(e.Requests) / float64(snap.Total.Requests)
		assert.InDelta(t, want, got, 0.04, "%s share", name)
	}
}

func TestAuthenticatedUserLogsInAndSendsItsToken(t *testing.T) {
	t.Parallel()
	snap := run(t, fake(t), 700*time.Millisecond, noWait(Classes()[1]))
	login, ok := snap.Entry("POST", "POST /auth/login")
	require.True(t, ok)
	assert.EqualValues(t, 4, login.Requests, "one login per user")
	assert.Zero(t, snap.Total.Failures, "%v", snap.Failures)
	for _, name := range []string{"GET /status (auth)", "GET /goals (auth)"} {
		e, ok := snap.Entry("GET", name)
		require.True(t, ok, name)
		assert.Positive(t, e.Requests)
	}
}

func TestFailedLoginIsRecordedAndTheUserGoesOnUnauthenticated(t *testing.T) {
	t.Parallel()
	f := fake(t)
	// /auth/login answers invalid JSON; every other path goes to the fake.
	h := http.NewServeMux()
	h.HandleFunc("/auth/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token": `))
	})
	h.Handle("/", f)
	snap := run(t, h, 500*time.Millisecond, noWait(Classes()[1]))
	login, _ := snap.Entry("POST", "POST /auth/login")
	assert.EqualValues(t, 4, login.Failures)
	var loginErr, unauth int64
	for _, fl := range snap.Failures {
		switch {
		case fl.Name == "POST /auth/login":
			assert.Contains(t, fl.Error, "Login failed")
			loginErr += fl.Occurrences
		case fl.Error == "Got status code 401":
			unauth += fl.Occurrences
		}
	}
	assert.EqualValues(t, 4, loginErr)
	assert.Positive(t, unauth, "tasks ran without a token")
	e, _ := snap.Entry("GET", "GET /status (auth)")
	assert.Zero(t, e.Failures, "/status answers anonymous users too")
}

func TestStressUserAgainstTheFake(t *testing.T) {
	t.Parallel()
	snap := run(t, fake(t), 500*time.Millisecond, noWait(Classes()[2]))
	assert.Zero(t, snap.Total.Failures, "%v", snap.Failures)
	for _, name := range []string{"GET /healthz (stress)", "GET /status (stress)"} {
		e, ok := snap.Entry("GET", name)
		require.True(t, ok)
		assert.Positive(t, e.Requests)
	}
}
