package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

var update = flag.Bool("update", false, "rewrite testdata/run.golden.json")

const goldenPath = "testdata/run.golden.json"

// stepClock returns t0, t0+step, t0+2·step, ... on successive calls.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// goldenSnapshot records a few results with a stepping clock and an interval
// that never ticks, so that its only series point (the final partial interval)
// and every time in it are deterministic.
func goldenSnapshot(start time.Time, scale time.Duration) stats.Snapshot {
	clk := &stepClock{t: start, step: 30 * time.Second}
	rec := stats.NewRecorder(stats.WithClock(clk.now), stats.WithInterval(time.Hour), stats.WithEntryHistory())
	rec.SetUsers(5)
	ms := func(f float64) time.Duration { return time.Duration(f * float64(scale)) }
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	rec.Record(stats.Result{Method: "GET", Name: "/status", Start: at(1), Latency: ms(1.2), Bytes: 120, Status: 200})
	rec.Record(stats.Result{Method: "GET", Name: "/status", Start: at(2), Latency: ms(2.5), Bytes: 120, Status: 200})
	rec.Record(stats.Result{Method: "GET", Name: "/status", Start: at(3), Latency: ms(40), Status: 503, Error: "Got status code 503"})
	rec.Record(stats.Result{Method: "POST", Name: "/goals", Start: at(4), Latency: ms(12), Bytes: 800, Status: 201})
	// The schedule wanted this one sent 50 ms earlier: the two clocks differ.
	rec.Record(stats.Result{Method: "POST", Name: "/goals", Start: at(5), Intended: at(5).Add(-50 * time.Millisecond), Latency: ms(15), Bytes: 810, Status: 201})
	rec.Record(stats.Result{Method: "GET", Name: "GET /goals (auth)", Start: at(6), Latency: ms(8), Bytes: 2048, Status: 200})
	rec.Exception("Reader.list: panic: boom", "goroutine 7 [running]:\nmain.list()\n\t/x/main.go:12 +0x1d\n")
	return rec.Close()
}

// goldenRun is a small but complete run: every field of every type is set.
func goldenRun() Run {
	snap := goldenSnapshot(t0, time.Millisecond)
	base := goldenSnapshot(t0.Add(-24*time.Hour), 800*time.Microsecond)
	return runFor(snap, base, time.FixedZone("", 3600))
}

