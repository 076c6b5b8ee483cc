package merge

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// segRun is a run of segment seg ("" for a whole run) of TestLoadLight against one host.
func segRun(seg string, snap stats.Snapshot) runfile.Run {
	return runfile.Run{
		Meta: runfile.Meta{Scenario: "TestLoadLight", Host: "http://api.test", Users: 10, SpawnRate: 2,
			Duration: time.Minute, Start: snap.Start, End: snap.End, Segment: seg, Stopped: stopDuration,
			Harness: runfile.HarnessVersion},
		Stats:     snap,
		Generator: runfile.Generator{Model: "users", Clock: "service"},
	}
}

func randomResult(rng *rand.Rand, i int) stats.Result {
	names := []string{"/goals (auth)", "/agent/status", "/memory", "/health"}
	methods := []string{"GET", "POST"}
	start := t0.Add(time.Duration(i) * time.Millisecond)
	r := stats.Result{
		Method: methods[rng.IntN(len(methods))],
		Name:   names[rng.IntN(len(names))],
		Start:  start,
		Bytes:  rng.Int64N(10_000),
		Status: 200,
	}
	switch x := rng.IntN(100); {
	case x == 0:
		r.Latency = 0 // under the histogram's lowest value
	case x == 1:
		r.Latency = 61 * time.Second // over its highest
	default:
		r.Latency = time.Duration(rng.ExpFloat64() * float64(40*time.Millisecond))
	}
	if rng.IntN(3) == 0 { // the schedule ran late
		r.Intended = start.Add(-time.Duration(rng.Int64N(int64(2 * time.Second))))
	}
	if rng.IntN(20) == 0 {
		r.Status = 500
		r.Error = []string{"HTTP 500", "timeout", "connection reset"}[rng.IntN(3)]
	}
	return r
}

func assertSameEntry(t *testing.T, want, got stats.Entry) {
	t.Helper()
	label := want.Label()
	assert.Equal(t, want.Method, got.Method, label)
	assert.Equal(t, want.Name, got.Name, label)
	assert.Equal(t, want.Requests, got.Requests, label)
	assert.Equal(t, want.Failures, got.Failures, label)
	assert.Equal(t, want.SumMicros, got.SumMicros, label)
	assert.Equal(t, want.MinMicros, got.MinMicros, label)
	assert.Equal(t, want.MaxMicros, got.MaxMicros, label)
	assert.Equal(t, want.ContentBytes, got.ContentBytes, label)
	require.NotNil(t, got.Service, label)
	assert.True(t, want.Service.Equals(got.Service), "%s: service histograms differ", label)
	wantResp, gotResp := want.Response, got.Response
	if wantResp == nil {
		wantResp = want.Service
	}
	if gotResp == nil {
		gotResp = got.Service
	}
	assert.True(t, wantResp.Equals(gotResp), "%s: response histograms differ", label)
	for _, q := range stats.Percentiles {
		assert.Equal(t, want.ServiceMS(q), got.ServiceMS(q), "%s: service p%v", label, q)
		assert.Equal(t, want.ResponseMS(q), got.ResponseMS(q), "%s: response p%v", label, q)
	}
	assert.Equal(t, want.AvgMS(), got.AvgMS(), label)
}

func TestMergeIsExactAgainstOneRecorder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 30_000
	one := stats.NewRecorder()
	segs := []*stats.Recorder{stats.NewRecorder(), stats.NewRecorder(), stats.NewRecorder()}
	for i := range n {
		r := randomResult(rng, i)
		one.Record(r)
		segs[rng.IntN(len(segs))].Record(r)
	}
	want := one.Close()
	runs := make([]runfile.Run, len(segs))
	for i, rec := range segs {
		runs[i] = segRun([]string{"1/3", "2/3", "3/3"}[i], rec.Close())
	}
	// Segments given out of order merge the same.
	runs[0], runs[2] = runs[2], runs[0]

	check := func(t *testing.T, runs []runfile.Run) {
		got, warnings, err := Runs(runs)
		require.NoError(t, err)
		assert.Empty(t, warnings)
		assert.Equal(t, "1-3/3", got.Meta.Segment)
		assert.Equal(t, int64(n), got.Stats.Total.Requests)
		assertSameEntry(t, want.Total, got.Stats.Total)
		require.Len(t, got.Stats.Entries, len(want.Entries))
		for i := range want.Entries {
			assertSameEntry(t, want.Entries[i], got.Stats.Entries[i])
		}
		assert.Equal(t, want.Failures, got.Stats.Failures)
	}
	t.Run("in memory", func(t *testing.T) { check(t, runs) })
	t.Run("through run files", func(t *testing.T) {
		decoded := make([]runfile.Run, len(runs))
		for i, r := range runs {
			var buf bytes.Buffer
			require.NoError(t, runfile.Encode(&buf, r))
			d, err := runfile.Decode(&buf)
			require.NoError(t, err)
			decoded[i] = d
		}
		check(t, decoded)
	})
	// The inputs are not modified.
	again, _, err := Runs(runs)
	require.NoError(t, err)
	assert.Equal(t, int64(n), again.Stats.Total.Requests)
}

