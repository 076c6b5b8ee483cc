package target

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verdicts reduces checks to "endpoint metric grade pass" lines for comparison.
type verdictLine struct {
	Endpoint, Metric string
	Grade            Grade
	Gated, Pass      bool
}

func lines(checks []Check) []verdictLine {
	out := make([]verdictLine, len(checks))
	for i, c := range checks {
		out[i] = verdictLine{c.Endpoint, c.Metric, c.Grade, c.Gated, c.Pass}
	}
	return out
}

func TestEvaluateGating(t *testing.T) {
	t.Parallel()
	// median Acceptable, p95 Poor, failure rate Needs investigation, rps Target.
	agg := Values{"rps": 150, "p95_ms": 2500, "median_ms": 150, "failure_rate_pct": 3}
	cases := []struct {
		name string
		gate Gate
		want []verdictLine
	}{
		{"nothing gated: Poor passes", Gate{}, []verdictLine{
			{"", "median_ms", GradeAcceptable, false, true},
			{"", "p95_ms", GradePoor, false, true},
			{"", "failure_rate_pct", GradeNeedsInvestigation, false, true},
			{"", "rps", GradeTarget, false, true},
		}},
		{"gated Poor fails, default Acceptable", Gate{Metrics: []string{"p95_ms", "median_ms"}}, []verdictLine{
			{"", "median_ms", GradeAcceptable, true, true},
			{"", "p95_ms", GradePoor, true, false},
			{"", "failure_rate_pct", GradeNeedsInvestigation, false, true},
			{"", "rps", GradeTarget, false, true},
		}},
		{"default gate fails Needs investigation", Gate{Metrics: []string{"failure_rate_pct"}}, []verdictLine{
			{"", "median_ms", GradeAcceptable, false, true},
			{"", "p95_ms", GradePoor, false, true},
			{"", "failure_rate_pct", GradeNeedsInvestigation, true, false},
			{"", "rps", GradeTarget, false, true},
		}},
		{"MinGrade Target fails Acceptable", Gate{Metrics: []string{"median_ms", "rps"}, MinGrade: GradeTarget}, []verdictLine{
			{"", "median_ms", GradeAcceptable, true, false},
			{"", "p95_ms", GradePoor, false, true},
			{"", "failure_rate_pct", GradeNeedsInvestigation, false, true},
			{"", "rps", GradeTarget, true, true},
		}},
		{"MinGrade Needs investigation", Gate{Metrics: MetricNames(), MinGrade: GradeNeedsInvestigation}, []verdictLine{
			{"", "median_ms", GradeAcceptable, true, true},
			{"", "p95_ms", GradePoor, true, false},
			{"", "failure_rate_pct", GradeNeedsInvestigation, true, true},
			{"", "rps", GradeTarget, true, true},
			// Default has no p99_ms or avg_ms bounds: a gate on them cannot work.
			{"", "p99_ms", 0, true, false},
			{"", "avg_ms", 0, true, false},
		}},
		{"MinGrade Poor passes everything", Gate{Metrics: []string{"p95_ms"}, MinGrade: GradePoor}, []verdictLine{
			{"", "median_ms", GradeAcceptable, false, true},
			{"", "p95_ms", GradePoor, true, true},
			{"", "failure_rate_pct", GradeNeedsInvestigation, false, true},
			{"", "rps", GradeTarget, false, true},
		}},
		{"invalid MinGrade fails gated checks", Gate{Metrics: []string{"rps"}, MinGrade: 9}, []verdictLine{
			{"", "median_ms", GradeAcceptable, false, true},
			{"", "p95_ms", GradePoor, false, true},
			{"", "failure_rate_pct", GradeNeedsInvestigation, false, true},
			{"", "rps", GradeTarget, true, false},
		}},
		{"unknown gated metric fails", Gate{Metrics: []string{"p90_ms", "p90_ms"}}, []verdictLine{
			{"", "median_ms", GradeAcceptable, false, true},
			{"", "p95_ms", GradePoor, false, true},
			{"", "failure_rate_pct", GradeNeedsInvestigation, false, true},
			{"", "rps", GradeTarget, false, true},
			{"", "p90_ms", 0, true, false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, c.want, lines(Default().Evaluate(agg, nil, c.gate)))
		})
	}
}