// runFor dresses a snapshot with metadata, checks, alerts, a verdict and a
// comparison with base; meta times are shown in zone.
func runFor(snap, base stats.Snapshot, zone *time.Location) Run {
	table := target.Default()
	table.Endpoints["GET /status"] = map[string]target.Bounds{"p95_ms": {Target: 5, Acceptable: 10, Poor: 20}}
	values := func(e stats.Entry) target.Values {
		return target.Values{
			"median_ms": e.ServiceMS(50), "p95_ms": e.ServiceMS(95), "p99_ms": e.ServiceMS(99),
			"avg_ms": e.AvgMS(), "failure_rate_pct": 100 * e.FailRatio(), "rps": snap.RPS(e),
		}
	}
	eps := map[string]target.Values{}
	for _, e := range snap.Entries {
		eps[e.Label()] = values(e)
	}
	// p99_ms has no bounds in the default table: a gate problem check, which has no grade.
	checks := table.Evaluate(values(snap.Total), eps, target.Gate{Metrics: []string{"p95_ms", "failure_rate_pct", "p99_ms"}})
	alerts := table.CheckAlerts(100*snap.Total.FailRatio(), snap.Total.AvgMS())
	cmp := compare.Compare(base, snap, compare.DefaultLimits())
	cmp.Baseline = "runs/baseline.json"
	cmp.OnlyInBaseline = []string{"DELETE /goals/{id}"}
	run := Run{
		Meta: Meta{
			Scenario: "TestLoadLight", Host: "http://127.0.0.1:8089/api?tenant=a&mode=<fake>", Fake: true,
			Users: 5, SpawnRate: 2.5, Duration: 90*time.Second + 500*time.Millisecond,
			Start: snap.Start.In(zone), End: snap.End.In(zone),
			Classes: []string{"Reader", "Writer"}, Seed: 1<<63 + 42, Stopped: "duration elapsed",
			Harness: HarnessVersion, GoVersion: "go1.26.0", EntryHistory: true,
		},
		Stats:    snap,
		Checks:   checks,
		Alerts:   alerts,
		Baseline: &cmp,
		Generator: Generator{
			Model: "arrivals", Rate: 50, MaxInFlight: 100, Shape: "ramp.json: users: 60s→10 users @1/s (1m0s)", Clock: "response",
			Arrivals: 3000, Iterations: 2990, Dropped: 10,
			Lag: saturation.LagStats{Count: 2990, P50MS: 0.125, P90MS: 0.5, P99MS: 12.5, MaxMS: 40.25},
			Runtime: saturation.Runtime{Wall: 61 * time.Second, SchedLatencyP99MS: 0.75, SchedLatencyMaxMS: 3, GCPauseP99MS: 0.25, GCPauseTotalMS: 4.5, GCCycles: 12, CPUUtilPct: 35.5, CPUSource: "rusage", GOMAXPROCS: 2, Goroutines: 120, Notes: []string{"a note"},
				Host: saturation.Host{Period: 10 * time.Millisecond, Ticks: 6000, PausesDropped: 0, BusyStalls: 1, BusyStallMax: 12 * time.Millisecond,
					SchedLatencyOwnP99MS: 0.5, SchedLatencyOwnMaxMS: 2, StealMS: 80, StealOK: true, RunQueueMS: 15, RunQueueOK: true,
					Pauses: []saturation.Pause{{Start: time.Date(2026, 3, 1, 12, 0, 42, 0, time.UTC), Offset: 42 * time.Second, Length: 85800 * time.Microsecond, CPUPct: 1, BusyPct: 3}}}},
			Saturated: true, Reasons: []string{"10 of 3000 iterations dropped"}, Notes: []string{"lag judged"}, Advice: "rerun with a higher -max-inflight",
		},
		Server: &Server{
			HealthEvery: time.Second, MetricsEvery: 5 * time.Second,
			Report: monitor.Report{
				Transitions: []monitor.Transition{
					{Time: snap.Start.In(zone), Probe: "health", Status: "healthy", HTTPStatus: 200},
					{Time: snap.Start.Add(3 * time.Second).In(zone), Probe: "health", Status: "unhealthy", HTTPStatus: 503, Failing: []string{"redis"}, Message: "redis: connection refused"},
				},
				Periods: []monitor.Period{{Probe: "health", From: snap.Start.Add(3 * time.Second).In(zone), To: snap.Start.Add(5 * time.Second).In(zone), Status: "unhealthy"}},
				Endpoints: []monitor.Endpoint{{Method: "GET", Route: "/status", Requests: 120, Statuses: map[string]float64{"200": 118, "503": 2},
					P50: monitor.Quantile{MS: 2.5, LowerMS: 0, UpperMS: 5, Bounded: true}, P95: monitor.Quantile{MS: 7.5, LowerMS: 5, UpperMS: 10, Bounded: true},
					P99: monitor.Quantile{MS: 10000, LowerMS: 10000, UpperMS: math.Inf(1)}, Polls: 0}},
				Scrapes: 4, HealthPolls: 10, Notes: []string{"counter reset at 12:00:03 (server restart?)"},
			},
			Rows: []monitor.Row{{Method: "GET", Route: "/status", ClientName: "GET /status, GET /status (auth)", ServerRequests: 120, ClientRequests: 120,
				ServerP50: monitor.Quantile{MS: 2.5, UpperMS: 5, Bounded: true}, ClientP50MS: 2.25, ClientP95MS: 6, ClientP99MS: 9}},
		},
	}
	run.Verdict.Pass = true
	for _, c := range checks {
		if !c.Pass {
			run.Verdict.Pass = false
			run.Verdict.Reasons = append(run.Verdict.Reasons, c.Message)
		}
	}
	for _, a := range alerts {
		if a.Fired {
			run.Verdict.Pass = false
			run.Verdict.Reasons = append(run.Verdict.Reasons, a.Message)
		}
	}
	return run
}

// liveRun records with a real ticking recorder, so that the series have
// several points made the way a real run makes them.
func liveRun(t *testing.T) Run {
	t.Helper()
	rec := stats.NewRecorder(stats.WithEntryHistory(), stats.WithInterval(5*time.Millisecond))
	names := []string{"/status", "/goals", "/goals/{id}", "GET /users (auth)"}
	for batch := range 4 {
		rec.SetUsers(batch + 1)
		for i := range 50 {
			now := time.Now()
			r := stats.Result{
				Method: "GET", Name: names[i%len(names)], Start: now,
				Latency: time.Duration(200+i*37+batch*1000) * time.Microsecond, Bytes: int64(100 + i), Status: 200,
			}
			if i%7 == 0 {
				r.Status, r.Error = 500, "Got status code 500"
			}
			if r.Name == "/goals" && i%3 == 0 {
				r.Intended = now.Add(-time.Duration(i) * time.Millisecond)
			}
			rec.Record(r)
		}
		if batch == 2 {
			rec.Exception("Writer.create: timeout", "")
		}
		// Wait for the batch's interval to close: count ticks, do not time them
		// (a loaded machine drops ticks of a 5 ms ticker).
		for n, deadline := len(rec.Ticks(0)), time.Now().Add(30*time.Second); len(rec.Ticks(0)) <= n; {
			if time.Now().After(deadline) {
				t.Fatal("the recorder closed no interval in 30 s")
			}
			time.Sleep(time.Millisecond)
		}
	}
	snap := rec.Close()
	if len(snap.Series) < 2 || len(snap.Entries[0].Series) < 2 {
		t.Fatalf("live run made %d series points, want several", len(snap.Series))
	}
	base := goldenSnapshot(t0, time.Millisecond)
	return runFor(snap, base, time.Local)
}

func encode(t testing.TB, run Run) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, run); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func decode(t testing.TB, data []byte) Run {
	t.Helper()
	run, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return run
}

// ---- Comparing runs ----

func respHist(e stats.Entry) *hdrhistogram.Histogram {
	if e.Response == nil {
		return e.Service
	}
	return e.Response
}