func TestEntriesInSomeSegmentsOnlyAreKept(t *testing.T) {
	a, b := stats.NewRecorder(), stats.NewRecorder()
	a.Record(stats.Result{Method: "GET", Name: "/a", Start: t0, Latency: time.Millisecond})
	b.Record(stats.Result{Method: "GET", Name: "/b", Start: t0, Latency: 2 * time.Millisecond})
	b.Record(stats.Result{Method: "POST", Name: "/a", Start: t0, Latency: 3 * time.Millisecond})
	got, _, err := Runs([]runfile.Run{segRun("1/2", a.Close()), segRun("2/2", b.Close())})
	require.NoError(t, err)
	var labels []string
	for _, e := range got.Stats.Entries {
		labels = append(labels, e.Label())
	}
	assert.Equal(t, []string{"GET /a", "POST /a", "GET /b"}, labels)
	assert.Equal(t, int64(1000), got.Stats.Total.MinMicros)
	assert.Equal(t, int64(3000), got.Stats.Total.MaxMicros)
}

func TestFailuresAndExceptionsAddUp(t *testing.T) {
	fail := func(name, err string, at time.Duration) stats.Result {
		return stats.Result{Method: "GET", Name: name, Start: t0.Add(at), Latency: time.Millisecond, Error: err}
	}
	a, b := stats.NewRecorder(), stats.NewRecorder()
	a.Record(fail("/x", "HTTP 500", 5*time.Second))
	a.Record(fail("/x", "HTTP 500", 7*time.Second))
	a.Record(fail("/y", "timeout", time.Second))
	a.Exception("task panicked", "trace a")
	a.Exception("hook failed", "")
	b.Record(fail("/x", "HTTP 500", 2*time.Second))
	b.Record(fail("/x", "HTTP 500", 9*time.Second))
	b.Record(fail("/z", "timeout", 3*time.Second))
	b.Record(fail("/z", "timeout", 4*time.Second))
	b.Exception("hook failed", "trace b")
	b.Exception("task panicked", "trace b")
	b.Exception("task panicked", "trace b")
	sa, sb := a.Close(), b.Close()

	got, _, err := Runs([]runfile.Run{segRun("1/2", sa), segRun("2/2", sb)})
	require.NoError(t, err)
	assert.Equal(t, []stats.Failure{
		{Method: "GET", Name: "/x", Error: "HTTP 500", Occurrences: 4, FirstSeen: t0.Add(2 * time.Second), LastSeen: t0.Add(9 * time.Second)},
		{Method: "GET", Name: "/z", Error: "timeout", Occurrences: 2, FirstSeen: t0.Add(3 * time.Second), LastSeen: t0.Add(4 * time.Second)},
		{Method: "GET", Name: "/y", Error: "timeout", Occurrences: 1, FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(time.Second)},
	}, got.Stats.Failures)
	assert.Equal(t, []stats.Exception{
		{Message: "task panicked", Traceback: "trace a", Count: 3},
		{Message: "hook failed", Traceback: "trace b", Count: 2},
	}, got.Stats.Exceptions)
	assert.Equal(t, int64(7), got.Stats.Total.Failures)
	assert.Equal(t, minTime(sa.Start, sb.Start), got.Stats.Start)
	assert.Equal(t, maxTime(sa.End, sb.End), got.Stats.End)
}

