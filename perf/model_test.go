package perf

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/shape"
	"github.com/xagent/perfharness/internal/target"
)

// The load models.
const (
	modelUsers    = "users"    // Locust's closed model: users loop task, wait, task
	modelArrivals = "arrivals" // the open model: iterations start on a schedule
)

// The clocks targets can be graded on.
const (
	clockService  = judge.ClockService
	clockResponse = judge.ClockResponse
)

// shortShape scales a shape for -short: a twentieth of the time, a fifth of the users.
const (
	shortShapeTime  = 1.0 / 20
	shortShapeUsers = 1.0 / 5
)

// model is how a plan generates load.
type model struct {
	Kind        string
	Arrivals    runner.Arrivals // open model
	Rate        float64         // constant -rate; 0 with a rate shape
	MaxInFlight int
	Shape       runner.Shape // user model shape
	ShapeDesc   string       // the shape file and its stages, for the start line and the reports
	Clock       string       // the clock targets are graded on
	Thresholds  saturation.Thresholds
}

// resolveModel applies -rate, -max-inflight, -shape, -clock and -max-lag to p,
// whose Table and Gate must be set: the generator's time limits are fractions
// of the tightest latency bound they grade the run on.
func resolveModel(p *plan, sc loadScenario) error {
	m := model{Kind: modelUsers, MaxInFlight: *flagMaxInFlight, Thresholds: generatorThresholds(p.Table, p.Gate, flagMaxLag)}
	if sc.Max {
		// A max-throughput run uses all the CPU it gets by design: a busy
		// generator is its measurement, not a fault. Lag and drops still count.
		m.Thresholds.MaxCPUPct = 0
	}
	if *flagMaxInFlight < 1 {
		return fmt.Errorf("-max-inflight %d: must be at least 1", *flagMaxInFlight)
	}
	path := sc.Shape
	if *flagShape != "" {
		path = *flagShape
	}
	if *flagRate != 0 {
		if !(*flagRate > 0) || math.IsInf(*flagRate, 0) {
			return fmt.Errorf("-rate %v: must be a positive number of iterations per second", *flagRate)
		}
		if *flagUsers > 0 || *flagSpawnRate > 0 {
			return fmt.Errorf("-rate runs the open model, where -users and -spawn-rate have no meaning; cap concurrency with -max-inflight")
		}
		if *flagShape != "" {
			return fmt.Errorf("-rate and -shape both set the load: give one")
		}
		m.Kind, m.Rate, m.Arrivals = modelArrivals, *flagRate, runner.ConstantRate(*flagRate)
		path = ""
	}
	if path != "" {
		st, err := shape.Load(path)
		if err != nil {
			return fmt.Errorf("-shape: %w", err)
		}
		if testing.Short() {
			st = st.Scale(shortShapeTime, shortShapeUsers)
		}
		m.ShapeDesc = path + ": " + st.String()
		if !flagDuration.set {
			p.Duration = st.Total()
		}
		first, _ := st.Tick(0)
		switch st.Kind {
		case "rate":
			if *flagUsers > 0 || *flagSpawnRate > 0 {
				return fmt.Errorf("-shape %s is an arrival-rate shape, where -users and -spawn-rate have no meaning", path)
			}
			m.Kind, m.Arrivals = modelArrivals, st
		default:
			m.Shape = st
			p.Users, p.SpawnRate = first.Users, first.SpawnRate
		}
	}
	switch *flagClock {
	case "", "auto":
		m.Clock = clockService
		if m.Kind == modelArrivals || schedules(p.Classes) {
			m.Clock = clockResponse
		}
	case clockService, clockResponse:
		m.Clock = *flagClock
	default:
		return fmt.Errorf("-clock %q: want auto, service or response", *flagClock)
	}
	p.Model = m
	return nil
}

// generatorThresholds are the generator verdict's limits for a run graded on
// table and gate: the lag and scheduler limits are fractions of the tightest
// gated latency bound (saturation.ThresholdsFor); maxLag (-max-lag), when
// set, overrides the lag limit (0 turns the lag check off).
func generatorThresholds(table target.Table, gate target.Gate, maxLag timespan) saturation.Thresholds {
	th := saturation.ThresholdsFor(saturation.TightestBound(table, gate))
	if maxLag.set {
		th.MaxLagP99, th.LagBasis = maxLag.d, "-max-lag"
	}
	return th
}

// schedules reports whether any class's wait sets a schedule (pacing, throughput).
func schedules(classes []scenario.Class) bool {
	for _, c := range classes {
		if c.Wait.Schedules() {
			return true
		}
	}
	return false
}