func TestEvaluateSkipsMissingAndUnboundedMetrics(t *testing.T) {
	t.Parallel()
	// p99_ms has no bounds in Default; avg_ms is absent from the values; "count" is not a metric.
	checks := Default().Evaluate(Values{"p99_ms": 1e6, "rps": 10, "count": 3}, nil, Gate{Metrics: []string{"median_ms"}})
	assert.Equal(t, []verdictLine{{"", "rps", GradePoor, false, true}}, lines(checks))
	assert.Empty(t, Default().Evaluate(nil, nil, Gate{}))
}

func TestEvaluateEndpoints(t *testing.T) {
	t.Parallel()
	table, err := Load("testdata/overrides.json")
	require.NoError(t, err)
	agg := Values{"p95_ms": 600, "rps": 60}
	endpoints := map[string]Values{
		"POST /chat (auth)": {"median_ms": 2500, "rps": 8.3},
		"GET /status":       {"p95_ms": 150, "median_ms": 40, "rps": 8.3},
		"GET /health":       {"p95_ms": 150, "failure_rate_pct": 0, "rps": 8.3},
	}
	checks := table.Evaluate(agg, endpoints, Gate{Metrics: []string{"p95_ms", "median_ms"}})
	assert.Equal(t, []verdictLine{
		{"", "p95_ms", GradeAcceptable, true, true},
		{"", "rps", GradeAcceptable, false, true},
		// Endpoints sorted; rps only where overridden; others inherit the aggregate
		// bounds, and are gated only where the table overrides them.
		{"GET /health", "p95_ms", GradeTarget, false, true},
		{"GET /health", "failure_rate_pct", GradeTarget, false, true},
		{"GET /status", "median_ms", GradeTarget, false, true},
		{"GET /status", "p95_ms", GradeNeedsInvestigation, true, false},
		{"POST /chat (auth)", "median_ms", GradeAcceptable, true, true},
		{"POST /chat (auth)", "rps", GradeAcceptable, false, true},
	}, lines(checks))
	assert.Equal(t, Bounds{Target: 50, Acceptable: 100, Poor: 200}, checks[5].Bounds)
	assert.Equal(t, table.Metrics["p95_ms"], checks[2].Bounds)
	assert.Equal(t, "GET /status: p95_ms = 150 ms is Needs investigation (override: Needs investigation from 100 to 200 ms; gate requires Acceptable: < 100 ms)", checks[5].Message)
	assert.Equal(t, "GET /health: p95_ms = 150 ms is Target (Target below 500 ms; not gated)", checks[2].Message)

	// AllEndpoints gates inherited bounds too.
	all := table.Evaluate(nil, map[string]Values{"GET /health": {"p95_ms": 1500}}, Gate{Metrics: []string{"p95_ms"}, AllEndpoints: true})
	assert.Equal(t, []verdictLine{{"GET /health", "p95_ms", GradeNeedsInvestigation, true, false}}, lines(all))
	assert.Equal(t, "GET /health: p95_ms = 1500 ms is Needs investigation (Needs investigation from 1000 to 2000 ms; gate requires Acceptable: < 1000 ms)", all[0].Message)

	// A gate on a metric only an endpoint override bounds is valid.
	checks = table.Evaluate(nil, map[string]Values{"GET /status": {"p95_ms": 20}}, Gate{Metrics: []string{"p95_ms"}})
	assert.Equal(t, []verdictLine{{"GET /status", "p95_ms", GradeTarget, true, true}}, lines(checks))
}