// pt is a point at t0 + ms milliseconds with the given interval and cumulative figures.
func pt(ms int, users int, req, fail int64, p50 float64, totReq, totFail int64, totAvg, totMin, totMax float64) stats.Point {
	return stats.Point{Time: t0.Add(time.Duration(ms) * time.Millisecond), Users: users,
		Requests: req, Failures: fail, RPS: float64(req), FailPS: float64(fail), P50MS: p50, P95MS: 2 * p50,
		RespP50MS: p50, RespP95MS: 2 * p50,
		TotalRequests: totReq, TotalFailures: totFail, TotalAvgMS: totAvg, TotalMinMS: totMin, TotalMaxMS: totMax,
		TotalMedianMS: totAvg, TotalAvgBytes: 10 * totAvg}
}

// consistentSnap is a snapshot whose totals match its (empty) entries, with the given series.
func consistentSnap(series []stats.Point) stats.Snapshot {
	return stats.Snapshot{Start: t0, End: t0.Add(4 * time.Second), Total: stats.Entry{Name: stats.TotalName}, Series: series}
}

func TestSeriesAlignOnTheSecondAndCarryTotalsForward(t *testing.T) {
	// Segment 1 ticks at .3 s, segment 2 at .8 s and misses second 2.
	s1 := []stats.Point{
		pt(1300, 5, 10, 1, 10, 10, 1, 10, 2, 30),
		pt(2300, 5, 20, 0, 20, 30, 1, 16, 2, 40),
		pt(3300, 5, 30, 3, 30, 60, 4, 20, 1, 50),
	}
	s2 := []stats.Point{
		pt(1800, 4, 30, 0, 50, 30, 0, 50, 5, 90),
		pt(3800, 4, 10, 1, 70, 40, 1, 60, 4, 100),
	}
	got, _, err := Runs([]runfile.Run{segRun("1/2", consistentSnap(s1)), segRun("2/2", consistentSnap(s2))})
	require.NoError(t, err)
	require.Len(t, got.Stats.Series, 3)
	m1, m2, m3 := got.Stats.Series[0], got.Stats.Series[1], got.Stats.Series[2]

	// Second 1: both segments.
	assert.Equal(t, t0.Add(1800*time.Millisecond), m1.Time, "the latest point time of the second")
	assert.Equal(t, 9, m1.Users)
	assert.Equal(t, int64(40), m1.Requests)
	assert.Equal(t, int64(1), m1.Failures)
	assert.Equal(t, 40.0, m1.RPS)
	assert.Equal(t, 1.0, m1.FailPS)
	assert.InDelta(t, (10*10+30*50)/40.0, m1.P50MS, 1e-9, "request-weighted")
	assert.InDelta(t, (10*20+30*100)/40.0, m1.P95MS, 1e-9)
	assert.Equal(t, int64(40), m1.TotalRequests)
	assert.InDelta(t, (10*10+30*50)/40.0, m1.TotalAvgMS, 1e-9)
	assert.InDelta(t, 10*(10*10+30*50)/40.0, m1.TotalAvgBytes, 1e-9)
	assert.Equal(t, 2.0, m1.TotalMinMS)
	assert.Equal(t, 90.0, m1.TotalMaxMS)

	// Second 2: segment 2 has no point: its totals and users carry forward,
	// its interval figures count nothing.
	assert.Equal(t, t0.Add(2300*time.Millisecond), m2.Time)
	assert.Equal(t, 9, m2.Users)
	assert.Equal(t, int64(20), m2.Requests)
	assert.Equal(t, int64(0), m2.Failures)
	assert.Equal(t, 20.0, m2.RPS)
	assert.Equal(t, 20.0, m2.P50MS)
	assert.Equal(t, int64(30+30), m2.TotalRequests)
	assert.Equal(t, int64(1), m2.TotalFailures)
	assert.InDelta(t, (30*16+30*50)/60.0, m2.TotalAvgMS, 1e-9)
	assert.Equal(t, 2.0, m2.TotalMinMS)
	assert.Equal(t, 90.0, m2.TotalMaxMS)

	// Second 3: both again.
	assert.Equal(t, t0.Add(3800*time.Millisecond), m3.Time)
	assert.Equal(t, int64(40), m3.Requests)
	assert.Equal(t, int64(100), m3.TotalRequests)
	assert.Equal(t, int64(5), m3.TotalFailures)
	assert.Equal(t, 1.0, m3.TotalMinMS)
	assert.Equal(t, 100.0, m3.TotalMaxMS)
	assert.InDelta(t, (60*20+40*60)/100.0, m3.TotalAvgMS, 1e-9)
	assert.InDelta(t, (60*20+40*60)/100.0, m3.TotalMedianMS, 1e-9)

	// Cumulative totals never go down.
	for i := 1; i < len(got.Stats.Series); i++ {
		assert.GreaterOrEqual(t, got.Stats.Series[i].TotalRequests, got.Stats.Series[i-1].TotalRequests)
	}
}

