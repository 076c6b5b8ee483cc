package judge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/runfile"
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

func TestGradeOnTheRunsClock(t *testing.T) {
	t.Parallel()
	gate := target.Gate{Metrics: []string{"median_ms", "p95_ms", "failure_rate_pct"}}
	table := target.Default()
	table.Metrics["median_ms"] = target.Bounds{Target: 50, Acceptable: 100, Poor: 200}

	run := late(t, 0)
	run.Generator.Clock = ClockService
	require.True(t, Grade(&run, table, gate))
	assert.Empty(t, run.Verdict.Reasons, "10 ms of service time passes")

	run = late(t, 0)
	run.Generator.Clock = ClockResponse
	require.True(t, Grade(&run, table, gate))
	require.Len(t, run.Verdict.Reasons, 1, "310 ms from the intended start fails the median")
	assert.Contains(t, run.Verdict.Reasons[0], "target: median_ms = 310")

	run = late(t, 10)
	run.Generator.Clock = ClockService
	require.True(t, Grade(&run, table, gate))
	assert.Contains(t, run.Verdict.Reasons, "target: failure_rate_pct = 10% is Poor (Poor above 5%; gate requires Acceptable: < 2%)")
	assert.Contains(t, run.Verdict.Reasons[len(run.Verdict.Reasons)-1], "alert: failure rate 10%")
}

func TestGradeWithoutRequests(t *testing.T) {
	t.Parallel()
	run := runfile.Run{Stats: stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}}}
	assert.False(t, Grade(&run, target.Default(), target.Gate{}))
	assert.Empty(t, run.Checks)
}