// describeLoad is the start line's account of the load.
func describeLoad(p plan) string {
	switch {
	case p.Model.Kind == modelArrivals && p.Model.Rate > 0:
		return fmt.Sprintf("%v iterations/s (open model, at most %d in flight) for %v", p.Model.Rate, p.Model.MaxInFlight, p.Duration)
	case p.Model.Kind == modelArrivals:
		return fmt.Sprintf("arrival-rate shape %s (open model, at most %d in flight)", p.Model.ShapeDesc, p.Model.MaxInFlight)
	case p.Model.Shape != nil:
		return "user shape " + p.Model.ShapeDesc
	}
	if p.Segment.Count > 1 {
		return fmt.Sprintf("segment %s: %d of %d users at %v/s for %v", p.Segment, p.Segment.Share(p.Users), p.Users, p.Segment.Rate(p.SpawnRate), p.Duration)
	}
	return fmt.Sprintf("%d users at %v/s for %v", p.Users, p.SpawnRate, p.Duration)
}

// judgeGenerator turns the runner's schedule lag, the Go runtime's figures and
// the open model's drops into the generator's saturation target.
func judgeGenerator(p plan, sum runner.Summary, lag *saturation.Lag, rt saturation.Runtime) runfile.Generator {
	in := saturation.NewInput(lag, rt, sum.Iterations, sum.Dropped)
	v := saturation.Judge(in, p.Model.Thresholds)
	g := runfile.Generator{
		Model: p.Model.Kind, Rate: p.Segment.Rate(p.Model.Rate), MaxInFlight: p.Model.MaxInFlight, Shape: p.Model.ShapeDesc,
		Clock: p.Model.Clock, Arrivals: sum.Arrivals, Iterations: sum.Iterations, Dropped: sum.Dropped,
		Lag: in.Lag, Runtime: rt, Saturated: v.Saturated, Reasons: v.Reasons, Notes: v.Notes,
	}
	if v.Saturated {
		g.Advice = v.Message()
	}
	return g
}

// generatorLine is the console summary of the generator.
func generatorLine(g runfile.Generator, d time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Generator: %s model, graded on %s time", g.Model, g.Clock)
	if g.Model == modelArrivals && d > 0 {
		fmt.Fprintf(&b, "; requested %.1f iterations/s, achieved %.1f/s, %d dropped (at most %d in flight)",
			float64(g.Arrivals)/d.Seconds(), float64(g.Iterations)/d.Seconds(), g.Dropped, g.MaxInFlight)
	}
	fmt.Fprintf(&b, "; start lag p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d starts", g.Lag.P50MS, g.Lag.P99MS, g.Lag.MaxMS, g.Lag.Count)
	fmt.Fprintf(&b, "; Go scheduler latency p99 %.2f ms; CPU %.0f%% of %d cores", g.Runtime.SchedLatencyP99MS, g.Runtime.CPUUtilPct, g.Runtime.GOMAXPROCS)
	if h := report.HostPauseText(g.Runtime.Host); h != "" {
		b.WriteString("; " + h)
	}
	return b.String()
}

func TestGeneratorThresholdsFollowTheTargets(t *testing.T) {
	race := time.Duration(1)
	if saturation.DefaultThresholds().MaxCPUPct == 0 { // a -race binary
		race = saturation.RaceFactor
	}
	seedGate := target.Gate{Metrics: defaultGate}
	th := generatorThresholds(target.Default(), seedGate, timespan{})
	assert.Equal(t, race*20*time.Millisecond, th.MaxLagP99, "10%% of the median's Acceptable bound, 200 ms")
	assert.Equal(t, race*40*time.Millisecond, th.MaxSchedP99)
	assert.Contains(t, th.LagBasis, "median_ms's Acceptable bound, 200 ms")

	tight := target.Default()
	tight.Metrics["p95_ms"] = target.Bounds{Target: 1, Acceptable: 2, Poor: 3}
	assert.Equal(t, race*200*time.Microsecond, generatorThresholds(tight, seedGate, timespan{}).MaxLagP99, "a 2 ms bound: 0.2 ms")

	set := generatorThresholds(target.Default(), seedGate, timespan{d: 7 * time.Millisecond, set: true})
	assert.Equal(t, 7*time.Millisecond, set.MaxLagP99, "-max-lag overrides")
	assert.Equal(t, "-max-lag", set.LagBasis)
	assert.Zero(t, generatorThresholds(target.Default(), seedGate, timespan{set: true}).MaxLagP99, "-max-lag 0: off")
}

// TestGeneratorVerdictHostPause: lag that a host pause the sentinel saw
// accounts for does not make the run inconclusive; the pause is reported with
// its length and when it happened. Without the pause the same lag does.
func TestGeneratorVerdictHostPause(t *testing.T) {
	p := plan{Model: model{Kind: modelUsers, Clock: clockService,
		Thresholds: generatorThresholds(target.Default(), target.Gate{Metrics: defaultGate}, timespan{d: 10 * time.Millisecond, set: true})}}
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
