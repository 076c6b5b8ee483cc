package target

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultMatchesFixture(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "fixtures", "targets.json")
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, Default(), got)
}

func TestDefaultIsFresh(t *testing.T) {
	t.Parallel()
	a := Default()
	a.Metrics["p95_ms"] = Bounds{}
	a.Endpoints["GET /x"] = nil
	b := Default()
	assert.Equal(t, Bounds{Target: 500, Acceptable: 1000, Poor: 2000}, b.Metrics["p95_ms"])
	assert.Empty(t, b.Endpoints)
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, table := range []Table{Default(), fullTable()} {
		data, err := json.Marshal(table)
		require.NoError(t, err)
		back, err := Parse(data, "marshalled")
		require.NoError(t, err, string(data))
		assert.Equal(t, table, back)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	table, err := Load("testdata/overrides.json")
	require.NoError(t, err)
	assert.Equal(t, Alerts{MaxFailureRatePct: 5}, table.Alerts)
	assert.Equal(t, Bounds{Target: 1000, Acceptable: 2000, Poor: 4000}, table.Metrics["p99_ms"])
	assert.Equal(t, map[string]map[string]Bounds{
		"GET /status": {"p95_ms": {Target: 50, Acceptable: 100, Poor: 200}},
		"POST /chat (auth)": {
			"median_ms": {Target: 1000, Acceptable: 3000, Poor: 8000},
			"rps":       {Target: 10, Acceptable: 5, Poor: 1},
		},
	}, table.Endpoints)

	_, err = Load("testdata/bad_order.json")
	require.Error(t, err)
	assert.Equal(t, "testdata/bad_order.json:3:45: metrics.p95_ms.acceptable: acceptable 100 is below target 500; lower is better for p95_ms, so target <= acceptable <= poor", err.Error())

	missing := filepath.Join(t.TempDir(), "nope.json")
	_, err = Load(missing)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), missing)
}

