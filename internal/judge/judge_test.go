package judge

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// late records requests that took 10 ms but started 300 ms after their intended start.
func late(t *testing.T, fails int) runfile.Run {
	t.Helper()
	rec := stats.NewRecorder()
	now := time.Now()
	for i := range 100 {
		r := stats.Result{Method: "GET", Name: "GET /status", Start: now, Intended: now.Add(-300 * time.Millisecond), Latency: 10 * time.Millisecond, Status: 200}
		if i < fails {
			r.Error = "Got status code 500"
		}
		rec.Record(r)
	}
	s := rec.Close()
	s.Start, s.End = now, now.Add(10*time.Second)
	return runfile.Run{Stats: s}
}

// reasons judges run and returns its verdict's reasons.
func reasons(t *testing.T, run runfile.Run, table target.Table, gate target.Gate) []string {
	t.Helper()
	Judge(&run, table, gate)
	assert.Equal(t, len(run.Verdict.Reasons) == 0, run.Verdict.Pass, "pass is no reason")
	return run.Verdict.Reasons
}

func TestGradeOnTheRunsClock(t *testing.T) {
	t.Parallel()
	gate := target.Gate{Metrics: []string{"median_ms", "p95_ms", "failure_rate_pct"}}
	table := target.Default()
	table.Metrics["median_ms"] = target.Bounds{Target: 50, Acceptable: 100, Poor: 200}

	run := late(t, 0)
	run.Generator.Clock = ClockService
	assert.Empty(t, reasons(t, run, table, gate), "10 ms of service time passes")

	run = late(t, 0)
	run.Generator.Clock = ClockResponse
	got := reasons(t, run, table, gate)
	require.Len(t, got, 1, "310 ms from the intended start fails the median")
	assert.Contains(t, got[0], "target: median_ms = 310")

	run = late(t, 10)
	run.Generator.Clock = ClockService
	got = reasons(t, run, table, gate)
	assert.Contains(t, got, "target: failure_rate_pct = 10% is Poor (Poor above 5%; gate requires Acceptable: < 2%)")
	assert.Contains(t, got[len(got)-1], "alert: failure rate 10%")
}

func TestJudgeFindings(t *testing.T) {
	t.Parallel()
	gate := target.Gate{Metrics: DefaultGate}
	run := late(t, 0)
	run.Meta.Scenario = "TestLoadX"
	fs := Judge(&run, target.Default(), gate)
	require.True(t, run.Verdict.Pass, "%v", run.Verdict.Reasons)
	var groups []string
	for _, f := range fs {
		assert.True(t, f.Pass, "%+v", f)
		assert.Empty(t, f.Message+f.Reason, "a passing finding says nothing")
		groups = append(groups, f.Group+":"+f.Name)
	}
	assert.Equal(t, []string{"targets:median", "targets:p95", "targets:failure_rate",
		"alerts:max_failure_rate_pct", "alerts:max_avg_ms", "generator:"}, groups)

	// A stop, a saturated generator and a regression: each a finding and a
	// reason, in the run's order.
	run.Meta.Stopped = string(runner.StopRequested)
	run.Meta.Duration = time.Minute
	run.Generator.Saturated, run.Generator.Reasons, run.Generator.Advice = true, []string{"lag"}, "lower the load"
	base := late(t, 0)
	res := compare.Compare(base.Stats, late(t, 50).Stats, compare.DefaultLimits())
	run.Baseline = &res
	run.Stats = late(t, 50).Stats
	fs = Judge(&run, target.Default(), gate)
	assert.False(t, run.Verdict.Pass)
	r := run.Verdict.Reasons
	require.NotEmpty(t, r)
	assert.Equal(t, "TestLoadX: run interrupted (stop requested) after 10s of 1m0s; the results are partial", r[0])
	assert.Equal(t, "inconclusive: the load generator fell behind: lag", r[len(r)-1])
	var regression, generator bool
	for _, f := range fs {
		switch f.Group {
		case GroupBaseline:
			regression = regression || (!f.Pass && f.Name == "GET /status")
		case GroupGenerator:
			generator = !f.Pass && f.Message == "lower the load"
		}
	}
	assert.True(t, regression, "the regressed entry fails its baseline finding: %+v", fs)
	assert.True(t, generator, "%+v", fs)
	assert.Contains(t, strings.Join(r, "\n"), "regression: GET /status")
}

func TestGradeWithoutRequests(t *testing.T) {
	t.Parallel()
	run := runfile.Run{Meta: runfile.Meta{Scenario: "TestLoadX"}, Stats: stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}}}
	fs := Judge(&run, target.Default(), target.Gate{})
	assert.Empty(t, run.Checks)
	require.Len(t, fs, 1)
	assert.Equal(t, GroupRun, fs[0].Group)
	assert.Equal(t, []string{"TestLoadX: no request completed in 0s; nothing to grade"}, run.Verdict.Reasons)
}

func TestGateFromTheRunFile(t *testing.T) {
	t.Parallel()
	g := Gate(runfile.Meta{Gate: []string{"rps"}, MinGrade: "target"})
	assert.Equal(t, []string{"rps"}, g.Metrics)
	assert.Equal(t, target.GradeTarget, g.MinGrade)
	g = Gate(runfile.Meta{MinGrade: "nonsense"})
	assert.Equal(t, DefaultGate, g.Metrics, "an old file: the seed's gate")
	assert.Equal(t, target.GradeAcceptable, g.MinGrade)
}
