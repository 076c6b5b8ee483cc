package target

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Values maps a metric name to its measured value, in the metric's unit.
type Values map[string]float64

// Gate says which metrics can fail a run and the lowest grade that passes.
type Gate struct {
	// Metrics are the gated metric names; checks of other metrics always pass.
	Metrics []string
	// MinGrade is the lowest passing grade; zero means GradeAcceptable.
	MinGrade Grade
	// AllEndpoints gates every endpoint on the aggregate bounds too; by default
	// an endpoint is gated only on the metrics the table overrides for it, as the
	// seed's targets describe the whole API, not each endpoint.
	AllEndpoints bool
}

// Check is one graded metric of the aggregate or of one endpoint.
type Check struct {
	// Endpoint is the stats entry name, or "" for the aggregate.
	Endpoint string `json:"endpoint"`
	// Metric is the metric name, e.g. "p95_ms".
	Metric string `json:"metric"`
	// Value is the measured value in the metric's unit.
	Value float64 `json:"value"`
	// Grade is the value's grade (GradePoor for a value that cannot be graded).
	Grade Grade `json:"grade"`
	// Bounds are the bounds the value was graded against.
	Bounds Bounds `json:"bounds"`
	// Gated says whether the gate covers this metric.
	Gated bool `json:"gated"`
	// Pass is false for a gated check worse than the gate's grade, a value that
	// cannot be graded (NaN, negative) and a gate the table cannot apply.
	Pass bool `json:"pass"`
	// Message describes the check in one line, for printing and for failures.
	Message string `json:"message"`
}