// okMetrics is a valid metrics field for cases that break something else.
const okMetrics = `"metrics": {"p95_ms": {"target": 500, "acceptable": 1000, "poor": 2000}}`

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data, want string
	}{
		// JSON syntax: line:column of the offending byte.
		{"syntax trailing comma", "{\n  \"metrics\": {\n    \"p95_ms\": {\"target\": 500,}\n  }\n}",
			"bad.json:3:30: invalid JSON: invalid character '}' looking for beginning of object key string"},
		{"syntax missing comma", "{\n  \"metrics\": {}\n  \"alerts\": {}\n}",
			"bad.json:3:3: invalid JSON: invalid character '\"' after object key:value pair"},
		{"syntax truncated", `{"metrics": {`, "bad.json:1:13: invalid JSON: unexpected end of JSON input"},
		{"syntax empty", ``, "bad.json:1:1: invalid JSON: unexpected end of JSON input"},
		{"syntax trailing data", `{` + okMetrics + `} {}`, "bad.json:1:76: invalid JSON: invalid character '{' after top-level value"},
		{"syntax bad literal", `{"metrics": tru}`, "bad.json:1:16: invalid JSON: invalid character '}' in literal true (expecting 'e')"},

		// Unknown names.
		{"unknown top-level field", `{` + okMetrics + `, "alert": {}}`,
			`bad.json:1:76: alert: unknown field (want metrics, alerts or endpoints)`},
		{"unknown bounds field", `{"metrics": {"p95_ms": {"target": 1, "acceptable": 2, "poor": 3, "warn": 2}}}`,
			`bad.json:1:66: metrics.p95_ms.warn: unknown field (want target, acceptable and poor)`},
		{"unknown metric", `{"metrics": {"p90_ms": {"target": 1, "acceptable": 2, "poor": 3}}}`,
			`bad.json:1:14: metrics.p90_ms: unknown metric "p90_ms" (supported: median_ms, p95_ms, p99_ms, avg_ms, failure_rate_pct, rps)`},
		{"unknown endpoint metric", `{` + okMetrics + `, "endpoints": {"GET /status": {"latency": {}}}}`,
			`bad.json:1:106: endpoints["GET /status"].latency: unknown metric "latency" (supported: median_ms, p95_ms, p99_ms, avg_ms, failure_rate_pct, rps)`},
		{"unknown alert field", `{` + okMetrics + `, "alerts": {"max_p95_ms": 1}}`,
			`bad.json:1:87: alerts.max_p95_ms: unknown field (want max_failure_rate_pct or max_avg_ms)`},
		{"duplicate metric", `{"metrics": {"rps": {"target": 3, "acceptable": 2, "poor": 1}, "rps": {"target": 3, "acceptable": 2, "poor": 1}}}`,
			`bad.json:1:64: metrics.rps: duplicate field`},
		{"duplicate bound", `{"metrics": {"rps": {"target": 3, "target": 2}}}`,
			`bad.json:1:35: metrics.rps.target: duplicate field`},

		// Bounds out of order for the metric's direction.
		{"latency target above acceptable", `{"metrics": {"median_ms": {"target": 300, "acceptable": 200, "poor": 500}}}`,
			`bad.json:1:57: metrics.median_ms.acceptable: acceptable 200 is below target 300; lower is better for median_ms, so target <= acceptable <= poor`},
		{"latency acceptable above poor", `{"metrics": {"p95_ms": {"target": 500, "acceptable": 1000, "poor": 900}}}`,
			`bad.json:1:68: metrics.p95_ms.poor: poor 900 is below acceptable 1000; lower is better for p95_ms, so target <= acceptable <= poor`},
		{"failure rate out of order", `{"metrics": {"failure_rate_pct": {"target": 0.5, "acceptable": 5, "poor": 2}}}`,
			`bad.json:1:75: metrics.failure_rate_pct.poor: poor 2 is below acceptable 5; lower is better for failure_rate_pct, so target <= acceptable <= poor`},
		{"rps written lower-is-better", `{"metrics": {"rps": {"target": 20, "acceptable": 50, "poor": 100}}}`,
			`bad.json:1:50: metrics.rps.acceptable: acceptable 50 is above target 20; higher is better for rps, so target >= acceptable >= poor`},
		{"rps poor above acceptable", `{"metrics": {"rps": {"target": 100, "acceptable": 50, "poor": 60}}}`,
			`bad.json:1:63: metrics.rps.poor: poor 60 is above acceptable 50; higher is better for rps, so target >= acceptable >= poor`},
		{"endpoint override out of order", `{` + okMetrics + `, "endpoints": {"GET /status": {"p95_ms": {"target": 50, "acceptable": 10, "poor": 200}}}}`,
			`bad.json:1:145: endpoints["GET /status"].p95_ms.acceptable: acceptable 10 is below target 50; lower is better for p95_ms, so target <= acceptable <= poor`},

		// Negative and out-of-range values.
		{"negative bound", `{"metrics": {"median_ms": {"target": -1, "acceptable": 200, "poor": 500}}}`,
			`bad.json:1:38: metrics.median_ms.target: -1 is negative; values must be >= 0`},
		{"negative alert", `{` + okMetrics + `, "alerts": {"max_avg_ms": -500}}`,
			`bad.json:1:101: alerts.max_avg_ms: -500 is negative; values must be >= 0`},
		{"failure rate above 100", `{"metrics": {"failure_rate_pct": {"target": 0.5, "acceptable": 2, "poor": 500}}}`,
			`bad.json:1:75: metrics.failure_rate_pct.poor: 500 is above 100%`},
		{"alert failure rate above 100", `{` + okMetrics + `, "alerts": {"max_failure_rate_pct": 101}}`,
			`bad.json:1:111: alerts.max_failure_rate_pct: 101 is above 100%`},
		{"number overflow", `{"metrics": {"p95_ms": {"target": 1e400, "acceptable": 1, "poor": 1}}}`,
			`bad.json:1:35: metrics.p95_ms.target: number 1e400 is out of range`},

		// Wrong types.
		{"string bound", `{"metrics": {"p95_ms": {"target": "500", "acceptable": 1000, "poor": 2000}}}`,
			`bad.json:1:35: metrics.p95_ms.target: expected a number, got string "500"`},
		{"null bound", `{"metrics": {"p95_ms": {"target": null}}}`,
			`bad.json:1:35: metrics.p95_ms.target: expected a number, got null`},
		{"bool alert", `{` + okMetrics + `, "alerts": {"max_avg_ms": true}}`,
			`bad.json:1:101: alerts.max_avg_ms: expected a number, got boolean true`},
		{"metrics array", `{"metrics": [1, 2]}`,
			`bad.json:1:13: metrics: expected an object, got an array`},
		{"bounds number", `{"metrics": {"p95_ms": 500}}`,
			`bad.json:1:24: metrics.p95_ms: expected an object, got number 500`},
		{"endpoints string", `{` + okMetrics + `, "endpoints": "GET /status"}`,
			`bad.json:1:89: endpoints: expected an object, got string "GET /status"`},
		{"top-level array", `[]`, `bad.json:1:1: top level: expected an object, got an array`},

		// Missing pieces.
		{"missing poor", `{"metrics": {"p95_ms": {"target": 500, "acceptable": 1000}}}`,
			`bad.json:1:24: metrics.p95_ms: missing poor (want target, acceptable and poor)`},
		{"missing metrics", `{"alerts": {"max_avg_ms": 500}}`,
			`bad.json:1:1: metrics: missing: the table needs bounds for at least one metric`},
		{"empty metrics", `{"metrics": {}}`,
			`bad.json:1:1: metrics: missing: the table needs bounds for at least one metric`},
		{"empty endpoint override", `{` + okMetrics + `, "endpoints": {"GET /status": {}}}`,
			`bad.json:1:105: endpoints["GET /status"]: empty override: name at least one metric`},

		// Endpoint names.
		{"endpoint without method", `{` + okMetrics + `, "endpoints": {"/status": {}}}`,
			`bad.json:1:90: endpoints["/status"]: endpoint name must be "METHOD name", e.g. "GET /status"`},
		{"endpoint lower-case method", `{` + okMetrics + `, "endpoints": {"get /status": {}}}`,
			`bad.json:1:90: endpoints["get /status"]: endpoint name method "get" must be upper-case letters, e.g. "GET /status"`},
		{"endpoint trailing space", `{` + okMetrics + `, "endpoints": {"GET /status ": {}}}`,
			`bad.json:1:90: endpoints["GET /status "]: endpoint name needs a name after "GET " without surrounding spaces, e.g. "GET /status"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(c.data), "bad.json")
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			assert.Equal(t, Table{}, got)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data string
		want       Table
	}{
		{"minimal", `{"metrics": {"rps": {"target": 10, "acceptable": 10, "poor": 0}}}`, Table{
			Metrics:   map[string]Bounds{"rps": {Target: 10, Acceptable: 10, Poor: 0}},
			Endpoints: map[string]map[string]Bounds{},
		}},
		{"equal bounds", `{"metrics": {"avg_ms": {"target": 5, "acceptable": 5, "poor": 5}}, "alerts": {}}`, Table{
			Metrics:   map[string]Bounds{"avg_ms": {Target: 5, Acceptable: 5, Poor: 5}},
			Endpoints: map[string]map[string]Bounds{},
		}},
		{"alerts off and endpoint name with spaces", `{
			"endpoints": {"GET /goals (auth)": {"rps": {"target": 3, "acceptable": 2, "poor": 1e-3}}},
			"alerts": {"max_failure_rate_pct": 0, "max_avg_ms": 0},
			"metrics": {"p99_ms": {"poor": 3e3, "acceptable": 2000, "target": 1000.5}}
		}`, Table{
			Metrics:   map[string]Bounds{"p99_ms": {Target: 1000.5, Acceptable: 2000, Poor: 3000}},
			Endpoints: map[string]map[string]Bounds{"GET /goals (auth)": {"rps": {Target: 3, Acceptable: 2, Poor: 0.001}}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(c.data), "ok.json")
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestLoadOrDefaultFallsBackOnlyForTheShippedTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shipped := filepath.Join(dir, "targets.json")
	tab, builtIn, err := LoadOrDefault(shipped, shipped)
	require.NoError(t, err)
	assert.True(t, builtIn, "the shipped table missing: the built-in copy")
	assert.Equal(t, Default(), tab)

	_, builtIn, err = LoadOrDefault(filepath.Join(dir, "mine.json"), shipped)
	require.Error(t, err, "a table the user named must exist")
	assert.False(t, builtIn)
}