func TestEvaluateNaNAndNegative(t *testing.T) {
	t.Parallel()
	checks := Default().Evaluate(
		Values{"median_ms": math.NaN(), "p95_ms": -1},
		map[string]Values{"GET /x": {"failure_rate_pct": math.NaN()}},
		Gate{Metrics: []string{"p95_ms"}})
	require.Len(t, checks, 3)
	for _, c := range checks {
		assert.False(t, c.Pass, c.Message)
		assert.Equal(t, GradePoor, c.Grade)
	}
	assert.Equal(t, "median_ms is NaN (not a number): cannot be graded, counted as Poor", checks[0].Message)
	assert.Equal(t, "p95_ms = -1 ms is negative: cannot be graded, counted as Poor", checks[1].Message)
	assert.Equal(t, "GET /x: failure_rate_pct is NaN (not a number): cannot be graded, counted as Poor", checks[2].Message)
}

func TestCheckMessages(t *testing.T) {
	t.Parallel()
	table := fullTable()
	cases := []struct {
		name   string
		metric string
		v      float64
		gate   Gate
		want   string
		pass   bool
	}{
		{"gated Poor", "p95_ms", 2345.5, Gate{Metrics: []string{"p95_ms"}},
			"p95_ms = 2345.5 ms is Poor (Poor above 2000 ms; gate requires Acceptable: < 1000 ms)", false},
		{"gated Needs investigation", "p95_ms", 1234.5, Gate{Metrics: []string{"p95_ms"}},
			"p95_ms = 1234.5 ms is Needs investigation (Needs investigation from 1000 to 2000 ms; gate requires Acceptable: < 1000 ms)", false},
		{"gated pass rounds", "median_ms", 123.456789, Gate{Metrics: []string{"median_ms"}},
			"median_ms = 123.457 ms is Acceptable (Acceptable from 100 to below 200 ms; gate requires Acceptable: < 200 ms)", true},
		{"MinGrade Target", "median_ms", 150, Gate{Metrics: []string{"median_ms"}, MinGrade: GradeTarget},
			"median_ms = 150 ms is Acceptable (Acceptable from 100 to below 200 ms; gate requires Target: < 100 ms)", false},
		{"MinGrade Needs investigation", "median_ms", 600, Gate{Metrics: []string{"median_ms"}, MinGrade: GradeNeedsInvestigation},
			"median_ms = 600 ms is Poor (Poor above 500 ms; gate requires Needs investigation: <= 500 ms)", false},
		{"MinGrade Poor", "median_ms", 600, Gate{Metrics: []string{"median_ms"}, MinGrade: GradePoor},
			"median_ms = 600 ms is Poor (Poor above 500 ms; gate requires Poor: any value)", true},
		{"not gated", "avg_ms", 250, Gate{},
			"avg_ms = 250 ms is Acceptable (Acceptable from 200 to below 400 ms; not gated)", true},
		{"rounding would cross the bound", "median_ms", 500.0001, Gate{Metrics: []string{"median_ms"}},
			"median_ms = 500.0001 ms is Poor (Poor above 500 ms; gate requires Acceptable: < 200 ms)", false},
		{"rounding would cross the target", "median_ms", 99.99999, Gate{},
			"median_ms = 99.99999 ms is Target (Target below 100 ms; not gated)", true},
		{"failure rate percent", "failure_rate_pct", 8.75, Gate{Metrics: []string{"failure_rate_pct"}},
			"failure_rate_pct = 8.75% is Poor (Poor above 5%; gate requires Acceptable: < 2%)", false},
		{"failure rate target", "failure_rate_pct", 0.17, Gate{},
			"failure_rate_pct = 0.17% is Target (Target below 0.5%; not gated)", true},
		{"rps Poor", "rps", 8.333333333, Gate{Metrics: []string{"rps"}},
			"rps = 8.333 req/s is Poor (Poor below 20 req/s; gate requires Acceptable: > 50 req/s)", false},
		{"rps Needs investigation", "rps", 33.3, Gate{Metrics: []string{"rps"}, MinGrade: GradeNeedsInvestigation},
			"rps = 33.3 req/s is Needs investigation (Needs investigation from 20 to 50 req/s; gate requires Needs investigation: >= 20 req/s)", true},
		{"rps Acceptable", "rps", 75, Gate{Metrics: []string{"rps"}, MinGrade: GradeTarget},
			"rps = 75 req/s is Acceptable (Acceptable above 50 up to 100 req/s; gate requires Target: > 100 req/s)", false},
		{"rps Target", "rps", 120, Gate{},
			"rps = 120 req/s is Target (Target above 100 req/s; not gated)", true},
		{"invalid gate grade", "rps", 120, Gate{Metrics: []string{"rps"}, MinGrade: -1},
			"rps = 120 req/s is Target (Target above 100 req/s; gate minimum grade Grade(-1) is invalid)", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checks := table.Evaluate(Values{c.metric: c.v}, nil, c.gate)
			require.Len(t, checks, 1)
			assert.Equal(t, c.want, checks[0].Message)
			assert.Equal(t, c.pass, checks[0].Pass)
			assert.Equal(t, c.v, checks[0].Value)
		})
	}
}