// requireSameEntry compares what stats can observe of two entries' histograms.
func requireSameEntry(t *testing.T, path string, want, got stats.Entry) {
	t.Helper()
	if want.Service == nil {
		want.Service = stats.NewHistogram()
	}
	if !want.Service.Equals(got.Service) {
		t.Errorf("%s: service histogram differs", path)
	}
	if !respHist(want).Equals(respHist(got)) {
		t.Errorf("%s: response histogram differs", path)
	}
	for _, q := range stats.Percentiles {
		if w, g := want.ServiceMS(q), got.ServiceMS(q); w != g {
			t.Errorf("%s: ServiceMS(%v) = %v, want %v", path, q, g, w)
		}
		if w, g := want.ResponseMS(q), got.ResponseMS(q); w != g {
			t.Errorf("%s: ResponseMS(%v) = %v, want %v", path, q, g, w)
		}
	}
}

// requireSameRun asserts that got holds everything observable of want: the
// histograms bucket by bucket, times as instants, every other field exactly
// (an empty list and nil are the same).
func requireSameRun(t *testing.T, want, got Run) {
	t.Helper()
	require.Len(t, got.Stats.Entries, len(want.Stats.Entries))
	for i := range want.Stats.Entries {
		requireSameEntry(t, fmt.Sprintf("entries[%d]", i), want.Stats.Entries[i], got.Stats.Entries[i])
	}
	requireSameEntry(t, "total", want.Stats.Total, got.Stats.Total)
	require.Equal(t, normalize(want), normalize(got))
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}

func normTime(t time.Time) time.Time { return t.Round(0).UTC() }

func normPoints(ps []stats.Point) []stats.Point {
	ps = nilIfEmpty(ps)
	for i := range ps {
		ps[i].Time = normTime(ps[i].Time)
	}
	return ps
}

func normEntry(e stats.Entry) stats.Entry {
	e.Service, e.Response = nil, nil // compared by requireSameEntry
	e.Series = normPoints(e.Series)
	return e
}

func normalize(r Run) Run {
	r.Meta.Start, r.Meta.End = normTime(r.Meta.Start), normTime(r.Meta.End)
	r.Meta.Classes = nilIfEmpty(r.Meta.Classes)
	s := &r.Stats
	s.Start, s.End = normTime(s.Start), normTime(s.End)
	s.Entries = nilIfEmpty(s.Entries)
	for i := range s.Entries {
		s.Entries[i] = normEntry(s.Entries[i])
	}
	s.Total = normEntry(s.Total)
	s.Failures = nilIfEmpty(s.Failures)
	for i := range s.Failures {
		s.Failures[i].FirstSeen, s.Failures[i].LastSeen = normTime(s.Failures[i].FirstSeen), normTime(s.Failures[i].LastSeen)
	}
	s.Exceptions = nilIfEmpty(s.Exceptions)
	s.Series = normPoints(s.Series)
	r.Checks, r.Alerts = nilIfEmpty(r.Checks), nilIfEmpty(r.Alerts)
	r.Verdict.Reasons = nilIfEmpty(r.Verdict.Reasons)
	if r.Baseline != nil {
		b := *r.Baseline
		b.BaselineStart = normTime(b.BaselineStart)
		b.Rows, b.OnlyInBaseline, b.OnlyInRun = nilIfEmpty(b.Rows), nilIfEmpty(b.OnlyInBaseline), nilIfEmpty(b.OnlyInRun)
		r.Baseline = &b
	}
	if r.Server != nil {
		v := *r.Server
		rep := v.Report
		rep.Transitions = nilIfEmpty(rep.Transitions)
		for i := range rep.Transitions {
			rep.Transitions[i].Time = normTime(rep.Transitions[i].Time)
		}
		rep.Periods = nilIfEmpty(rep.Periods)
		for i := range rep.Periods {
			rep.Periods[i].From, rep.Periods[i].To = normTime(rep.Periods[i].From), normTime(rep.Periods[i].To)
		}
		v.Report = rep
		r.Server = &v
	}
	return r
}

// ---- Round trip, golden, determinism ----

func TestRoundTrip(t *testing.T) {
	for name, run := range map[string]Run{"live": liveRun(t), "golden": goldenRun()} {
		t.Run(name, func(t *testing.T) {
			// The fixture must exercise what the format has to carry.
			var differ bool
			for _, e := range run.Stats.Entries {
				differ = differ || !e.Service.Equals(respHist(e))
			}
			require.True(t, differ, "no entry's clocks differ")
			require.NotZero(t, run.Stats.Total.Failures)
			require.NotEmpty(t, run.Stats.Exceptions)
			require.NotEmpty(t, run.Stats.Series)

			data := encode(t, run)
			got := decode(t, data)
			requireSameRun(t, run, got)
			if again := encode(t, got); !bytes.Equal(again, data) {
				t.Fatalf("Encode(Decode(x)) differs from x:\n%s", firstDiff(data, again))
			}
			// The response histogram is written only where the clocks differ.
			if n, want := bytes.Count(data, []byte(`"response_hist"`)), countDiffering(run); n != want {
				t.Errorf("%d response_hist keys, want %d", n, want)
			}
		})
	}
}

