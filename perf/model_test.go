package perf

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/shape"
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

// resolveModel applies -rate, -max-inflight, -shape and -clock to p.
func resolveModel(p *plan, sc loadScenario) error {
	m := model{Kind: modelUsers, MaxInFlight: *flagMaxInFlight, Thresholds: saturation.DefaultThresholds()}
	m.Thresholds.MaxLagP99 = flagMaxLag.orDefault(m.Thresholds.MaxLagP99)
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
// the open model's drops into the generator's saturation verdict.
func judgeGenerator(p plan, sum runner.Summary, lag *saturation.Lag, rt saturation.Runtime) runfile.Generator {
	in := saturation.Input{Lag: lag.Snapshot(), Runtime: rt, Iterations: sum.Iterations, Dropped: sum.Dropped}
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
	return b.String()
}
