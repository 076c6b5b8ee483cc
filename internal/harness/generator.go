package harness

import (
	"fmt"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
)

// judgeGenerator turns the runner's schedule lag, the Go runtime's figures and
// the open model's drops into the generator's saturation verdict.
func judgeGenerator(p Plan, sum runner.Summary, lag *saturation.Lag, rt saturation.Runtime) runfile.Generator {
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
	if g.Model == ModelArrivals && d > 0 {
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