func TestSeriesAfterASegmentEndedKeepsItsTotals(t *testing.T) {
	s1 := []stats.Point{pt(1500, 3, 10, 0, 5, 10, 0, 5, 1, 9)}
	s2 := []stats.Point{pt(1500, 2, 5, 0, 5, 5, 0, 5, 1, 9), pt(2500, 2, 5, 0, 5, 10, 0, 5, 1, 9)}
	got, _, err := Runs([]runfile.Run{segRun("1/2", consistentSnap(s1)), segRun("2/2", consistentSnap(s2))})
	require.NoError(t, err)
	require.Len(t, got.Stats.Series, 2)
	last := got.Stats.Series[1]
	assert.Equal(t, 2, last.Users, "segment 1 ended: its users no longer run")
	assert.Equal(t, int64(20), last.TotalRequests, "but its requests still count")
}

func TestSeriesMergesPointsOfOneSegmentInTheSameSecond(t *testing.T) {
	// A tick at 1.2 s, then a final partial interval of 0.5 s closing at 1.7 s.
	s := []stats.Point{
		pt(1200, 4, 12, 0, 10, 12, 0, 10, 1, 20),
		pt(1700, 4, 5, 1, 40, 17, 1, 12, 1, 60),
	}
	s[1].RPS, s[1].FailPS = 10, 2
	snap := consistentSnap(s)
	snap.Start = t0.Add(200 * time.Millisecond)
	got, _, err := Runs([]runfile.Run{segRun("1/2", snap)})
	require.NoError(t, err)
	require.Len(t, got.Stats.Series, 1)
	p := got.Stats.Series[0]
	assert.Equal(t, t0.Add(1700*time.Millisecond), p.Time)
	assert.Equal(t, int64(17), p.Requests)
	assert.Equal(t, int64(1), p.Failures)
	assert.InDelta(t, 17/1.5, p.RPS, 1e-9, "requests over the 1.5 s the two intervals cover")
	assert.InDelta(t, 1/1.5, p.FailPS, 1e-9)
	assert.InDelta(t, (12*10+5*40)/17.0, p.P50MS, 1e-9)
	assert.Equal(t, int64(17), p.TotalRequests, "the latest cumulative figures")
	assert.Equal(t, 60.0, p.TotalMaxMS)
}

func TestSeriesKeepsTheUsersOfAShortFinalPointsSecond(t *testing.T) {
	// An older run file: its final partial point shows the 0 users the runner
	// set after the last user ended.
	s := []stats.Point{
		pt(1200, 4, 12, 0, 10, 12, 0, 10, 1, 20),
		pt(1204, 0, 1, 0, 10, 13, 0, 10, 1, 20),
	}
	got, _, err := Runs([]runfile.Run{segRun("1/2", consistentSnap(s))})
	require.NoError(t, err)
	require.Len(t, got.Stats.Series, 1)
	assert.Equal(t, 4, got.Stats.Series[0].Users)
	assert.Equal(t, 4, got.Meta.Users)
}