func countDiffering(run Run) int {
	n := 0
	for _, e := range append(append([]stats.Entry(nil), run.Stats.Entries...), run.Stats.Total) {
		if !e.Service.Equals(respHist(e)) {
			n++
		}
	}
	return n
}

func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return "(equal)"
}

func TestGolden(t *testing.T) {
	data := goldenJSON()
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("encoding differs from %s (rerun with -update if intended):\n%s", goldenPath, firstDiff(want, data))
	}
	// The golden file decodes to the run it was made from.
	requireSameRun(t, goldenRun(), decode(t, want))
}

func TestEncodeDeterministic(t *testing.T) {
	run := liveRun(t)
	a, b := encode(t, run), encode(t, run)
	require.Equal(t, string(a), string(b))
	// A copy of the histograms (other pointers, same counts) changes nothing.
	c := run
	c.Stats.Entries = append([]stats.Entry(nil), run.Stats.Entries...)
	for i := range c.Stats.Entries {
		c.Stats.Entries[i] = c.Stats.Entries[i].Clone()
	}
	require.Equal(t, string(a), string(encode(t, c)))
}

func TestEncodeShape(t *testing.T) {
	data := goldenJSON()
	require.True(t, bytes.HasPrefix(data, []byte("{\n  \"format\": \"xagent-perf-run\",\n  \"version\": 1,\n")), "head:\n%s", data[:80])
	require.True(t, bytes.HasSuffix(data, []byte("}\n")))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	for _, k := range []string{"format", "version", "meta", "stats", "checks", "alerts", "verdict", "baseline"} {
		require.Contains(t, doc, k)
	}
	meta := doc["meta"].(map[string]any)
	require.Equal(t, 90.5, meta["duration_s"])
	require.Equal(t, "1m30.5s", meta["duration"])
	require.Equal(t, "2026-03-01T13:00:00+01:00", meta["start"])
	// URLs are written as they are, not HTML-escaped.
	require.Contains(t, string(data), `"host": "http://127.0.0.1:8089/api?tenant=a&mode=<fake>"`)
	p := doc["stats"].(map[string]any)["series"].([]any)[0].(map[string]any)
	require.Len(t, p["recent_ms"], stats.NumPercentiles)
	// The check the gate cannot apply has no grade.
	checks := doc["checks"].([]any)
	last := checks[len(checks)-1].(map[string]any)
	require.Equal(t, "p99_ms", last["metric"])
	require.Nil(t, last["grade"])
	require.Contains(t, last, "grade")
}

// ---- Non-finite numbers, durations, snapshot behaviour ----

func TestEncodeNonFinite(t *testing.T) {
	run := goldenRun()
	nan, inf := math.NaN(), math.Inf(1)
	run.Meta.SpawnRate = inf
	run.Checks[0].Value = nan
	run.Checks[0].Bounds.Poor = math.Inf(-1)
	run.Alerts[0].Value = nan
	run.Stats.Series[0].RPS = inf
	run.Stats.Series[0].RecentMS[3] = nan
	run.Baseline.Rows[0].ChangePct = inf
	run.Server.Report.Endpoints[0].P50.MS = nan // one rule for every float, a server quantile's too
	data := encode(t, run)
	for _, want := range []string{`"spawn_rate": null`, `"value": null`, `"poor": null`, `"rps": null`, `"change_pct": null`} {
		require.Contains(t, string(data), want)
	}
	got := decode(t, data)
	for name, v := range map[string]float64{
		"spawn_rate": got.Meta.SpawnRate, "check value": got.Checks[0].Value, "poor": got.Checks[0].Bounds.Poor,
		"alert value": got.Alerts[0].Value, "rps": got.Stats.Series[0].RPS, "recent": got.Stats.Series[0].RecentMS[3],
		"change_pct": got.Baseline.Rows[0].ChangePct, "server p50": got.Server.Report.Endpoints[0].P50.MS,
	} {
		if !math.IsNaN(v) {
			t.Errorf("%s = %v, want NaN from null", name, v)
		}
	}
	// The unbounded bucket's upper edge is +Inf again.
	require.True(t, math.IsInf(got.Server.Report.Endpoints[0].P99.UpperMS, 1))
	require.Equal(t, string(data), string(encode(t, got)))
}

func TestDurationSeconds(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999_999_999, time.Second, 90*time.Second + 500*time.Millisecond,
		time.Duration(math.MaxInt64), -time.Duration(math.MaxInt64), time.Duration(math.MinInt64), 1234567890123456789} {
		b := formatSeconds(d)
		got, ok := parseSeconds(string(b))
		require.True(t, ok, "%s", b)
		require.Equal(t, d, got, "%s", b)
		f, err := strconv.ParseFloat(string(b), 64)
		require.NoError(t, err)
		require.InDelta(t, d.Seconds(), f, math.Abs(d.Seconds())*1e-15)
	}
	for in, want := range map[string]time.Duration{"1e3": 1000 * time.Second, "0.0000000015": 2, "1.5E-3": 1500 * time.Microsecond, "-0": 0} {
		got, ok := parseSeconds(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"1e20", "9223372037", "-9223372037"} {
		_, ok := parseSeconds(in)
		require.False(t, ok, in)
	}
}

