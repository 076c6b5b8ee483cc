package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/target"
)

func TestGeneratorThresholdsFollowTheTargets(t *testing.T) {
	race := time.Duration(1)
	if saturation.DefaultThresholds().MaxCPUPct == 0 { // a -race binary
		race = saturation.RaceFactor
	}
	seedGate := target.Gate{Metrics: judge.DefaultGate}
	th := GeneratorThresholds(target.Default(), seedGate, Timespan{})
	assert.Equal(t, race*20*time.Millisecond, th.MaxLagP99, "10%% of the median's Acceptable bound, 200 ms")
	assert.Equal(t, race*40*time.Millisecond, th.MaxSchedP99)
	assert.Contains(t, th.LagBasis, "median_ms's Acceptable bound, 200 ms")

	tight := target.Default()
	tight.Metrics["p95_ms"] = target.Bounds{Target: 1, Acceptable: 2, Poor: 3}
	assert.Equal(t, race*200*time.Microsecond, GeneratorThresholds(tight, seedGate, Timespan{}).MaxLagP99, "a 2 ms bound: 0.2 ms")

	set := GeneratorThresholds(target.Default(), seedGate, Timespan{D: 7 * time.Millisecond, Given: true})
	assert.Equal(t, 7*time.Millisecond, set.MaxLagP99, "-max-lag overrides")
	assert.Equal(t, "-max-lag", set.LagBasis)
	assert.Zero(t, GeneratorThresholds(target.Default(), seedGate, Timespan{Given: true}).MaxLagP99, "-max-lag 0: off")
}

// TestGeneratorVerdictHostPause: lag that a host pause the sentinel saw
// accounts for does not make the run inconclusive; the pause is reported with
// its length and when it happened. Without the pause the same lag does.
func TestGeneratorVerdictHostPause(t *testing.T) {
	p := Plan{Model: Model{Kind: ModelUsers, Clock: judge.ClockService,
		Thresholds: GeneratorThresholds(target.Default(), target.Gate{Metrics: judge.DefaultGate}, Timespan{D: 10 * time.Millisecond, Given: true})}}
	t0 := time.Now()
	lag := saturation.NewLag()
	for range 100 {
		lag.Record(100 * time.Microsecond)
	}
	for range 5 {
		lag.Record(80 * time.Millisecond) // the users the pause held up
	}
	rt := saturation.Runtime{GOMAXPROCS: 2, CPUUtilPct: 1, CPUSource: saturation.CPUSourceRusage, SchedLatencyP99MS: 0.04,
		Host: saturation.Host{Period: saturation.SentinelPeriod, Ticks: 400, Pauses: []saturation.Pause{
			{Start: t0.Add(-time.Second), Offset: 1234 * time.Millisecond, Length: time.Hour, CPUPct: 1},
		}}}

	g := judgeGenerator(p, runner.Summary{}, lag, rt)
	assert.False(t, g.Saturated, "%s", g.Advice)
	assert.InDelta(t, 80, g.Lag.P99MS, 0.1, "the lag as measured is kept")
	notes := strings.Join(g.Notes, "\n")
	assert.Contains(t, notes, "but host pauses account for it")
	assert.Contains(t, notes, "host pauses: the process was not run 1 time(s)")
	assert.Contains(t, notes, "at +1.234 s")
	assert.Contains(t, generatorLine(g, 0), "host paused the process 1 time(s), 3600000.0 ms in all, longest 3600000.0 ms at +1.234 s")

	rt.Host.Pauses = nil
	g = judgeGenerator(p, runner.Summary{}, lag, rt)
	require.True(t, g.Saturated, "the same lag with no host pause is the generator's")
	assert.Contains(t, g.Reasons[0], "start lag p99 80.1 ms is above 10 ms (-max-lag) (max 80.0 ms over 105 starts): the generator started work late")
	assert.NotContains(t, g.Reasons[0], "host pauses")
	assert.NotContains(t, generatorLine(g, 0), "host paused")
}