// TestMergedUsersAreWhatRan is a run of 100 users over two segments (50
// each) whose ramp never finished: each reached 25, and segment 2 started
// when segment 1 was ending. The merged run ran 35 users at most, not the 100
// the segments asked for.
func TestMergedUsersAreWhatRan(t *testing.T) {
	series := func(startMS int, users ...int) []stats.Point {
		var out []stats.Point
		for i, u := range users {
			out = append(out, pt(startMS+1000*i, u, 10, 0, 5, int64(10*(i+1)), 0, 5, 1, 9))
		}
		return out
	}
	s1 := series(1300, 20, 25, 25)
	s2 := series(3600, 10, 25, 25)
	r1, r2 := segRun("1/2", consistentSnap(s1)), segRun("2/2", consistentSnap(s2))
	r1.Meta.Users, r2.Meta.Users = 50, 50
	got, _, err := Runs([]runfile.Run{r1, r2})
	require.NoError(t, err)
	var users []int
	for _, p := range got.Stats.Series {
		users = append(users, p.Users)
	}
	assert.Equal(t, []int{20, 25, 35, 25, 25}, users, "each second, the users of the segments running in it")
	assert.Equal(t, 35, got.Meta.Users, "the most that ran at once")
}

func TestEntrySeriesMergeOnlyWithEveryonesHistory(t *testing.T) {
	e := func(series []stats.Point) stats.Snapshot {
		s := consistentSnap(series)
		s.Entries = []stats.Entry{{Method: "GET", Name: "/a", Service: stats.NewHistogram(), Series: series}}
		return s
	}
	r1 := segRun("1/2", e([]stats.Point{pt(1500, 1, 0, 0, 0, 0, 0, 0, 0, 0)}))
	r2 := segRun("2/2", e([]stats.Point{pt(1600, 1, 0, 0, 0, 0, 0, 0, 0, 0)}))
	r1.Meta.EntryHistory, r2.Meta.EntryHistory = true, true
	got, warnings, err := Runs([]runfile.Run{r1, r2})
	require.NoError(t, err)
	assert.Empty(t, warnings)
	assert.True(t, got.Meta.EntryHistory)
	require.Len(t, got.Stats.Entries[0].Series, 1)
	assert.Equal(t, 2, got.Stats.Entries[0].Series[0].Users)

	r2.Meta.EntryHistory = false
	got, warnings, err = Files([]Named{{"seg-1.json", r1}, {"seg-2.json", r2}})
	require.NoError(t, err)
	assert.Equal(t, []string{"entries' time series dropped: seg-2.json kept none"}, warnings)
	assert.False(t, got.Meta.EntryHistory)
	assert.Nil(t, got.Stats.Entries[0].Series)
}

func TestRefusals(t *testing.T) {
	empty := stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}}
	run := func(seg string, edit func(*runfile.Run)) runfile.Run {
		r := segRun(seg, empty)
		if edit != nil {
			edit(&r)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		runs []runfile.Run
		want string
	}{
		{"nothing", nil, "no run files to merge"},
		{"scenario", []runfile.Run{run("1/2", nil), run("2/2", func(r *runfile.Run) { r.Meta.Scenario = "TestLoadMedium" })},
			"seg-2.json: scenario TestLoadMedium, but seg-1.json ran TestLoadLight"},
		{"host", []runfile.Run{run("1/2", nil), run("2/2", func(r *runfile.Run) { r.Meta.Host = "http://other" })},
			"seg-2.json: host http://other, but seg-1.json ran against http://api.test"},
		{"overlap", []runfile.Run{run("1/4", nil), run("3/4", nil), run("2/4", nil), run("4/4", nil), run("3/4", nil)},
			"seg-2.json and seg-5.json are both segment 3/4"},
		{"overlap with a merged run", []runfile.Run{run("1-3/4", nil), run("3/4", nil)},
			"seg-1.json and seg-2.json are both segment 3/4"},
		{"unsegmented after segmented", []runfile.Run{run("1/2", nil), run("", nil)},
			"seg-2.json has no segment, but seg-1.json is segment 1/2"},
		{"segmented after unsegmented", []runfile.Run{run("", nil), run("2/2", nil)},
			"seg-2.json is segment 2/2, but seg-1.json has no segment"},
		{"two whole runs", []runfile.Run{run("", nil), run("", nil)},
			"seg-1.json and seg-2.json are whole runs, not segments of one run (no segment)"},
		{"different n", []runfile.Run{run("1/2", nil), run("2/3", nil)},
			"seg-2.json: segment 2/3 of 3, but seg-1.json is segment 1/2 of 2"},
		{"different model", []runfile.Run{run("1/2", nil), run("2/2", func(r *runfile.Run) { r.Generator.Model = "arrivals" })},
			"seg-2.json: model arrivals, but seg-1.json ran model users"},
		{"bad segment", []runfile.Run{run("1/2", nil), run("3/2", nil)},
			`seg-2.json: segment "3/2": want i/n with 1 <= i <= n <= 10000`},
		{"inconsistent totals", []runfile.Run{run("1/2", nil), run("2/2", func(r *runfile.Run) {
			r.Stats.Total.Requests, r.Stats.Total.Service = 2, stats.NewHistogram()
			_ = r.Stats.Total.Service.RecordValues(1000, 2)
		})}, "inconsistent totals: seg-2.json's entries add up to 0 requests and 0 failures, its total to 2 and 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			named := make([]Named, len(tc.runs))
			for i, r := range tc.runs {
				named[i] = Named{Name: "seg-" + string(rune('1'+i)) + ".json", Run: r}
			}
			_, warnings, err := Files(named)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assert.Nil(t, warnings)
		})
	}
}

