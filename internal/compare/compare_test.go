package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/stats"
)

// run records n requests per entry with the given latency and failure count,
// over a run of length d.
func run(d time.Duration, entries map[string]struct {
	n, fails int
	lat      time.Duration
}) stats.Snapshot {
	rec := stats.NewRecorder()
	for name, e := range entries {
		for i := range e.n {
			r := stats.Result{Method: "GET", Name: name, Latency: e.lat + time.Duration(i%10)*time.Microsecond, Status: 200}
			if i < e.fails {
				r.Error = "Got status code 500"
			}
			rec.Record(r)
		}
	}
	s := rec.Close()
	s.Start = time.Unix(0, 0)
	s.End = s.Start.Add(d)
	return s
}

type spec = struct {
	n, fails int
	lat      time.Duration
}

func regressed(r Result) map[string][]string {
	out := map[string][]string{}
	for _, row := range r.Regressions() {
		out[row.Entry] = append(out[row.Entry], row.Metric)
	}
	return out
}

func TestSameRunHasNoRegression(t *testing.T) {
	t.Parallel()
	s := run(time.Minute, map[string]spec{"/a": {1000, 0, 5 * time.Millisecond}, "/b": {20, 0, time.Millisecond}})
	r := Compare(s, s, DefaultLimits())
	assert.Empty(t, r.Regressions())
	assert.Equal(t, []string{"Aggregated", "GET /a", "GET /b"}, r.Entries())
	assert.Len(t, r.Rows, 3*len(Metrics))
}

func TestSlowerEntryRegressesOnlyItsLatencyRows(t *testing.T) {
	t.Parallel()
	base := run(time.Minute, map[string]spec{"/a": {1000, 0, 5 * time.Millisecond}, "/b": {1000, 0, 5 * time.Millisecond}})
	cur := run(time.Minute, map[string]spec{"/a": {1000, 0, 5 * time.Millisecond}, "/b": {1000, 0, 9 * time.Millisecond}})
	r := Compare(base, cur, DefaultLimits())
	got := regressed(r)
	assert.Equal(t, []string{P50, P95, P99}, got["GET /b"])
	assert.Empty(t, got["GET /a"])
	for _, row := range r.Regressions() {
		if row.Entry == "GET /b" && row.Metric == P95 {
			assert.Contains(t, row.Message(), "GET /b p95_ms: 5.")
			assert.Contains(t, row.Message(), "over the 10% limit")
			assert.InDelta(t, 80, row.ChangePct, 1)
		}
	}
}

func TestChangesBelowTheFloorOrWithinNoiseNeverFail(t *testing.T) {
	t.Parallel()
	// +80 % but only 40 µs: microsecond noise.
	base := run(time.Minute, map[string]spec{"/a": {1000, 0, 50 * time.Microsecond}})
	cur := run(time.Minute, map[string]spec{"/a": {1000, 0, 90 * time.Microsecond}})
	assert.Empty(t, Compare(base, cur, DefaultLimits()).Regressions())

	// 20 requests cannot judge p99 or p95, only p50.
	base = run(time.Minute, map[string]spec{"/a": {20, 0, 5 * time.Millisecond}})
	cur = run(time.Minute, map[string]spec{"/a": {20, 0, 50 * time.Millisecond}})
	r := Compare(base, cur, DefaultLimits())
	assert.Equal(t, []string{P50}, regressed(r)["GET /a"])
	for _, row := range r.Rows {
		if row.Metric == P99 {
			assert.False(t, row.Gated)
			assert.Contains(t, row.Note, "needs 500 requests")
		}
	}

	// 100 → 85 requests in a minute is -15 %, inside Poisson noise (3σ = 30).
	base = run(time.Minute, map[string]spec{"/a": {100, 0, time.Millisecond}})
	cur = run(time.Minute, map[string]spec{"/a": {85, 0, time.Millisecond}})
	assert.Empty(t, regressed(Compare(base, cur, DefaultLimits()))["GET /a"])
}

func TestRateDropAndFailureRiseRegress(t *testing.T) {
	t.Parallel()
	base := run(time.Minute, map[string]spec{"/a": {6000, 0, time.Millisecond}})
	cur := run(time.Minute, map[string]spec{"/a": {3000, 300, time.Millisecond}})
	got := regressed(Compare(base, cur, DefaultLimits()))
	assert.Equal(t, []string{RPS, FailRate}, got["GET /a"])
}

func TestEntriesInOneRunOnly(t *testing.T) {
	t.Parallel()
	base := run(time.Minute, map[string]spec{"/old": {10, 0, time.Millisecond}, "/both": {10, 0, time.Millisecond}})
	cur := run(time.Minute, map[string]spec{"/new": {10, 0, time.Millisecond}, "/both": {10, 0, time.Millisecond}})
	r := Compare(base, cur, DefaultLimits())
	assert.Equal(t, []string{"GET /old"}, r.OnlyInBaseline)
	assert.Equal(t, []string{"GET /new"}, r.OnlyInRun)
	assert.Equal(t, []string{"Aggregated", "GET /both"}, r.Entries())
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	l, err := ParseLimits("25%")
	require.NoError(t, err)
	assert.Equal(t, 25.0, l.LatencyPct)
	assert.Equal(t, DefaultLimits().RPSPct, l.RPSPct)
	l, err = ParseLimits("latency=5, floor=500us, rps=20%, failures=0.5")
	require.NoError(t, err)
	assert.Equal(t, Limits{LatencyPct: 5, FloorMS: 0.5, RPSPct: 20, FailurePts: 0.5}, l)
	back, err := ParseLimits(l.String())
	require.NoError(t, err)
	assert.Equal(t, l, back, "String round-trips")
	for _, bad := range []string{"ten", "-5%", "latency=x", "p99=3", "floor=-1ms", "floor=3"} {
		_, err := ParseLimits(bad)
		assert.Error(t, err, bad)
	}
}
