package saturation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/xagent/perfharness/internal/target"
)

func TestTightestBound(t *testing.T) {
	ms := func(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }
	seed := target.Default() // median 100/200/500, p95 500/1000/2000, alert avg 500
	gate := func(g target.Grade, metrics ...string) target.Gate {
		return target.Gate{Metrics: metrics, MinGrade: g}
	}
	withEndpoint := target.Default()
	withEndpoint.Endpoints = map[string]map[string]target.Bounds{
		"GET /b": {"p95_ms": {Target: 20, Acceptable: 50, Poor: 90}},
		"GET /a": {"p95_ms": {Target: 20, Acceptable: 50, Poor: 90}, "failure_rate_pct": {Target: 0.01, Acceptable: 0.02, Poor: 0.03}},
	}
	noAlert := target.Default()
	noAlert.Alerts.MaxAvgMS = 0
	zero := target.Default()
	zero.Alerts.MaxAvgMS = 0
	zero.Metrics["median_ms"] = target.Bounds{}

	for _, tc := range []struct {
		name  string
		table target.Table
		gate  target.Gate
		want  Bound
		ok    bool
	}{
		{"the seed's gate: median at Acceptable", seed, gate(0, "median_ms", "p95_ms", "failure_rate_pct"),
			Bound{Metric: "median_ms", Grade: target.GradeAcceptable, Value: ms(200)}, true},
		{"min grade Target", seed, gate(target.GradeTarget, "median_ms", "p95_ms"),
			Bound{Metric: "median_ms", Grade: target.GradeTarget, Value: ms(100)}, true},
		{"min grade Needs investigation: the bound before the alert on a tie", seed, gate(target.GradeNeedsInvestigation, "median_ms"),
			Bound{Metric: "median_ms", Grade: target.GradeNeedsInvestigation, Value: ms(500)}, true},
		{"min grade Poor passes every latency: the alert is left", seed, gate(target.GradePoor, "median_ms"),
			Bound{Metric: "max_avg_ms", Value: ms(500)}, true},
		{"only failures gated: the alert", seed, gate(0, "failure_rate_pct"), Bound{Metric: "max_avg_ms", Value: ms(500)}, true},
		{"nothing to protect", noAlert, gate(0, "failure_rate_pct", "rps"), Bound{}, false},
		{"an ungated latency metric does not count", noAlert, gate(0, "p95_ms"),
			Bound{Metric: "p95_ms", Grade: target.GradeAcceptable, Value: ms(1000)}, true},
		{"a gated endpoint override, first by name", withEndpoint, gate(0, "median_ms", "p95_ms"),
			Bound{Metric: "p95_ms", Endpoint: "GET /a", Grade: target.GradeAcceptable, Value: ms(50)}, true},
		{"zero bounds are ignored", zero, gate(0, "median_ms"), Bound{}, false},
		{"an invalid grade reads as Acceptable", seed, gate(target.Grade(9), "median_ms"),
			Bound{Metric: "median_ms", Grade: target.GradeAcceptable, Value: ms(200)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := TightestBound(tc.table, tc.gate)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBoundString(t *testing.T) {
	assert.Equal(t, "median_ms's Acceptable bound, 200 ms", Bound{Metric: "median_ms", Grade: target.GradeAcceptable, Value: 200 * time.Millisecond}.String())
	assert.Equal(t, "GET /a p95_ms's Target bound, 20.0 ms", Bound{Metric: "p95_ms", Endpoint: "GET /a", Grade: target.GradeTarget, Value: 20 * time.Millisecond}.String())
	assert.Equal(t, "the max_avg_ms alert, 500 ms", Bound{Metric: "max_avg_ms", Value: 500 * time.Millisecond}.String())
}

func TestThresholdsFor(t *testing.T) {
	b := Bound{Metric: "median_ms", Grade: target.GradeAcceptable, Value: 200 * time.Millisecond}
	th := ThresholdsFor(b, true)
	want := DefaultThresholds()
	factor := time.Duration(1)
	if raceEnabled {
		factor = RaceFactor
	}
	want.MaxLagP99, want.MaxSchedP99 = factor*20*time.Millisecond, factor*40*time.Millisecond
	assert.Equal(t, want.MaxLagP99, th.MaxLagP99, "10% of the bound")
	assert.Equal(t, want.MaxSchedP99, th.MaxSchedP99, "20% of the bound")
	assert.Equal(t, want.MaxCPUPct, th.MaxCPUPct)
	assert.Equal(t, want.MaxDroppedPct, th.MaxDroppedPct)
	assert.Contains(t, th.LagBasis, "10% of median_ms's Acceptable bound, 200 ms, the tightest gated latency bound")
	assert.Contains(t, th.SchedBasis, "20% of median_ms's Acceptable bound, 200 ms")

	none := ThresholdsFor(Bound{}, false)
	assert.Equal(t, DefaultThresholds().MaxLagP99, none.MaxLagP99)
	assert.Equal(t, DefaultThresholds().MaxSchedP99, none.MaxSchedP99)
	assert.Contains(t, none.LagBasis, "the default: no latency metric is gated")
}