func TestMissingSegmentsAreAWarning(t *testing.T) {
	empty := stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}}
	got, warnings, err := Files([]Named{{"seg-2.json", segRun("2/3", empty)}, {"seg-1.json", segRun("1/3", empty)}})
	require.NoError(t, err)
	assert.Equal(t, []string{"segment 3/3 missing: the totals cover 2 of 3 segments"}, warnings)
	assert.Equal(t, "1,2/3", got.Meta.Segment)

	got, warnings, err = Runs([]runfile.Run{segRun("2/6", empty), segRun("5/6", empty)})
	require.NoError(t, err)
	assert.Equal(t, []string{"segments 1,3,4,6/6 missing: the totals cover 2 of 6 segments"}, warnings)
	assert.Equal(t, "2,5/6", got.Meta.Segment)
}

func TestMergedRunsMergeAgain(t *testing.T) {
	empty := stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}}
	got, warnings, err := Runs([]runfile.Run{segRun("5-6/6", empty), segRun("1,2/6", empty), segRun("3/6", empty), segRun("4/6", empty)})
	require.NoError(t, err)
	assert.Empty(t, warnings)
	assert.Equal(t, "1-6/6", got.Meta.Segment)
	assert.Equal(t, 40, got.Meta.Users)
}

func TestFormatSegment(t *testing.T) {
	assert.Equal(t, "1-3/3", formatSegment([]int{1, 2, 3}, 3))
	assert.Equal(t, "1,2/3", formatSegment([]int{1, 2}, 3))
	assert.Equal(t, "1,2,4-6,8/9", formatSegment([]int{1, 2, 4, 5, 6, 8}, 9))
	for _, s := range []string{"2/4", "1,2/3", "1-3/3", "1,2,4-6,8/9"} {
		seg, err := parseSegment(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, formatSegment(seg.idx, seg.n))
	}
	for _, bad := range []string{"0/2", "2", "a/b", "1/0", "3-2/4", "1,1/2", "1/10001"} {
		_, err := parseSegment(bad)
		assert.Error(t, err, bad)
	}
}

