package web

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/stats"
)

// scrape reads /metrics in the text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	w := do(t, h, "GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain"), w.Header().Get("Content-Type"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	require.NoError(t, err)
	return fams
}

// sample returns the value of the metric with exactly these labels.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	fam := fams[name]
	require.NotNil(t, fam, "metric %s missing", name)
	for _, m := range fam.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, labels) && !(len(got) == 0 && labels == nil) {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

func TestMetrics(t *testing.T) {
	f := newFake()
	run := testRun()
	f.setRun(run)
	fams := scrape(t, New(f))

	for _, name := range MetricNames() {
		assert.Contains(t, fams, name)
	}
	assert.Equal(t, 4.0, sample(t, fams, "perfharness_users", nil))
	assert.Equal(t, 5.0, sample(t, fams, "perfharness_target_users", nil))
	get := func(m, n string) map[string]string { return map[string]string{"method": m, "name": n} }
	assert.Equal(t, 100.0, sample(t, fams, "perfharness_requests_total", get("GET", "GET /status")))
	assert.Equal(t, 0.0, sample(t, fams, "perfharness_failures_total", get("GET", "GET /status")))
	assert.Equal(t, 10.0, sample(t, fams, "perfharness_requests_total", get("POST", "POST /goals")))
	assert.Equal(t, 10.0, sample(t, fams, "perfharness_failures_total", get("POST", "POST /goals")))
	assert.Equal(t, dto.MetricType_COUNTER, fams["perfharness_requests_total"].GetType())
	assert.Len(t, fams["perfharness_requests_total"].Metric, 2, "no aggregate series: sum() adds the entries")

	status, _ := run.Stats.Entry("GET", "GET /status")
	for q, pct := range map[string]float64{"0.5": 50, "0.95": 95, "0.99": 99} {
		l := get("GET", "GET /status")
		l["quantile"] = q
		assert.InDelta(t, status.ServiceMS(pct)/1000, sample(t, fams, "perfharness_response_time_seconds", l), 1e-12, q)
		l = get("", stats.TotalName)
		l["quantile"] = q
		assert.InDelta(t, run.Stats.Total.ServiceMS(pct)/1000, sample(t, fams, "perfharness_response_time_seconds", l), 1e-12, q)
	}
	assert.Equal(t, dto.MetricType_GAUGE, fams["perfharness_response_time_seconds"].GetType())
	assert.Equal(t, 12.0, sample(t, fams, "perfharness_requests_per_second", nil), "the last series point")
	assert.Equal(t, 20.0, sample(t, fams, "perfharness_dropped_iterations_total", nil))
	assert.Equal(t, 1.5, sample(t, fams, "perfharness_start_lag_p99_seconds", nil))
	assert.Equal(t, 1.0, sample(t, fams, "perfharness_generator_saturated", nil))
	for _, s := range States {
		want := 0.0
		if s == StateRunning {
			want = 1
		}
		assert.Equal(t, want, sample(t, fams, "perfharness_run_state", map[string]string{"state": s}), s)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		assert.Contains(t, fams, name)
	}

	// After a reset the counters restart, as the run's do.
	run.Stats = stats.Snapshot{Total: stats.Entry{Name: stats.TotalName, Service: stats.NewHistogram()}}
	f.setRun(run)
	f.status.State = StateStopping
	fams = scrape(t, New(f))
	assert.NotContains(t, fams, "perfharness_requests_total")
	assert.NotContains(t, fams, "perfharness_response_time_seconds", "no quantiles without requests")
	assert.Equal(t, 0.0, sample(t, fams, "perfharness_requests_per_second", nil))
	assert.Equal(t, 1.0, sample(t, fams, "perfharness_run_state", map[string]string{"state": StateStopping}))
}

func TestMetricsWithoutRun(t *testing.T) {
	f := newFake()
	f.status.State = "warming up" // a state the package does not know is still exported
	fams := scrape(t, New(f))
	assert.Equal(t, 4.0, sample(t, fams, "perfharness_users", nil))
	assert.Equal(t, 1.0, sample(t, fams, "perfharness_run_state", map[string]string{"state": "warming up"}))
	assert.Equal(t, 0.0, sample(t, fams, "perfharness_run_state", map[string]string{"state": StateRunning}))
	assert.NotContains(t, fams, "perfharness_requests_total")
	assert.NotContains(t, fams, "perfharness_generator_saturated")
	assert.Contains(t, fams, "go_goroutines")
}

func TestMetricsInvalidUTF8Names(t *testing.T) {
	f := newFake()
	rec := stats.NewRecorder()
	rec.Record(stats.Result{Method: "GET", Name: "GET /bad\xff", Latency: 1000})
	run := testRun()
	run.Stats = rec.Close()
	f.setRun(run)
	fams := scrape(t, New(f))
	var names []string
	for _, m := range fams["perfharness_requests_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "name" {
				names = append(names, l.GetValue())
			}
		}
	}
	assert.True(t, slices.Contains(names, "GET /bad\uFFFD"), "%q", names)
}
