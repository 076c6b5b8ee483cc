package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dashboardPath = "../../fixtures/grafana/harness-dashboard.json"

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Title         string
	UID           string `json:"uid"`
	Panels        []dashPanel
	Templating    struct {
		List []struct {
			Name       string
			Type       string
			Query      any
			Definition string
			Datasource *dashDS
		}
	}
}

type dashDS struct {
	Type string
	UID  string `json:"uid"`
}

type dashPanel struct {
	ID         int `json:"id"`
	Type       string
	Title      string
	Datasource *dashDS
	Targets    []struct {
		Expr       string
		Datasource *dashDS
	}
	Panels []dashPanel // a collapsed row's
}

// promqlWords are the PromQL keywords an expression may hold besides metric names.
var promqlWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"}

var (
	promqlStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlVars     = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	promqlIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promqlNumber   = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+|ms|[smhdwy])?\b`)
)

// metricNames returns the metric names a PromQL expression reads: identifiers
// that are not function calls, keywords, labels or variables.
func metricNames(expr string) []string {
	s := promqlStrings.ReplaceAllString(expr, `""`)
	s = promqlVars.ReplaceAllString(s, " ")
	s = promqlMatchers.ReplaceAllString(s, " ")
	s = promqlRanges.ReplaceAllString(s, " ")
	s = promqlGrouping.ReplaceAllString(s, " ")
	s = promqlNumber.ReplaceAllString(s, " ")
	var out []string
	for _, m := range promqlIdent.FindAllString(s, -1) {
		if strings.HasSuffix(m, "(") || slices.Contains(promqlWords, strings.ToLower(m)) {
			continue
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func TestMetricNamesParser(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (method, name) (rate(perfharness_failures_total{instance=~"$instance"}[$__rate_interval]))`: {"perfharness_failures_total"},
		`perfharness_response_time_seconds{quantile="0.95", name!~"x|y"}`:                                   {"perfharness_response_time_seconds"},
		`a / on (instance) group_left b > bool 0.5 or c offset 5m`:                                          {"a", "b", "c"},
		`max by (state) (perfharness_run_state) == 1`:                                                       {"perfharness_run_state"},
		`label_values(perfharness_users, instance)`:                                                         {"perfharness_users", "instance"},
		`histogram_quantile(0.99, rate(go_gc_duration_seconds_bucket[5m]))`:                                 {"go_gc_duration_seconds_bucket"},
	} {
		assert.Equal(t, want, metricNames(expr), expr)
	}
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(dashboardPath))
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// TestGrafanaDashboard checks the dashboard reads only metrics /metrics
// exports, covers every run metric, and takes its data source from the
// "datasource" variable.
func TestGrafanaDashboard(t *testing.T) {
	d := readDashboard(t)
	assert.GreaterOrEqual(t, d.SchemaVersion, 36)
	assert.NotEmpty(t, d.Title)
	assert.NotEmpty(t, d.UID)

	var hasDS bool
	for _, v := range d.Templating.List {
		if v.Name == "datasource" {
			hasDS = true
			assert.Equal(t, "datasource", v.Type)
			assert.Equal(t, "prometheus", v.Query)
		}
	}
	require.True(t, hasDS, "a datasource template variable")

	// What the handler exports with a run, as families and their samples' names.
	f := newFake()
	f.setRun(testRun())
	exported := map[string]bool{}
	for name, fam := range scrape(t, New(f)) {
		exported[name] = true
		if fam.GetType().String() == "HISTOGRAM" || fam.GetType().String() == "SUMMARY" {
			for _, s := range []string{"_sum", "_count", "_bucket"} {
				exported[name+s] = true
			}
		}
	}

	var exprs []string
	var walk func([]dashPanel)
	ids := map[int]bool{}
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			assert.False(t, ids[p.ID], "panel id %d used twice", p.ID)
			ids[p.ID] = true
			if p.Type != "row" {
				require.NotNil(t, p.Datasource, p.Title)
				assert.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
				assert.NotEmpty(t, p.Targets, p.Title)
			}
			for _, tg := range p.Targets {
				require.NotEmpty(t, tg.Expr, p.Title)
				if tg.Datasource != nil {
					assert.Equal(t, "${datasource}", tg.Datasource.UID, p.Title)
				}
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			exprs = append(exprs, v.Definition)
		}
	}
	require.NotEmpty(t, exprs)

	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricNames(e) {
			if strings.HasPrefix(e, "label_values(") && name == "instance" {
				continue // label_values' label argument
			}
			used[name] = true
			assert.True(t, exported[name], "%s (in %q) is not a metric /metrics exports", name, e)
			assert.True(t, strings.HasPrefix(name, "perfharness_") || strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_"), name)
		}
	}
	for _, name := range MetricNames() {
		assert.True(t, used[name], "the dashboard has no panel for %s", name)
	}
	assert.True(t, used["process_cpu_seconds_total"], "a CPU panel")
	assert.True(t, used["process_resident_memory_bytes"], "a memory panel")
}
