package web

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fake is a Controller that records its calls.
type fake struct {
	mu     sync.Mutex
	status Status
	run    func() (runfile.Run, bool) // nil: no run yet
	err    error                      // what every control returns
	calls  []string
	scales [][2]float64
	starts []Swarm
}

func newFake() *fake {
	return &fake{status: Status{
		State: StateRunning, Scenario: "TestLoadLight", Host: "http://127.0.0.1:8000",
		Users: 4, TargetUsers: 5, SpawnRate: 2, Classes: []string{"XAgentAPIUser", "XAgentStressUser"},
	}}
}

func (f *fake) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.status
	s.Classes = slices.Clone(s.Classes)
	return s
}

func (f *fake) Run() (runfile.Run, bool) {
	f.mu.Lock()
	run := f.run
	f.mu.Unlock()
	if run == nil {
		return runfile.Run{}, false
	}
	return run()
}

func (f *fake) control(call string, apply func()) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if f.err != nil {
		f.status.Error = f.err.Error()
		return f.err
	}
	if apply != nil {
		apply()
	}
	return nil
}

func (f *fake) Stop() error {
	return f.control("Stop", func() { f.status.State = StateStopped; f.status.Users = 0 })
}

func (f *fake) Scale(users int, rate float64) error {
	return f.control(fmt.Sprintf("Scale(%d, %g)", users, rate), func() {
		f.scales = append(f.scales, [2]float64{float64(users), rate})
		f.status.TargetUsers, f.status.SpawnRate = users, rate
	})
}

func (f *fake) Reset() error { return f.control("Reset", nil) }

func (f *fake) Start(s Swarm) error {
	return f.control(fmt.Sprintf("Start(%s, %d, %g, %v, %s)", s.Host, s.Users, s.SpawnRate, s.Classes, s.Duration), func() {
		f.starts = append(f.starts, s)
		f.status.State, f.status.Host, f.status.TargetUsers, f.status.SpawnRate = StateSpawning, s.Host, s.Users, s.SpawnRate
	})
}

func (f *fake) Quit() error {
	return f.control("Quit", func() { f.status.State = StateStopped })
}

func (f *fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fake) setRun(run runfile.Run) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.run = func() (runfile.Run, bool) { return run, true }
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testRun is a finished run with something in every section.
func testRun() runfile.Run {
	rec := stats.NewRecorder(stats.WithClock(func() time.Time { return t0 }), stats.WithInterval(time.Hour))
	for i := range 100 {
		lat := time.Duration(10+i) * time.Millisecond
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: t0, Latency: lat, Bytes: 34, Status: 200})
		if i%10 == 0 {
			rec.Record(stats.Result{Method: "POST", Name: "POST /goals", Start: t0, Latency: 2 * lat, Bytes: 200, Status: 503, Error: "Got status code 503"})
		}
	}
	rec.Exception("XAgentAPIUser.create_goal: panic: boom", "goroutine 7 [running]:\nmain.task()")
	s := rec.Close()
	s.Start, s.End = t0, t0.Add(10*time.Second)
	s.Users = 5
	for i := range 3 {
		s.Series = append(s.Series, stats.Point{
			Time: t0.Add(time.Duration(i+1) * time.Second), Users: i + 3, Requests: 11, Failures: 1,
			RPS: float64(10 + i), FailPS: float64(i), P50MS: 20 + float64(i), P95MS: 90 + float64(i),
		})
	}
	return runfile.Run{
		Meta: runfile.Meta{Scenario: "TestLoadLight", Host: "http://127.0.0.1:8000", Users: 5, SpawnRate: 2,
			Start: t0, End: t0.Add(10 * time.Second), Stopped: "interrupted", Harness: runfile.HarnessVersion, GoVersion: "go1.26.0"},
		Stats: s,
		Checks: []target.Check{
			{Metric: "p95_ms", Value: 104.5, Grade: target.GradeAcceptable, Bounds: target.Bounds{Target: 100, Acceptable: 200, Poor: 300},
				Gated: true, Pass: true, Message: "p95_ms = 104.5 ms is Acceptable"},
			{Endpoint: "POST /goals", Metric: "failure_rate_pct", Value: 100, Grade: target.GradePoor, Gated: true,
				Message: "POST /goals: failure_rate_pct = 100% is Poor"},
			{Metric: "p99_ms", Gated: true, Message: "gate names p99_ms but the target table has no bounds for it"},
		},
		Alerts: []target.AlertResult{{Name: "max_failure_rate_pct", Value: 9.09, Limit: 5, Fired: true, Message: "failure rate 9.09% exceeds the 5% limit"}},
		Generator: runfile.Generator{
			Model: "arrivals", Rate: 50, Clock: "response", Arrivals: 500, Iterations: 480, Dropped: 20,
			Lag:       saturation.LagStats{Count: 480, P50MS: 0.4, P99MS: 1500, MaxMS: 3000},
			Saturated: true, Reasons: []string{"20 of 500 iterations dropped (4%)"},
		},
		Verdict: runfile.Verdict{Reasons: []string{"POST /goals: failure_rate_pct is Poor"}},
	}
}

var errBusy = errors.New("a swarm is running")

func nan() float64 { return math.NaN() }
