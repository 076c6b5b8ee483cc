package target

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullTable is Default plus bounds for the metrics the seed's table lacks.
func fullTable() Table {
	t := Default()
	t.Metrics["p99_ms"] = Bounds{Target: 1000, Acceptable: 2000, Poor: 4000}
	t.Metrics["avg_ms"] = Bounds{Target: 200, Acceptable: 400, Poor: 800}
	return t
}

func below(v float64) float64 { return math.Nextafter(v, math.Inf(-1)) }
func above(v float64) float64 { return math.Nextafter(v, math.Inf(1)) }

func TestGradeBoundaries(t *testing.T) {
	t.Parallel()
	table := fullTable()
	type tc struct {
		metric string
		v      float64
		want   Grade
	}
	// The seed's literal boundaries, written out.
	cases := []tc{
		{"median_ms", 0, GradeTarget},
		{"median_ms", 99.999, GradeTarget},
		{"median_ms", 100, GradeAcceptable},
		{"median_ms", 199.999, GradeAcceptable},
		{"median_ms", 200, GradeNeedsInvestigation},
		{"median_ms", 500, GradeNeedsInvestigation},
		{"median_ms", 500.001, GradePoor},
		{"p95_ms", 499.9, GradeTarget},
		{"p95_ms", 500, GradeAcceptable},
		{"p95_ms", 1000, GradeNeedsInvestigation},
		{"p95_ms", 2000, GradeNeedsInvestigation},
		{"p95_ms", 2000.5, GradePoor},
		{"failure_rate_pct", 0, GradeTarget},
		{"failure_rate_pct", 0.49, GradeTarget},
		{"failure_rate_pct", 0.5, GradeAcceptable},
		{"failure_rate_pct", 2, GradeNeedsInvestigation},
		{"failure_rate_pct", 5, GradeNeedsInvestigation},
		{"failure_rate_pct", 5.01, GradePoor},
		{"failure_rate_pct", 100, GradePoor},
		{"rps", 1e6, GradeTarget},
		{"rps", 100.01, GradeTarget},
		{"rps", 100, GradeAcceptable},
		{"rps", 50.01, GradeAcceptable},
		{"rps", 50, GradeNeedsInvestigation},
		{"rps", 20, GradeNeedsInvestigation},
		{"rps", 19.99, GradePoor},
		{"rps", 0, GradePoor},
	}
	// Every bound of every metric, at the bound and one float step either side.
	for _, d := range metricDefs {
		b := table.Metrics[d.name]
		if d.higherBetter {
			cases = append(cases,
				tc{d.name, math.Inf(1), GradeTarget},
				tc{d.name, above(b.Target), GradeTarget},
				tc{d.name, b.Target, GradeAcceptable},
				tc{d.name, above(b.Acceptable), GradeAcceptable},
				tc{d.name, b.Acceptable, GradeNeedsInvestigation},
				tc{d.name, above(b.Poor), GradeNeedsInvestigation},
				tc{d.name, b.Poor, GradeNeedsInvestigation},
				tc{d.name, below(b.Poor), GradePoor},
				tc{d.name, 0, GradePoor},
			)
			continue
		}
		cases = append(cases,
			tc{d.name, 0, GradeTarget},
			tc{d.name, below(b.Target), GradeTarget},
			tc{d.name, b.Target, GradeAcceptable},
			tc{d.name, below(b.Acceptable), GradeAcceptable},
			tc{d.name, b.Acceptable, GradeNeedsInvestigation},
			tc{d.name, below(b.Poor), GradeNeedsInvestigation},
			tc{d.name, b.Poor, GradeNeedsInvestigation},
			tc{d.name, above(b.Poor), GradePoor},
			tc{d.name, math.Inf(1), GradePoor},
		)
	}
	for _, c := range cases {
		got, b, err := table.Grade(c.metric, c.v)
		require.NoError(t, err, "%s = %v", c.metric, c.v)
		assert.Equal(t, c.want, got, "%s = %v", c.metric, c.v)
		assert.Equal(t, table.Metrics[c.metric], b, "%s bounds", c.metric)
	}
}

func TestGradeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, metric string
		v            float64
		want         string
	}{
		{"unknown metric", "p90_ms", 1, "grade p90_ms: unknown metric (supported: median_ms, p95_ms, p99_ms, avg_ms, failure_rate_pct, rps)"},
		{"no bounds", "p99_ms", 1, "grade p99_ms: the target table has no bounds for it"},
		{"NaN", "p95_ms", math.NaN(), "grade p95_ms: value is NaN (not a number)"},
		{"negative", "rps", -1, "grade rps: value -1 is negative"},
		{"negative infinity", "median_ms", math.Inf(-1), "grade median_ms: value -Inf is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Default().Grade(c.metric, c.v)
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
		})
	}
}

func TestGradeEndpoint(t *testing.T) {
	t.Parallel()
	table, err := Load("testdata/overrides.json")
	require.NoError(t, err)
	status := Bounds{Target: 50, Acceptable: 100, Poor: 200}
	chatRPS := Bounds{Target: 10, Acceptable: 5, Poor: 1}
	cases := []struct {
		name, endpoint, metric string
		v                      float64
		want                   Grade
		bounds                 Bounds
		ok                     bool
	}{
		{"override p95", "GET /status", "p95_ms", 150, GradeNeedsInvestigation, status, true},
		{"override boundary", "GET /status", "p95_ms", 50, GradeAcceptable, status, true},
		{"override above poor", "GET /status", "p95_ms", 200.5, GradePoor, status, true},
		{"no override for metric falls back", "GET /status", "median_ms", 150, GradeAcceptable, table.Metrics["median_ms"], true},
		{"unknown endpoint falls back", "GET /other", "p95_ms", 150, GradeTarget, table.Metrics["p95_ms"], true},
		{"rps not inherited", "GET /status", "rps", 8.3, 0, Bounds{}, false},
		{"rps override", "POST /chat (auth)", "rps", 8.3, GradeAcceptable, chatRPS, true},
		{"rps override poor", "POST /chat (auth)", "rps", 0.5, GradePoor, chatRPS, true},
		{"unknown metric", "GET /status", "p90_ms", 1, 0, Bounds{}, false},
		{"metric without bounds", "GET /status", "avg_ms", 1, 0, Bounds{}, false},
		{"NaN", "GET /status", "p95_ms", math.NaN(), 0, status, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g, b, ok := table.GradeEndpoint(c.endpoint, c.metric, c.v)
			require.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, g)
			assert.Equal(t, c.bounds, b)
		})
	}
}

func TestGradeStringAndParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		g     Grade
		s     string
		texts []string
	}{
		{GradeTarget, "Target", []string{"target", "TARGET", " Target "}},
		{GradeAcceptable, "Acceptable", []string{"acceptable", "Acceptable"}},
		{GradeNeedsInvestigation, "Needs investigation", []string{"needs-investigation", "needs investigation", "Needs Investigation", "NEEDS-INVESTIGATION"}},
		{GradePoor, "Poor", []string{"poor", "pOOr"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.s, c.g.String())
		assert.True(t, c.g.Valid())
		for _, text := range c.texts {
			got, err := ParseGrade(text)
			require.NoError(t, err, text)
			assert.Equal(t, c.g, got, text)
		}
		b, err := json.Marshal(c.g)
		require.NoError(t, err)
		assert.Equal(t, `"`+c.s+`"`, string(b))
		var back Grade
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, c.g, back)
	}
	assert.Less(t, GradeTarget, GradeAcceptable)
	assert.Less(t, GradeAcceptable, GradeNeedsInvestigation)
	assert.Less(t, GradeNeedsInvestigation, GradePoor)
	assert.Equal(t, "Grade(0)", Grade(0).String())
	assert.False(t, Grade(0).Valid())
	assert.False(t, Grade(5).Valid())
	_, err := json.Marshal(Grade(0))
	require.Error(t, err)

	for _, bad := range []string{"", "good", "needs_investigation", "acceptable!"} {
		_, err := ParseGrade(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "want target, acceptable, needs-investigation or poor")
	}
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"median_ms", "p95_ms", "p99_ms", "avg_ms", "failure_rate_pct", "rps"}, MetricNames())
	assert.Equal(t, "ms", Unit("p99_ms"))
	assert.Equal(t, "%", Unit("failure_rate_pct"))
	assert.Equal(t, "req/s", Unit("rps"))
	assert.Equal(t, "", Unit("nope"))
	assert.True(t, HigherIsBetter("rps"))
	assert.False(t, HigherIsBetter("avg_ms"))
}