func TestMetaAndGenerator(t *testing.T) {
	empty := stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}}
	mk := func(seg string, start time.Duration, users int, classes []string, g runfile.Generator, stopped string, late time.Duration) runfile.Run {
		r := segRun(seg, empty)
		r.Meta.Start, r.Meta.End = t0.Add(start), t0.Add(start+time.Minute)
		r.Meta.Users, r.Meta.SpawnRate, r.Meta.Classes = users, float64(users)/2, classes
		r.Meta.Stopped, r.Meta.StartLate = stopped, late
		r.Meta.EntryHistory = true
		r.Generator = g
		r.Checks = []target.Check{{}}
		r.Alerts = []target.AlertResult{{}}
		r.Verdict = runfile.Verdict{Pass: true}
		r.Baseline = &compare.Result{}
		r.Server = &runfile.Server{}
		return r
	}
	g1 := runfile.Generator{Model: "arrivals", Rate: 10, MaxInFlight: 50, Clock: "response", Shape: "ramp",
		Arrivals: 100, Iterations: 99, Dropped: 1,
		Lag: saturation.LagStats{Count: 99, P50MS: 1, P90MS: 8, P99MS: 9, MaxMS: 20},
		Runtime: saturation.Runtime{SchedLatencyP99MS: 1, SchedLatencyMaxMS: 9, GCPauseP99MS: 0.5, GCCycles: 3,
			CPUUtilPct: 40, GOMAXPROCS: 4, Goroutines: 60, Notes: []string{"no rusage"}},
		Notes: []string{"lag unmeasured"}}
	g2 := runfile.Generator{Model: "arrivals", Rate: 15, MaxInFlight: 50,
		Arrivals: 150, Iterations: 140, Dropped: 10,
		Lag: saturation.LagStats{Count: 140, P50MS: 2, P90MS: 5, P99MS: 30, MaxMS: 15},
		Runtime: saturation.Runtime{SchedLatencyP99MS: 3, SchedLatencyMaxMS: 4, GCPauseP99MS: 0.2, GCCycles: 5,
			CPUUtilPct: 95, GOMAXPROCS: 8, Goroutines: 70},
		Saturated: true, Reasons: []string{"CPU 95%"}, Advice: "add processes"}
	got, warnings, err := Files([]Named{
		{"b.json", mk("2/2", -time.Second, 20, []string{"Writer", "Reader"}, g2, "interrupted", 3*time.Second)},
		{"a.json", mk("1/2", 0, 10, []string{"Reader", "Admin"}, g1, stopDuration, time.Second)},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"b.json stopped early: interrupted",
		"the server's view of the run is not merged: each segment watched the same server",
	}, warnings)

	m := got.Meta
	assert.Equal(t, "1,2/2", m.Segment)
	assert.Equal(t, 30, m.Users)
	assert.Equal(t, 15.0, m.SpawnRate)
	assert.Equal(t, t0.Add(-time.Second), m.Start)
	assert.Equal(t, t0.Add(time.Minute), m.End)
	assert.Equal(t, 3*time.Second, m.StartLate)
	assert.Equal(t, "interrupted", m.Stopped)
	assert.Equal(t, []string{"Reader", "Admin", "Writer"}, m.Classes, "segment 1's first")
	assert.True(t, m.EntryHistory)
	assert.Equal(t, "TestLoadLight", m.Scenario)

	g := got.Generator
	assert.Equal(t, "arrivals", g.Model)
	assert.Equal(t, "ramp", g.Shape, "segment 1's")
	assert.Equal(t, 25.0, g.Rate)
	assert.Equal(t, 100, g.MaxInFlight)
	assert.Equal(t, []int64{250, 239, 11}, []int64{g.Arrivals, g.Iterations, g.Dropped})
	assert.Equal(t, saturation.LagStats{Count: 239, P50MS: 2, P90MS: 8, P99MS: 30, MaxMS: 20}, g.Lag)
	rt := g.Runtime
	assert.Equal(t, []float64{3, 9, 0.5, 95}, []float64{rt.SchedLatencyP99MS, rt.SchedLatencyMaxMS, rt.GCPauseP99MS, rt.CPUUtilPct})
	assert.Equal(t, uint64(8), rt.GCCycles)
	assert.Equal(t, []int{12, 130}, []int{rt.GOMAXPROCS, rt.Goroutines})
	assert.Equal(t, []string{"segment 1/2: no rusage"}, rt.Notes)
	assert.True(t, g.Saturated)
	assert.Equal(t, []string{"segment 2/2: CPU 95%"}, g.Reasons)
	assert.Equal(t, []string{"segment 1/2: lag unmeasured"}, g.Notes)
	assert.Equal(t, "add processes", g.Advice)

	assert.Nil(t, got.Checks)
	assert.Nil(t, got.Alerts)
	assert.Equal(t, runfile.Verdict{}, got.Verdict)
	assert.Nil(t, got.Baseline)
	assert.Nil(t, got.Server)
}

func TestOneWholeRunMergesToItself(t *testing.T) {
	rec := stats.NewRecorder()
	rec.Record(stats.Result{Method: "GET", Name: "/a", Start: t0, Latency: 5 * time.Millisecond})
	snap := rec.Close()
	got, warnings, err := Runs([]runfile.Run{segRun("", snap)})
	require.NoError(t, err)
	assert.Empty(t, warnings)
	assert.Equal(t, "", got.Meta.Segment)
	assertSameEntry(t, snap.Total, got.Stats.Total)
}
