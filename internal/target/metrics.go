package target

// metricDef describes one supported metric; metricDefs is the one list to extend.
type metricDef struct {
	name         string
	unit         string  // printed after values: "ms", "%", "req/s"
	higherBetter bool    // false: lower is better
	max          float64 // largest meaningful value, 0 = unbounded
	inherit      bool    // endpoints without an override use the aggregate bounds
}

// metricDefs is in table order: Evaluate reports metrics in this order.
var metricDefs = []metricDef{
	{name: "median_ms", unit: "ms", inherit: true},
	{name: "p95_ms", unit: "ms", inherit: true},
	{name: "p99_ms", unit: "ms", inherit: true},
	{name: "avg_ms", unit: "ms", inherit: true},
	{name: "failure_rate_pct", unit: "%", max: 100, inherit: true},
	// rps is per-instance throughput; an endpoint's share of it is not comparable.
	{name: "rps", unit: "req/s", higherBetter: true},
}

// lookupMetric returns the definition of a metric name.
func lookupMetric(name string) (metricDef, bool) {
	for _, d := range metricDefs {
		if d.name == name {
			return d, true
		}
	}
	return metricDef{}, false
}

// MetricNames returns the supported metric names in table order.
func MetricNames() []string {
	names := make([]string, len(metricDefs))
	for i, d := range metricDefs {
		names[i] = d.name
	}
	return names
}

// Unit returns the unit a metric is measured in ("ms", "%", "req/s"), or "" for an unknown metric.
func Unit(metric string) string {
	d, _ := lookupMetric(metric)
	return d.unit
}

// HigherIsBetter reports whether larger values of the metric are better (rps).
func HigherIsBetter(metric string) bool {
	d, _ := lookupMetric(metric)
	return d.higherBetter
}