// TestDecodedSnapshotBehaves checks that decoded entries work with package
// stats exactly as the recorder's own: Clone, Merge, comparison.
func TestDecodedSnapshotBehaves(t *testing.T) {
	run := liveRun(t)
	got := decode(t, encode(t, run))
	merge := func(es []stats.Entry) stats.Entry {
		m := es[0].Clone()
		for _, e := range es[1:] {
			m.Merge(e.Clone())
		}
		return m
	}
	want, have := merge(run.Stats.Entries), merge(got.Stats.Entries)
	requireSameEntry(t, "merged", want, have)
	// Merging the entries gives the aggregate, before and after decoding.
	requireSameEntry(t, "merged vs total", got.Stats.Total, have)
	require.Equal(t, want.Requests, have.Requests)
	// The decoded snapshot compares equal to the original. A file keeps wall
	// clock times only, so compare with the original's monotonic readings
	// stripped: its rates use the wall clock too.
	orig := run.Stats
	orig.Start, orig.End = orig.Start.Round(0), orig.End.Round(0)
	for _, row := range compare.Compare(orig, got.Stats, compare.DefaultLimits()).Rows {
		if row.Old != row.New || row.Regressed {
			t.Errorf("compare original vs decoded: %s", row.Message())
		}
	}
	// A decoded entry whose clocks agreed keeps Response nil ("same as Service").
	for _, e := range got.Stats.Entries {
		if e.Response != nil && e.Response.Equals(e.Service) {
			t.Errorf("%s: Response equals Service but is not nil", e.Label())
		}
	}
}

// ---- Rejections ----

// goldenJSON is the encoded golden run, made once.
var goldenJSON = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	if err := Encode(&buf, goldenRun()); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// withFuture is the golden run with an unknown top-level key "future" first.
func withFuture(value string) []byte {
	return append([]byte(`{"future": `+value+`,`), goldenJSON()[1:]...)
}

// doc is the golden run as generic JSON, numbers kept exact.
func doc(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(goldenJSON()))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

var deleteKey = new(int)

// set sets the value at a dotted path ("stats.entries.0.requests") of a
// generic JSON document, deleting the key when v is deleteKey.
func set(t *testing.T, d any, path string, v any) {
	t.Helper()
	keys := strings.Split(path, ".")
	for i, k := range keys {
		last := i == len(keys)-1
		switch c := d.(type) {
		case map[string]any:
			if last {
				if v == deleteKey {
					delete(c, k)
				} else {
					c[k] = v
				}
				return
			}
			d = c[k]
		case []any:
			n, err := strconv.Atoi(k)
			require.NoError(t, err, path)
			if last {
				c[n] = v
				return
			}
			d = c[n]
		default:
			t.Fatalf("set %s: %T at %q", path, d, k)
		}
	}
}

func get(t *testing.T, d any, path string) any {
	t.Helper()
	for k := range strings.SplitSeq(path, ".") {
		switch c := d.(type) {
		case map[string]any:
			d = c[k]
		case []any:
			n, _ := strconv.Atoi(k)
			d = c[n]
		default:
			t.Fatalf("get %s: %T at %q", path, d, k)
		}
	}
	return d
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return b
}