func TestGateProblemMessages(t *testing.T) {
	t.Parallel()
	checks := Default().Evaluate(nil, nil, Gate{Metrics: []string{"p99_ms", "P95"}})
	require.Len(t, checks, 2)
	assert.Equal(t, "gate names p99_ms but the target table has no bounds for it", checks[0].Message)
	assert.Equal(t, `gate names unknown metric "P95" (supported: median_ms, p95_ms, p99_ms, avg_ms, failure_rate_pct, rps)`, checks[1].Message)
}

func TestCheckAlerts(t *testing.T) {
	t.Parallel()
	type result struct {
		Name  string
		Fired bool
	}
	cases := []struct {
		name         string
		alerts       Alerts
		failPct, avg float64
		want         []result
		messages     []string
	}{
		{"at the limits", Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500}, 5, 500,
			[]result{{"max_failure_rate_pct", false}, {"max_avg_ms", false}},
			[]string{"failure rate 5% is within the 5% limit (max_failure_rate_pct)", "average response time 500 ms is within the 500 ms limit (max_avg_ms)"}},
		{"just above the limits", Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500}, 5.01, 500.1,
			[]result{{"max_failure_rate_pct", true}, {"max_avg_ms", true}},
			[]string{"failure rate 5.01% exceeds the 5% limit (max_failure_rate_pct)", "average response time 500.1 ms exceeds the 500 ms limit (max_avg_ms)"}},
		{"one float step above", Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500}, above(5), above(500),
			[]result{{"max_failure_rate_pct", true}, {"max_avg_ms", true}},
			[]string{"failure rate 5.000000000000001% exceeds the 5% limit (max_failure_rate_pct)", "average response time 500.00000000000006 ms exceeds the 500 ms limit (max_avg_ms)"}},
		{"seed's poor example", Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500}, 8.75, 2100,
			[]result{{"max_failure_rate_pct", true}, {"max_avg_ms", true}},
			nil},
		{"seed's good example", Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500}, 0.17, 47,
			[]result{{"max_failure_rate_pct", false}, {"max_avg_ms", false}},
			nil},
		{"NaN and negative fire", Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500}, math.NaN(), -1,
			[]result{{"max_failure_rate_pct", true}, {"max_avg_ms", true}},
			[]string{"failure rate is NaN (not a number): cannot check the 5% limit (max_failure_rate_pct)", "average response time -1 ms is negative: cannot check the 500 ms limit (max_avg_ms)"}},
		{"zero limits are off", Alerts{}, 100, 1e9, nil, nil},
		{"only avg on", Alerts{MaxAvgMS: 500}, 100, 499,
			[]result{{"max_avg_ms", false}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			table := Default()
			table.Alerts = c.alerts
			got := table.CheckAlerts(c.failPct, c.avg)
			var rs []result
			var msgs []string
			for _, r := range got {
				rs = append(rs, result{r.Name, r.Fired})
				msgs = append(msgs, r.Message)
				switch r.Name {
				case "max_failure_rate_pct":
					assert.Equal(t, c.alerts.MaxFailureRatePct, r.Limit)
				case "max_avg_ms":
					assert.Equal(t, c.alerts.MaxAvgMS, r.Limit)
				}
			}
			assert.Equal(t, c.want, rs)
			if c.messages != nil {
				assert.Equal(t, c.messages, msgs)
			}
		})
	}
}
