package runfile

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// edgeRun is a valid run made of the odd cases: non-finite and extreme
// floats, unset grades, a zone offset with seconds, zero times, entries whose
// Response is a copy of Service (as Clone and Merge leave it) or nil with no
// histograms at all, strings that need escaping (one not even UTF-8), empty
// lists, a server view without figures and no baseline.
func edgeRun() Run {
	snap := goldenSnapshot(t0, time.Millisecond)
	for i := range snap.Entries {
		snap.Entries[i] = snap.Entries[i].Clone()
	}
	snap.Total = snap.Total.Clone()
	snap.Entries = append(snap.Entries, stats.Entry{Method: "GET", Name: "/never"})
	snap.Failures[0].FirstSeen = time.Time{}
	p := &snap.Series[0]
	nan, inf := math.NaN(), math.Inf(1)
	p.RPS, p.FailPS, p.P50MS, p.P95MS = nan, inf, math.Inf(-1), math.Copysign(0, -1)
	p.RespP50MS, p.RespP95MS, p.TotalAvgMS, p.TotalAvgBytes = 1e-7, 1e21, 5e-324, math.MaxFloat64
	p.RecentMS[0], p.RecentMS[10] = nan, 0.1
	odd := time.FixedZone("", 3600+30)
	return Run{
		Meta: Meta{
			Scenario: "odd \"name\" \\ <b>&</b> \u2028\u2029 \b\f\x01\x7f é 😀", Host: "http://[::1]:8089/?q=a&b=<c>",
			Users: 0, SpawnRate: inf, Duration: 1, Start: t0.In(odd), Classes: []string{""},
			Seed: math.MaxUint64, Stopped: "interrupted \xff\xfe", Harness: HarnessVersion, GoVersion: "go1.26.0",
			Segment: "2/4", StartLate: -1500 * time.Millisecond, Cancelled: 3, Gate: []string{"p95_ms"}, MinGrade: "Acceptable",
		},
		Stats: snap,
		Checks: []target.Check{
			{Endpoint: "", Metric: "p95_ms", Value: nan, Bounds: target.Bounds{Target: math.Inf(-1), Acceptable: 0, Poor: inf}, Gated: true, Message: "ungradable"},
			{Endpoint: "GET /status", Metric: "rps", Value: 0.1, Grade: target.GradePoor, Pass: true},
			{Metric: "avg_ms", Value: 1, Grade: target.Grade(9)},
		},
		Alerts:  []target.AlertResult{{Name: "max_avg_ms", Value: nan, Limit: 500, Fired: true}},
		Verdict: Verdict{},
		Generator: Generator{
			Model: "users", Rate: nan,
			Lag: saturation.LagStats{P50MS: nan, MaxMS: inf},
			Runtime: saturation.Runtime{Wall: time.Duration(math.MaxInt64), CPUUtilPct: nan, Host: saturation.Host{Period: -1, BusyStallMax: time.Duration(math.MinInt64),
				Pauses: []saturation.Pause{{Start: time.Time{}, Offset: 1, Length: 999_999_999, CPUPct: nan, BusyPct: -1, Thread: true}}}},
		},
		Server: &Server{
			HealthEvery: -1, MetricsEvery: 0,
			Report: monitor.Report{Endpoints: []monitor.Endpoint{{Method: "GET", Route: "/x",
				P99: monitor.Quantile{MS: 5, LowerMS: 5, UpperMS: inf}}}},
		},
	}
}

// goldenFiles are the runs whose encoding is kept in testdata/<name>.golden.json.
func goldenFiles() map[string]Run {
	return map[string]Run{"run": goldenRun(), "edge": edgeRun(), "zero": {}}
}

// TestGoldenFiles: Encode writes these runs exactly as the golden files hold
// them (the golden run's is TestGolden's).
func TestGoldenFiles(t *testing.T) {
	for name, run := range goldenFiles() {
		if name == "run" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".golden.json")
			data := encode(t, run)
			if *update {
				require.NoError(t, os.WriteFile(path, data, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestGoldenFiles -update to create it")
			if !bytes.Equal(data, want) {
				t.Fatalf("encoding differs from %s (rerun with -update if intended):\n%s", path, firstDiff(want, data))
			}
			// What Decode reads back encodes the same again (but for the
			// string that is not UTF-8, which Decode has repaired).
			if name != "edge" {
				require.Equal(t, string(data), string(encode(t, decode(t, data))))
			}
		})
	}
}

// TestDecodeOldFiles: the files under testdata/v0 were written by the harness
// before the run types encoded themselves, and are never regenerated. They
// still decode, they are the same JSON (keys and values, in any order) as
// what Encode writes today for the same runs, and what they decode to encodes
// as what today's encoding decodes to.
func TestDecodeOldFiles(t *testing.T) {
	for name, run := range goldenFiles() {
		t.Run(name, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("testdata", "v0", name+".json"))
			require.NoError(t, err)
			now := encode(t, run)
			require.Equal(t, generic(t, old), generic(t, now))
			require.Equal(t, string(encode(t, decode(t, now))), string(encode(t, decode(t, old))))
			if name == "run" {
				requireSameRun(t, run, decode(t, old))
			}
		})
	}
}

// generic is a JSON document as maps, slices and exact numbers.
func generic(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}