func hist(t testing.TB, h *hdrhistogram.Histogram, values ...int64) string {
	t.Helper()
	for _, v := range values {
		require.NoError(t, h.RecordValue(v))
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	return string(b)
}

// withLimits runs f with lowered decode limits.
func withLimits(t *testing.T, change func(*decodeLimits)) {
	old := limits
	change(&limits)
	t.Cleanup(func() { limits = old })
}

func TestDecodeRejects(t *testing.T) {
	// The golden run's entries: [0] POST /goals, 2 requests, clocks differ; [1] GET /status,
	// 3 requests, 1 failure; [2] GET /goals (auth), 1 request. Total: 6 requests, 1 failure.
	type edit func(t *testing.T, d map[string]any)
	setTo := func(path string, v any) edit { return func(t *testing.T, d map[string]any) { set(t, d, path, v) } }
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name  string
		raw   []byte // the input; nil means the golden document after edit
		edit  edit
		limit func(*decodeLimits)
		want  []string // substrings of the error
	}{
		{name: "empty", raw: []byte(""), want: []string{"run file: empty input"}},
		{name: "blank", raw: []byte(" \n\t"), want: []string{"run file: empty input"}},
		{name: "not JSON", raw: []byte("hello, world"), want: []string{"run file: not valid JSON at line 1, column 1"}},
		{name: "JSON array", raw: []byte(`[1, 2]`), want: []string{"not a run file: the document is a JSON array, want an object"}},
		{name: "format missing", edit: setTo("format", deleteKey), want: []string{`run file: not a run file: no "format" key`}},
		{name: "format other", edit: setTo("format", "locust-stats"), want: []string{`run file: format: not a run file: format "locust-stats", want "xagent-perf-run"`}},
		{name: "format not string", edit: setTo("format", 7), want: []string{"format: not a run file: format is a JSON value 7"}},
		{name: "version missing", edit: setTo("version", deleteKey), want: []string{`run file: no "version" key`}},
		{name: "version newer", edit: setTo("version", 2), want: []string{"run file: version: version 2 is newer than this harness reads (1)"}},
		{name: "version zero", edit: setTo("version", 0), want: []string{"version: version 0 is not a valid version"}},
		{name: "version fraction", edit: setTo("version", json.Number("1.5")), want: []string{"version: 1.5 is not an integer"}},
		{name: "too large", limit: func(l *decodeLimits) { l.fileBytes = 1000 }, raw: goldenJSON(), want: []string{"run file: larger than the 1000-byte limit"}},
		{name: "wrong type", edit: setTo("stats.entries.0.requests", "ten"), want: []string{"run file: stats.entries[0].requests: got string, want an integer (line "}},
		{name: "wrong float type", edit: setTo("stats.series.0.rps", "fast"), want: []string{"run file: stats.series[0].rps: got string, want a number or null (line "}},
		{name: "float out of range", raw: nil, edit: setTo("checks.0.value", json.Number("1e400")), want: []string{"run file: checks[0].value: got number 1e400, want a number or null (line "}},
		{name: "negative requests", edit: setTo("stats.entries.0.requests", -1), want: []string{"run file: stats.entries[0].requests: -1 is negative"}},
		{name: "negative content", edit: setTo("stats.entries.1.content_bytes", -5), want: []string{"run file: stats.entries[1].content_bytes: -5 is negative"}},
		{name: "failures over requests", edit: setTo("stats.entries.0.failures", 3), want: []string{"run file: stats.entries[0].failures: 3 failures but 2 requests"}},
		{name: "min over max", edit: setTo("stats.entries.0.min_us", 9_000_000), want: []string{"run file: stats.entries[0].min_us: 9000000 is above max_us 15000"}},
		{name: "negative server count", edit: setTo("server.endpoints.0.requests", -3), want: []string{"run file: server.endpoints[0].requests: -3 is not a count"}},
		{name: "period ends before it starts", edit: setTo("server.periods.0.to", "2000-01-01T00:00:00Z"), want: []string{"run file: server.periods[0].to: before from"}},
		{name: "negative dropped", edit: setTo("generator.dropped", -1), want: []string{"run file: generator.dropped: -1 is negative"}},
		{name: "too many entries", limit: func(l *decodeLimits) { l.entries = 2 }, raw: goldenJSON(), want: []string{"run file: stats.entries: 3 entries, more than the limit of 2"}},
		{name: "duplicate entry", edit: func(t *testing.T, d map[string]any) {
			set(t, d, "stats.entries.1.method", "POST")
			set(t, d, "stats.entries.1.name", "/goals")
			set(t, d, "stats.entries.1.response_hist", get(t, d, "stats.entries.0.response_hist"))
			set(t, d, "stats.entries.1.service_hist", get(t, d, "stats.entries.0.service_hist"))
			set(t, d, "stats.entries.1.requests", 2)
			set(t, d, "stats.entries.1.failures", 0)
			set(t, d, "stats.entries.1.min_us", 0)
		}, want: []string{`run file: stats.entries[1]: duplicate of entries[0] (method "POST", name "/goals")`}},
		{name: "too many points", limit: func(l *decodeLimits) { l.points = 3 }, raw: goldenJSON(), want: []string{"run file: stats.series: 1 points bring the run past the limit of 3 series points"}},
		{name: "recent_ms short", edit: setTo("stats.series.0.recent_ms", []any{1, 2, 3}), want: []string{"run file: stats.series[0].recent_ms: 3 values, want 11"}},
		{name: "recent_ms null", edit: setTo("stats.entries.1.series.0.recent_ms", nil), want: []string{"run file: stats.entries[1].series[0].recent_ms: 0 values, want 11"}},
		{name: "point failures over requests", edit: setTo("stats.series.0.failures", 7), want: []string{"run file: stats.series[0].failures: 7 failures but 6 requests"}},
		{name: "point negative users", edit: setTo("stats.series.0.users", -2), want: []string{"run file: stats.series[0].users: -2 is negative"}},
		{name: "point bad time", edit: setTo("stats.series.0.time", "yesterday"), want: []string{`run file: stats.series[0].time: "yesterday" is not an RFC 3339 time`}},
		{name: "meta bad time", edit: setTo("meta.start", "2026-03-01 12:00:00"), want: []string{`run file: meta.start: "2026-03-01 12:00:00" is not an RFC 3339 time`}},
		{name: "negative duration", edit: setTo("meta.duration_s", -1.5), want: []string{"run file: meta.duration_s: -1.5 seconds is negative"}},
		{name: "duration out of range", edit: setTo("meta.duration_s", json.Number("1e300")), want: []string{"run file: meta.duration_s: got number 1e300, want a number of seconds"}},
		{name: "long name", edit: setTo("stats.entries.2.name", long(4097)), want: []string{"run file: stats.entries[2].name: 4097 bytes, longer than the 4 KiB limit"}},
		{name: "long class", edit: setTo("meta.classes.1", long(5000)), want: []string{"run file: meta.classes[1]: 5000 bytes, longer than the 4 KiB limit"}},
		{name: "long error", edit: setTo("stats.failures.0.error", long(64<<10+1)), want: []string{"run file: stats.failures[0].error: 65537 bytes, longer than the 64 KiB limit"}},
		{name: "long traceback", edit: setTo("stats.exceptions.0.traceback", long(1<<20+1)), want: []string{"run file: stats.exceptions[0].traceback: 1048577 bytes, longer than the 1 MiB limit"}},
		{name: "long reason", edit: setTo("verdict.reasons.0", long(64<<10+1)), want: []string{"run file: verdict.reasons[0]: 65537 bytes"}},
		{name: "negative exception count", edit: setTo("stats.exceptions.0.count", -1), want: []string{"run file: stats.exceptions[0].count: -1 is negative"}},
		{name: "negative occurrences", edit: setTo("stats.failures.0.occurrences", -3), want: []string{"run file: stats.failures[0].occurrences: -3 is negative"}},
		{name: "bad grade", edit: setTo("checks.1.grade", "Excellent"), want: []string{`run file: checks[1].grade: "Excellent" is not a grade`}},
		{name: "long row note", edit: setTo("baseline.rows.2.note", long(70000)), want: []string{"run file: baseline.rows[2].note: 70000 bytes"}},
		{name: "total requests", edit: setTo("stats.total.requests", 7), want: []string{"run file: stats.total.requests: 7, but the entries' requests add up to 6"}},
		{name: "total failures", edit: setTo("stats.total.failures", 0), want: []string{"run file: stats.total.failures: 0, but the entries' failures add up to 1"}},
		{name: "hist count", edit: func(t *testing.T, d map[string]any) {
			set(t, d, "stats.entries.0.service_hist", get(t, d, "stats.entries.1.service_hist"))
		}, want: []string{"run file: stats.entries[0].service_hist: histogram holds 3 values, want 2 (the entry's requests)"}},
		{name: "response hist count", edit: func(t *testing.T, d map[string]any) {
			set(t, d, "stats.entries.1.response_hist", get(t, d, "stats.entries.0.response_hist"))
		}, want: []string{"run file: stats.entries[1].response_hist: histogram holds 2 values, want 3"}},
		{name: "hist missing", edit: setTo("stats.entries.0.service_hist", deleteKey), want: []string{"run file: stats.entries[0].service_hist: missing, want a histogram of 2 values"}},
		{name: "hist hostile bounds", edit: func(t *testing.T, d map[string]any) {
			set(t, d, "stats.entries.0.service_hist", hist(t, hdrhistogram.New(1, 1<<40, 5), 8000))
		}, want: []string{"run file: stats.entries[0].service_hist: histogram bounds 1..1099511627776 sig 5, want 1..60000000 sig 3"}},
		{name: "hist hostile total", edit: func(t *testing.T, d map[string]any) {
			set(t, d, "stats.total.service_hist", hist(t, hdrhistogram.New(0, 9_000_000_000, 2)))
		}, want: []string{"run file: stats.total.service_hist: histogram bounds 1..9000000000 sig 2, want 1..60000000 sig 3"}},
		{name: "hist too long", edit: setTo("stats.entries.0.service_hist", long(1<<20+4)), want: []string{"run file: stats.entries[0].service_hist: 1048580 bytes of base64, more than the 1 MiB limit for a histogram"}},
		{name: "hist not base64", edit: setTo("stats.entries.0.service_hist", "not base64!"), want: []string{"run file: stats.entries[0].service_hist: not base64"}},
		{name: "hist wrong cookie", edit: setTo("stats.entries.0.service_hist", "AAAAAAAAAAAAAAAA"), want: []string{"run file: stats.entries[0].service_hist: not a V2 compressed HdrHistogram (cookie 0x00000000)"}},
		{name: "hist truncated", edit: func(t *testing.T, d map[string]any) {
			s := get(t, d, "stats.entries.0.service_hist").(string)
			set(t, d, "stats.entries.0.service_hist", s[:len(s)/2/4*4])
		}, want: []string{"run file: stats.entries[0].service_hist: histogram says"}},
		{name: "nested just deep enough", raw: withFuture(strings.Repeat("[", 63) + strings.Repeat("]", 63)), want: nil},
		{name: "nested too deep", raw: withFuture(strings.Repeat("[", 64) + strings.Repeat("]", 64)),
			want: []string{"run file: JSON nested deeper than 64 levels"}},
		{name: "too many objects", limit: func(l *decodeLimits) { l.points = 4 },
			raw:  withFuture("[" + strings.Repeat(`{"a": "{,}"}, `, 500_000) + "{}]"),
			want: []string{"run file: more than 500004 JSON objects"}},
		{name: "objects just below the limit", limit: func(l *decodeLimits) { l.points = 4 },
			raw: withFuture("[" + strings.Repeat(`{"a": "{,}"}, `, 500_003-bytes.Count(goldenJSON(), []byte("{"))) + "{}]"), want: nil},
		{name: "too many elements", limit: func(l *decodeLimits) { l.points = 4 },
			raw:  withFuture("[" + strings.Repeat(`"[,]", `, 1_000_048) + "0]"),
			want: []string{"run file: more than 1000048 JSON array elements"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.limit != nil {
				withLimits(t, c.limit)
			}
			data := c.raw
			if data == nil {
				d := doc(t)
				c.edit(t, d)
				data = marshal(t, d)
			}
			_, err := Decode(bytes.NewReader(data))
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
			var de *decodeError
			if !errors.As(err, &de) && !strings.HasPrefix(err.Error(), "run file: ") {
				t.Errorf("error %q does not start with \"run file: \"", err)
			}
		})
	}
}

