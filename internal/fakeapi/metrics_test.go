package fakeapi

import (
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layout is what a consumer of /metrics relies on in one family.
type layout struct {
	typ     dto.MetricType
	help    string
	labels  []string  // label names of every series, sorted, le left out
	buckets []float64 // histogram upper bounds, +Inf left out
}

func layoutsOf(t *testing.T, text string) map[string]layout {
	t.Helper()
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	out := map[string]layout{}
	for _, name := range []string{"api_requests_total", "api_request_duration_seconds"} {
		f := fams[name]
		require.NotNil(t, f, name)
		require.NotEmpty(t, f.GetMetric(), name)
		l := layout{typ: f.GetType(), help: f.GetHelp()}
		for i, mt := range f.GetMetric() {
			var names []string
			for _, p := range mt.GetLabel() {
				names = append(names, p.GetName())
			}
			sort.Strings(names)
			var bounds []float64
			for _, b := range mt.GetHistogram().GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
			bounds = slices.DeleteFunc(bounds, func(b float64) bool { return b > 1e300 })
			if i == 0 {
				l.labels, l.buckets = names, bounds
			}
			assert.Equal(t, l.labels, names, "%s: every series has the same labels", name)
			assert.Equal(t, l.buckets, bounds, "%s: every series has the same buckets", name)
		}
		out[name] = l
	}
	return out
}

// TestMetricsMatchRealXAgent holds the fake's /metrics to the real X-Agent's
// (a capture in fixtures/xagent-real-metrics): the same families, types,
// labels (status on the histogram too) and buckets.
func TestMetricsMatchRealXAgent(t *testing.T) {
	t.Parallel()
	real, err := os.ReadFile("../../fixtures/xagent-real-metrics/after.txt")
	require.NoError(t, err)
	want := layoutsOf(t, string(real))
	assert.Equal(t, []float64{0.01, 0.05, 0.1, 0.5, 1, 2, 5}, want["api_request_duration_seconds"].buckets, "the capture")
	assert.Equal(t, []string{"endpoint", "method", "status"}, want["api_request_duration_seconds"].labels, "the capture")

	s := newTestServer(t, DefaultOptions())
	tok := issue(t, s, "admin", "admin", time.Hour)
	require.Equal(t, 200, serve(s, req{method: "GET", path: "/goals", header: bearer(tok)}).Code)
	denied := serve(s, req{method: "GET", path: "/goals"}).Code
	require.NotEqual(t, 200, denied)
	require.Equal(t, 200, serve(s, req{method: "GET", path: "/status"}).Code)
	w := serve(s, req{method: "GET", path: "/metrics"})
	require.Equal(t, 200, w.Code)
	body := w.Body.String()
	assert.Equal(t, want, layoutsOf(t, body))

	// One route answered with two statuses is two histograms, as on the real server.
	assert.Contains(t, body, `api_request_duration_seconds_count{endpoint="/goals",method="GET",status="200"} 1`)
	assert.Contains(t, body, `api_request_duration_seconds_count{endpoint="/goals",method="GET",status="`+strconv.Itoa(denied)+`"} 1`)
	assert.Contains(t, body, `api_request_duration_seconds_bucket{endpoint="/status",method="GET",status="200",le="0.01"} `)
}
