package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xagent/perfharness/internal/stats"
)

// Metric names the collector exports (fixtures/grafana's dashboard uses them).
const (
	MetricUsers        = "perfharness_users"
	MetricTargetUsers  = "perfharness_target_users"
	MetricRequests     = "perfharness_requests_total"
	MetricFailures     = "perfharness_failures_total"
	MetricResponseTime = "perfharness_response_time_seconds"
	MetricRPS          = "perfharness_requests_per_second"
	MetricDropped      = "perfharness_dropped_iterations_total"
	MetricStartLagP99  = "perfharness_start_lag_p99_seconds"
	MetricSaturated    = "perfharness_generator_saturated"
	MetricRunState     = "perfharness_run_state"
)

// MetricNames lists the run metrics the collector exports.
func MetricNames() []string {
	return []string{MetricUsers, MetricTargetUsers, MetricRequests, MetricFailures, MetricResponseTime,
		MetricRPS, MetricDropped, MetricStartLagP99, MetricSaturated, MetricRunState}
}

// collector reads the controller on each scrape.
type collector struct {
	c                                             Controller
	users, target, requests, failures, respTime   *prometheus.Desc
	rps, dropped, lagP99, saturated, runStateDesc *prometheus.Desc
}

func newCollector(c Controller) *collector {
	entry := []string{"method", "name"}
	return &collector{
		c:        c,
		users:    prometheus.NewDesc(MetricUsers, "Users running now.", nil, nil),
		target:   prometheus.NewDesc(MetricTargetUsers, "Users the swarm is asked to run.", nil, nil),
		requests: prometheus.NewDesc(MetricRequests, "Requests completed per entry; restarts at a statistics reset.", entry, nil),
		failures: prometheus.NewDesc(MetricFailures, "Failed requests per entry; restarts at a statistics reset.", entry, nil),
		respTime: prometheus.NewDesc(MetricResponseTime,
			"Service time quantiles (sent to last byte) per entry since the run or the last reset; the aggregate is name=\"Aggregated\", method=\"\".",
			append(entry, "quantile"), nil),
		rps:       prometheus.NewDesc(MetricRPS, "Aggregate requests per second over the last series interval.", nil, nil),
		dropped:   prometheus.NewDesc(MetricDropped, "Open-model iterations dropped at the in-flight cap.", nil, nil),
		lagP99:    prometheus.NewDesc(MetricStartLagP99, "99th percentile of how late tasks started against their schedule.", nil, nil),
		saturated: prometheus.NewDesc(MetricSaturated, "1 when the load generator fell behind (the run is inconclusive), else 0.", nil, nil),
		runStateDesc: prometheus.NewDesc(MetricRunState, "1 for the swarm's current state, 0 for the others.",
			[]string{"state"}, nil),
	}
}

func (k *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{k.users, k.target, k.requests, k.failures, k.respTime,
		k.rps, k.dropped, k.lagP99, k.saturated, k.runStateDesc} {
		ch <- d
	}
}

func (k *collector) Collect(ch chan<- prometheus.Metric) {
	st := k.c.Status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(k.users, float64(st.Users))
	gauge(k.target, float64(st.TargetUsers))
	states := States
	if !slices.Contains(states, st.State) && st.State != "" {
		states = append(slices.Clip(states), st.State)
	}
	for _, s := range states {
		gauge(k.runStateDesc, b2f(s == st.State), label(s))
	}

	run, ok := k.c.Run()
	if !ok {
		return
	}
	s := run.Stats
	for _, e := range s.Entries {
		m, n := label(e.Method), label(e.Name)
		ch <- prometheus.MustNewConstMetric(k.requests, prometheus.CounterValue, float64(e.Requests), m, n)
		ch <- prometheus.MustNewConstMetric(k.failures, prometheus.CounterValue, float64(e.Failures), m, n)
		quantiles(gauge, k.respTime, e, m, n)
	}
	quantiles(gauge, k.respTime, s.Total, "", stats.TotalName)
	rps := 0.0
	if len(s.Series) > 0 {
		rps = s.Series[len(s.Series)-1].RPS
	}
	gauge(k.rps, rps)
	ch <- prometheus.MustNewConstMetric(k.dropped, prometheus.CounterValue, float64(run.Generator.Dropped))
	gauge(k.lagP99, run.Generator.Lag.P99MS/1000)
	gauge(k.saturated, b2f(run.Generator.Saturated))
}

func quantiles(gauge func(*prometheus.Desc, float64, ...string), d *prometheus.Desc, e stats.Entry, method, name string) {
	if e.Requests == 0 {
		return
	}
	for _, q := range []struct {
		label string
		pct   float64
	}{{"0.5", 50}, {"0.95", 95}, {"0.99", 99}} {
		gauge(d, e.ServiceMS(q.pct)/1000, method, name, q.label)
	}
}

// label makes a label value valid UTF-8, which the client library requires.
func label(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves a registry of its own: the run's collector, the Go
// runtime's and the process's.
func metricsHandler(c Controller) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newCollector(c),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