func TestDecodeTruncated(t *testing.T) {
	data := goldenJSON()
	for _, n := range []int{1, 20, len(data) / 3, len(data) / 2, len(data) - 3} {
		_, err := Decode(bytes.NewReader(data[:n]))
		require.Error(t, err, "truncated at %d", n)
		require.Contains(t, err.Error(), "run file: truncated: the JSON ends early at line ")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDecodeReadError(t *testing.T) {
	_, err := Decode(failingReader{})
	require.EqualError(t, err, "run file: read: disk on fire")
}

// TestDecodeTolerates checks what Decode accepts: unknown keys (forward
// compatibility), a response histogram equal to the service histogram, nulls.
func TestDecodeTolerates(t *testing.T) {
	d := doc(t)
	d["future_top"] = map[string]any{"x": []any{1, 2, 3}}
	set(t, d, "stats.entries.0.future_entry", "ignored")
	set(t, d, "stats.series.0.future_point", 1.5)
	set(t, d, "stats.entries.0.response_hist", get(t, d, "stats.entries.0.service_hist"))
	set(t, d, "checks.0.grade", "needs-investigation")
	set(t, d, "alerts.0.value", nil)
	got := decode(t, marshal(t, d))
	require.Nil(t, got.Stats.Entries[0].Response)
	require.Equal(t, target.GradeNeedsInvestigation, got.Checks[0].Grade)
	require.True(t, math.IsNaN(got.Alerts[0].Value))

	// The minimal run file.
	run := decode(t, []byte(`{"format": "xagent-perf-run", "version": 1}`))
	require.Zero(t, run.Stats.Total.Requests)
	require.NotNil(t, run.Stats.Total.Service)
	require.Nil(t, run.Baseline)
	again := decode(t, encode(t, run))
	requireSameRun(t, run, again)
}

// ---- Benchmarks ----

// benchRun is a ten-minute run's worth: 12 entries, 600 one-second points of
// the aggregate series (no entry history), a few checks and a comparison.
func benchRun(b *testing.B) Run {
	clk := &stepClock{t: t0, step: 10 * time.Minute}
	rec := stats.NewRecorder(stats.WithClock(clk.now), stats.WithInterval(time.Hour))
	for i := range 12 * 2000 {
		e := i % 12
		r := stats.Result{
			Method: []string{"GET", "POST"}[e%2], Name: fmt.Sprintf("/api/v1/resource%d", e),
			Start: t0.Add(time.Duration(i) * 25 * time.Millisecond), Bytes: int64(200 + e*10), Status: 200,
			Latency: time.Duration(300+(i*7919)%(5000*(e+1))) * time.Microsecond,
		}
		if i%97 == 0 {
			r.Status, r.Error = 503, "Got status code 503"
		}
		if e == 3 && i%5 == 0 {
			r.Intended = r.Start.Add(-time.Duration(i%40) * time.Millisecond)
		}
		rec.Record(r)
	}
	snap := rec.Close()
	snap.Series = make([]stats.Point, 600)
	for i := range snap.Series {
		p := stats.Point{
			Time: t0.Add(time.Duration(i+1) * time.Second), Users: 50, Requests: 40, Failures: int64(i % 2),
			RPS: 40, FailPS: float64(i % 2), P50MS: 1.5 + float64(i%10)/10, P95MS: 12.25, RespP50MS: 1.6, RespP95MS: 13.5,
			TotalRequests: int64(40 * (i + 1)), TotalFailures: int64(i / 2), TotalMedianMS: 1.7,
			TotalAvgMS: 3.456, TotalMinMS: 0.3, TotalMaxMS: 59.9, TotalAvgBytes: 255.5,
		}
		for j := range p.RecentMS {
			p.RecentMS[j] = float64(j+1) * 1.25
		}
		snap.Series[i] = p
	}
	return runFor(snap, snap, time.UTC)
}

func BenchmarkEncode(b *testing.B) {
	run := benchRun(b)
	size := len(encode(b, run))
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, run); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "B/run")
}

func BenchmarkDecode(b *testing.B) {
	data := encode(b, benchRun(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "B/run")
}

// TestEncodeNilHistograms: a hand-built Run without histograms encodes, and
// its empty entries decode with empty histograms.
func TestEncodeNilHistograms(t *testing.T) {
	run := Run{Stats: stats.Snapshot{Entries: []stats.Entry{{Method: "GET", Name: "/x"}}, Total: stats.Entry{Name: stats.TotalName}}}
	got := decode(t, encode(t, run))
	require.Len(t, got.Stats.Entries, 1)
	require.NotNil(t, got.Stats.Entries[0].Service)
	require.Zero(t, got.Stats.Entries[0].Service.TotalCount())
	require.Nil(t, got.Stats.Entries[0].Response)
	requireSameRun(t, run, got)
}
