package target

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzParse(f *testing.F) {
	for _, path := range []string{
		filepath.Join("..", "..", "fixtures", "targets.json"),
		filepath.Join("testdata", "overrides.json"),
		filepath.Join("testdata", "bad_order.json"),
	} {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"metrics": {}}`, `{"metrics": {"rps": {"target": 1, "acceptable": 1, "poor": 1}}}`,
		`{"metrics": {"p95_ms": {"target": 1, "acceptable": 2, "poor": 3}}, "endpoints": {"GET /x": {"rps": {"target": 3, "acceptable": 2, "poor": 1}}}}`,
		`{"metrics": {"p95_ms": {"target": "1"}}}`, `{"metrics": {"p95_ms": {"target": -0}}}`, `{"metrics": 1e999}`,
		`{"metrics": {"failure_rate_pct": {"target": 0, "acceptable": 0, "poor": 100}}, "alerts": {"max_avg_ms": 1e308}}`,
		"{\"metrics\":\n{\"avg_ms\": {\"target\": 1, \"acceptable\": 2, \"poor\": 3,}}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := Parse(data, "fuzz.json")
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "fuzz.json"), err.Error())
			assert.Equal(t, Table{}, table)
			return
		}
		require.NotEmpty(t, table.Metrics)
		probes := func(b Bounds) []float64 {
			return []float64{0, b.Target, b.Acceptable, b.Poor, max(0, below(b.Poor)), above(b.Poor), math.MaxFloat64, math.Inf(1)}
		}
		agg := Values{}
		for metric, b := range table.Metrics {
			for _, v := range probes(b) {
				g, got, err := table.Grade(metric, v)
				require.NoError(t, err, "%s = %v", metric, v)
				require.True(t, g.Valid())
				require.Equal(t, b, got)
			}
			agg[metric] = b.Acceptable
		}
		endpoints := map[string]Values{}
		for ep, m := range table.Endpoints {
			require.NotEmpty(t, m)
			endpoints[ep] = Values{}
			for metric, b := range m {
				for _, v := range probes(b) {
					g, got, ok := table.GradeEndpoint(ep, metric, v)
					require.True(t, ok, "%s %s = %v", ep, metric, v)
					require.True(t, g.Valid())
					require.Equal(t, b, got)
				}
				endpoints[ep][metric] = b.Poor
			}
		}
		// Every value sits on a bound that grades Needs investigation in either direction.
		for _, c := range table.Evaluate(agg, endpoints, Gate{Metrics: MetricNames()}) {
			require.False(t, c.Pass, c.Message)
			if strings.HasPrefix(c.Message, "gate names ") {
				continue // a supported metric the table has no bounds for
			}
			require.Equal(t, GradeNeedsInvestigation, c.Grade, c.Message)
		}
		// What Parse accepts survives a marshal round trip.
		out, err := json.Marshal(table)
		require.NoError(t, err)
		back, err := Parse(out, "round-trip")
		require.NoError(t, err, string(out))
		require.Equal(t, table, back)
	})
}