// Evaluate grades every metric present in both the values and the table:
// aggregate checks first in table order, then endpoints sorted by name, each in
// table order. Metrics missing from the values are skipped. Ungated checks
// pass, except a NaN or negative value, which always fails; a gated metric the
// table cannot grade at all yields a failing check at the end.
func (t Table) Evaluate(agg Values, endpoints map[string]Values, gate Gate) []Check {
	gated := map[string]bool{}
	for _, m := range gate.Metrics {
		gated[m] = true
	}
	minGrade := gate.MinGrade
	if minGrade == 0 {
		minGrade = GradeAcceptable
	}
	var checks []Check
	for _, d := range metricDefs {
		b, ok := t.Metrics[d.name]
		v, has := agg[d.name]
		if ok && has {
			checks = append(checks, newCheck("", d, b, false, v, gated[d.name], minGrade))
		}
	}
	names := make([]string, 0, len(endpoints))
	for name := range endpoints {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, ep := range names {
		for _, d := range metricDefs {
			v, has := endpoints[ep][d.name]
			if !has {
				continue
			}
			if _, b, override, ok := t.endpointBounds(ep, d.name); ok {
				g := gated[d.name] && (override || gate.AllEndpoints)
				checks = append(checks, newCheck(ep, d, b, override, v, g, minGrade))
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range gate.Metrics {
		if seen[m] {
			continue
		}
		seen[m] = true
		if problem := t.gateProblem(m); problem != "" {
			checks = append(checks, Check{Metric: m, Gated: true, Message: problem})
		}
	}
	return checks
}

// gateProblem says why a gated metric can never be graded, or "".
func (t Table) gateProblem(metric string) string {
	if _, ok := lookupMetric(metric); !ok {
		return fmt.Sprintf("gate names unknown metric %q (supported: %s)", metric, strings.Join(MetricNames(), ", "))
	}
	if _, ok := t.Metrics[metric]; ok {
		return ""
	}
	for _, m := range t.Endpoints {
		if _, ok := m[metric]; ok {
			return ""
		}
	}
	return fmt.Sprintf("gate names %s but the target table has no bounds for it", metric)
}

// newCheck grades one value and writes its message.
func newCheck(endpoint string, d metricDef, b Bounds, override bool, v float64, gated bool, minGrade Grade) Check {
	c := Check{Endpoint: endpoint, Metric: d.name, Value: v, Bounds: b, Gated: gated}
	prefix := ""
	if endpoint != "" {
		prefix = endpoint + ": "
	}
	g, err := grade(d, b, v)
	if err != nil {
		c.Grade = GradePoor
		what := "is NaN (not a number)"
		if !math.IsNaN(v) {
			what = "= " + withUnit(strconv.FormatFloat(v, 'f', -1, 64), d.unit) + " is negative"
		}
		c.Message = fmt.Sprintf("%s%s %s: cannot be graded, counted as Poor", prefix, d.name, what)
		return c
	}
	c.Grade = g
	var gatePart string
	switch {
	case !gated:
		c.Pass = true
		gatePart = "not gated"
	case !minGrade.Valid():
		gatePart = fmt.Sprintf("gate minimum grade %v is invalid", minGrade)
	default:
		c.Pass = g <= minGrade
		gatePart = fmt.Sprintf("gate requires %v: %s", minGrade, requirement(d, b, minGrade))
	}
	rangePart := gradeRange(d, b, g)
	if override {
		rangePart = "override: " + rangePart
	}
	shown := fmtValue(v, func(x float64) bool { gx, _ := grade(d, b, x); return gx == g })
	c.Message = fmt.Sprintf("%s%s = %s is %v (%s; %s)", prefix, d.name, withUnit(shown, d.unit), g, rangePart, gatePart)
	return c
}

// gradeRange describes the values that earn grade g, e.g. "Poor above 2000 ms".
func gradeRange(d metricDef, b Bounds, g Grade) string {
	t, a, p := fmtNum(b.Target), fmtNum(b.Acceptable), fmtNum(b.Poor)
	if d.higherBetter {
		switch g {
		case GradeTarget:
			return "Target above " + withUnit(t, d.unit)
		case GradeAcceptable:
			return "Acceptable above " + a + " up to " + withUnit(t, d.unit)
		case GradeNeedsInvestigation:
			return "Needs investigation from " + p + " to " + withUnit(a, d.unit)
		}
		return "Poor below " + withUnit(p, d.unit)
	}
	switch g {
	case GradeTarget:
		return "Target below " + withUnit(t, d.unit)
	case GradeAcceptable:
		return "Acceptable from " + t + " to below " + withUnit(a, d.unit)
	case GradeNeedsInvestigation:
		return "Needs investigation from " + a + " to " + withUnit(p, d.unit)
	}
	return "Poor above " + withUnit(p, d.unit)
}

// requirement describes the values that reach grade g or better, e.g. "< 1000 ms".
func requirement(d metricDef, b Bounds, g Grade) string {
	ops, bound := [3]string{"< ", "< ", "<= "}, [3]float64{b.Target, b.Acceptable, b.Poor}
	if d.higherBetter {
		ops = [3]string{"> ", "> ", ">= "}
	}
	if g == GradePoor {
		return "any value"
	}
	i := int(g - GradeTarget)
	return ops[i] + withUnit(fmtNum(bound[i]), d.unit)
}

// AlertResult is the outcome of one enabled alert.
type AlertResult struct {
	// Name is the alert's field name in the table file, e.g. "max_avg_ms".
	Name string `json:"name"`
	// Value is the measured value; Limit is the configured limit.
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	// Fired is true when Value exceeds Limit, or cannot be compared (NaN, negative).
	Fired bool `json:"fired"`
	// Message describes the result in one line.
	Message string `json:"message"`
}

// CheckAlerts checks the aggregate failure rate (percent) and average response
// time (ms) against the enabled alerts, in that order; an alert fires only above
// its limit, so a value equal to the limit passes.
func (t Table) CheckAlerts(failureRatePct, avgMS float64) []AlertResult {
	var out []AlertResult
	if t.Alerts.MaxFailureRatePct > 0 {
		out = append(out, alert("max_failure_rate_pct", "failure rate", "%", failureRatePct, t.Alerts.MaxFailureRatePct))
	}
	if t.Alerts.MaxAvgMS > 0 {
		out = append(out, alert("max_avg_ms", "average response time", "ms", avgMS, t.Alerts.MaxAvgMS))
	}
	return out
}

// alert evaluates one limit.
func alert(name, what, unit string, v, limit float64) AlertResult {
	r := AlertResult{Name: name, Value: v, Limit: limit}
	lim := withUnit(fmtNum(limit), unit)
	switch {
	case math.IsNaN(v):
		r.Fired = true
		r.Message = fmt.Sprintf("%s is NaN (not a number): cannot check the %s limit (%s)", what, lim, name)
	case v < 0:
		r.Fired = true
		r.Message = fmt.Sprintf("%s %s is negative: cannot check the %s limit (%s)", what, withUnit(fmtNum(v), unit), lim, name)
	case v > limit:
		r.Fired = true
		shown := fmtValue(v, func(x float64) bool { return x > limit })
		r.Message = fmt.Sprintf("%s %s exceeds the %s limit (%s)", what, withUnit(shown, unit), lim, name)
	default:
		shown := fmtValue(v, func(x float64) bool { return x <= limit })
		r.Message = fmt.Sprintf("%s %s is within the %s limit (%s)", what, withUnit(shown, unit), lim, name)
	}
	return r
}

// fmtValue prints v to at most three decimals, or in full when rounding would
// make it look like it falls on the other side of a bound (same reports that).
func fmtValue(v float64, same func(float64) bool) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	if r, err := strconv.ParseFloat(s, 64); err != nil || !same(r) {
		return fmtNum(v)
	}
	return s
}

// fmtNum prints a number in its shortest exact form.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// withUnit appends the unit: "12 ms", "12 req/s", but "12%".
func withUnit(s, unit string) string {
	if unit == "%" || unit == "" {
		return s + unit
	}
	return s + " " + unit
}
