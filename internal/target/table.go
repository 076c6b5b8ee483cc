package target

import (
	"fmt"
	"math"
	"strings"
)

// Bounds are one metric's three thresholds, in the metric's unit.
type Bounds struct {
	// Target is the bound a value must beat to grade Target.
	Target float64 `json:"target"`
	// Acceptable is the bound a value must beat to grade Acceptable.
	Acceptable float64 `json:"acceptable"`
	// Poor is the last value graded Needs investigation; beyond it is Poor.
	Poor float64 `json:"poor"`
}

// Table is a performance target table: aggregate bounds, alerts and per-endpoint overrides.
type Table struct {
	// Metrics maps a metric name to its aggregate bounds.
	Metrics map[string]Bounds `json:"metrics"`
	// Alerts are the run-failing limits on the aggregate.
	Alerts Alerts `json:"alerts"`
	// Endpoints maps a stats entry name ("GET /status") to metric overrides.
	Endpoints map[string]map[string]Bounds `json:"endpoints"`
}

// Alerts are limits that fail a run when exceeded; a zero limit is off.
type Alerts struct {
	// MaxFailureRatePct fires when the failure rate (percent) is above it.
	MaxFailureRatePct float64 `json:"max_failure_rate_pct"`
	// MaxAvgMS fires when the average response time (ms) is above it.
	MaxAvgMS float64 `json:"max_avg_ms"`
}

// Default returns the seed's target table, identical to fixtures/targets.json.
func Default() Table {
	return Table{
		Metrics: map[string]Bounds{
			"median_ms":        {Target: 100, Acceptable: 200, Poor: 500},
			"p95_ms":           {Target: 500, Acceptable: 1000, Poor: 2000},
			"failure_rate_pct": {Target: 0.5, Acceptable: 2, Poor: 5},
			"rps":              {Target: 100, Acceptable: 50, Poor: 20},
		},
		Alerts:    Alerts{MaxFailureRatePct: 5, MaxAvgMS: 500},
		Endpoints: map[string]map[string]Bounds{},
	}
}

// Grade grades v for metric against the aggregate bounds; it fails for an
// unknown metric, a metric without bounds, and a NaN or negative value.
func (t Table) Grade(metric string, v float64) (Grade, Bounds, error) {
	d, ok := lookupMetric(metric)
	if !ok {
		return 0, Bounds{}, fmt.Errorf("grade %s: unknown metric (supported: %s)", metric, strings.Join(MetricNames(), ", "))
	}
	b, ok := t.Metrics[metric]
	if !ok {
		return 0, Bounds{}, fmt.Errorf("grade %s: the target table has no bounds for it", metric)
	}
	g, err := grade(d, b, v)
	return g, b, err
}

// GradeEndpoint grades v for metric on one endpoint, with the endpoint's
// override if present and otherwise the aggregate bounds (never for rps); ok
// is false when there are no bounds or v is NaN or negative.
func (t Table) GradeEndpoint(endpoint, metric string, v float64) (Grade, Bounds, bool) {
	d, b, _, ok := t.endpointBounds(endpoint, metric)
	if !ok {
		return 0, Bounds{}, false
	}
	g, err := grade(d, b, v)
	if err != nil {
		return 0, b, false
	}
	return g, b, true
}

// endpointBounds finds the bounds for metric on endpoint; override says
// whether they come from the endpoint's own entry.
func (t Table) endpointBounds(endpoint, metric string) (d metricDef, b Bounds, override, ok bool) {
	d, ok = lookupMetric(metric)
	if !ok {
		return d, Bounds{}, false, false
	}
	if b, ok = t.Endpoints[endpoint][metric]; ok {
		return d, b, true, true
	}
	if !d.inherit {
		return d, Bounds{}, false, false
	}
	b, ok = t.Metrics[metric]
	return d, b, false, ok
}

// grade applies the boundary rules documented on the package.
func grade(d metricDef, b Bounds, v float64) (Grade, error) {
	if math.IsNaN(v) {
		return 0, fmt.Errorf("grade %s: value is NaN (not a number)", d.name)
	}
	if v < 0 {
		return 0, fmt.Errorf("grade %s: value %v is negative", d.name, v)
	}
	if d.higherBetter {
		switch {
		case v > b.Target:
			return GradeTarget, nil
		case v > b.Acceptable:
			return GradeAcceptable, nil
		case v >= b.Poor:
			return GradeNeedsInvestigation, nil
		}
		return GradePoor, nil
	}
	switch {
	case v < b.Target:
		return GradeTarget, nil
	case v < b.Acceptable:
		return GradeAcceptable, nil
	case v <= b.Poor:
		return GradeNeedsInvestigation, nil
	}
	return GradePoor, nil
}
