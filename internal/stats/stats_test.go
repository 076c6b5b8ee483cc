package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func res(name string, lat time.Duration, errText string) Result {
	return Result{Method: "GET", Name: name, Start: time.Now(), Latency: lat, Bytes: 10, Status: 200, Error: errText}
}

// exactPercentile is the percentile of sorted samples by rounded rank
// (rank = ⌊q/100·n + ½⌋, clamped to [1, n]), the definition HDR histograms use.
func exactPercentile(sorted []int64, q float64) int64 {
	rank := int(math.Floor(q/100*float64(len(sorted)) + 0.5))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func TestPercentilesMatchExactComputation(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	rng := rand.New(rand.NewPCG(1, 2))
	var samples []int64
	for range 20_000 {
		us := int64(rng.ExpFloat64()*20_000) + 100 // µs, a long tail
		samples = append(samples, us)
		rec.Record(res("/x", time.Duration(us)*time.Microsecond, ""))
	}
	snap := rec.Close()
	slices.Sort(samples)
	e, ok := snap.Entry("GET", "/x")
	require.True(t, ok)
	for _, q := range []float64{50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100} {
		want := float64(exactPercentile(samples, q)) / 1000
		got := e.ServiceMS(q)
		// 3 significant figures: within 0.1 % of the exact value.
		assert.InDelta(t, want, got, want*0.001+0.001, "p%v", q)
	}
	assert.Equal(t, samples[0], e.MinMicros)
	assert.Equal(t, samples[len(samples)-1], e.MaxMicros)
	var sum int64
	for _, s := range samples {
		sum += s
	}
	assert.InDelta(t, float64(sum)/float64(len(samples))/1000, e.AvgMS(), 1e-9)
	assert.Equal(t, e.Requests, snap.Total.Requests)
}

func TestCountsFailuresAndGroups(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	rec.Record(res("/a", time.Millisecond, ""))
	rec.Record(res("/a", 2*time.Millisecond, "Got status code 503"))
	rec.Record(res("/a", 3*time.Millisecond, "Got status code 503"))
	rec.Record(res("/b", 4*time.Millisecond, "Timeout"))
	rec.Exception("panic: boom", "trace")
	rec.Exception("panic: boom", "trace")
	snap := rec.Close()

	require.Len(t, snap.Entries, 2)
	assert.Equal(t, "/a", snap.Entries[0].Name)
	assert.EqualValues(t, 3, snap.Entries[0].Requests)
	assert.EqualValues(t, 2, snap.Entries[0].Failures)
	assert.EqualValues(t, 4, snap.Total.Requests)
	assert.EqualValues(t, 3, snap.Total.Failures)
	assert.EqualValues(t, 40, snap.Total.ContentBytes)
	assert.InDelta(t, 0.75, snap.Total.FailRatio(), 1e-9)
	require.Len(t, snap.Failures, 2)
	assert.Equal(t, Failure{Method: "GET", Name: "/a", Error: "Got status code 503", Occurrences: 2},
		Failure{Method: snap.Failures[0].Method, Name: snap.Failures[0].Name, Error: snap.Failures[0].Error, Occurrences: snap.Failures[0].Occurrences})
	require.Len(t, snap.Exceptions, 1)
	assert.EqualValues(t, 2, snap.Exceptions[0].Count)
}

func TestResponseTimeCountsFromIntendedStart(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	now := time.Now()
	rec.Record(Result{Method: "GET", Name: "/s", Start: now, Intended: now.Add(-time.Second), Latency: 10 * time.Millisecond})
	snap := rec.Close()
	e := snap.Entries[0]
	assert.InDelta(t, 10, e.ServiceMS(50), 0.02)
	assert.InDelta(t, 1010, e.ResponseMS(50), 1.1)
}

func TestMergeEqualsOneHistogramOfAllSamples(t *testing.T) {
	t.Parallel()
	a, b, all := NewRecorder(), NewRecorder(), NewRecorder()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		r := res("/m", time.Duration(rng.IntN(500_000))*time.Microsecond, "")
		if i%2 == 0 {
			a.Record(r)
		} else {
			b.Record(r)
		}
		all.Record(r)
	}
	sa, sb, sall := a.Close(), b.Close(), all.Close()
	merged := sa.Total.Clone()
	merged.Merge(sb.Total)
	assert.Equal(t, sall.Total.Requests, merged.Requests)
	assert.Equal(t, sall.Total.SumMicros, merged.SumMicros)
	assert.Equal(t, sall.Total.MinMicros, merged.MinMicros)
	assert.Equal(t, sall.Total.MaxMicros, merged.MaxMicros)
	assert.True(t, sall.Total.Service.Equals(merged.Service), "merged histogram differs")
}

func TestTimeSeriesOnePointPerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := NewRecorder(WithInterval(20 * time.Millisecond))
		rec.SetUsers(3)
		for range 5 {
			rec.Record(res("/t", time.Millisecond, ""))
			time.Sleep(25 * time.Millisecond)
		}
		snap := rec.Close()
		require.Len(t, snap.Series, 6, "ticks at 20, 40 … 120 ms")
		var total int64
		for i, p := range snap.Series {
			total += p.Requests
			assert.Equal(t, 3, p.Users)
			if i > 0 {
				assert.True(t, p.Time.After(snap.Series[i-1].Time))
				assert.GreaterOrEqual(t, p.TotalRequests, snap.Series[i-1].TotalRequests)
			}
		}
		assert.EqualValues(t, 5, total, "every request lands in exactly one interval")
		assert.EqualValues(t, 5, snap.Series[len(snap.Series)-1].TotalRequests)
	})
}

func TestConcurrentRecordAndSnapshot(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				rec.Record(res(fmt.Sprintf("/w%d", w%3), time.Duration(i)*time.Microsecond, ""))
			}
		})
	}
	for range 10 {
		s := rec.Snapshot()
		assert.LessOrEqual(t, s.Total.Requests, int64(8000))
	}
	wg.Wait()
	mid := rec.Snapshot()
	assert.EqualValues(t, 8000, mid.Total.Requests, "a snapshot includes everything recorded before it")
	final := rec.Close()
	assert.EqualValues(t, 8000, final.Total.Requests)
	assert.Len(t, final.Entries, 3)
	assert.Equal(t, final.Total.Requests, rec.Snapshot().Total.Requests, "snapshot after close is the final one")
}

func TestResetClearsStatistics(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	rec.Record(res("/r", time.Millisecond, "x"))
	rec.Reset()
	rec.Record(res("/r", time.Millisecond, ""))
	snap := rec.Close()
	assert.EqualValues(t, 1, snap.Total.Requests)
	assert.Empty(t, snap.Failures)
}

func TestFailureGroupsAreBounded(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	for i := range maxFailureGroups + 50 {
		rec.Record(res("/f", time.Millisecond, fmt.Sprintf("error %d", i)))
	}
	snap := rec.Close()
	assert.LessOrEqual(t, len(snap.Failures), maxFailureGroups+1)
	var n int64
	for _, f := range snap.Failures {
		n += f.Occurrences
	}
	assert.EqualValues(t, maxFailureGroups+50, n, "no failure is lost")
}

// BenchmarkRecord measures the cost of recording one result, from parallel senders.
func BenchmarkRecord(b *testing.B) {
	rec := NewRecorder()
	names := []string{"/status", "/goals", "/health", "/ready"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		r := Result{Method: "GET", Start: time.Now(), Latency: 3 * time.Millisecond, Status: 200}
		for pb.Next() {
			r.Name = names[i&3]
			r.Latency += time.Microsecond
			rec.Record(r)
			i++
		}
	})
	rec.Close()
}

// BenchmarkAggregate measures the aggregator's share of recording one result
// (entry lookup and four histogram writes), without the hand-off.
func BenchmarkAggregate(b *testing.B) {
	st := (&Recorder{now: time.Now}).newState()
	names := []string{"/status", "/goals", "/health", "/ready"}
	r := Result{Method: "GET", Start: time.Now(), Latency: 3 * time.Millisecond, Status: 200}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Name = names[i&3]
		r.Latency += time.Microsecond
		st.add(&r)
		i++
	}
}

func TestResponseClockStartsAsServiceAndDivergesExactly(t *testing.T) {
	t.Parallel()
	now := time.Now()
	on := Result{Method: "GET", Name: "/c", Start: now, Latency: 10 * time.Millisecond}
	late := on
	late.Intended = now.Add(-time.Second)

	a := NewRecorder()
	for range 99 {
		a.Record(on)
	}
	a.Record(late)
	sa := a.Close()
	e := sa.Entries[0]
	assert.InDelta(t, 10, e.ResponseMS(50), 0.02, "on-time samples count once in the response clock")
	assert.InDelta(t, 1010, e.ResponseMS(100), 1.1)
	assert.EqualValues(t, 100, e.Response.TotalCount())
	assert.InDelta(t, 10, e.ServiceMS(100), 0.02)
	require.NotEmpty(t, sa.Series)
	assert.InDelta(t, 10, sa.Series[0].RespP50MS, 0.02)

	// Merging an entry whose clocks agreed with one where they did not.
	b := NewRecorder()
	b.Record(on)
	sb := b.Close()
	m := sb.Entries[0].Clone()
	m.Merge(e)
	assert.EqualValues(t, 101, m.Response.TotalCount())
	assert.InDelta(t, 1010, m.ResponseMS(100), 1.1)
	assert.EqualValues(t, 101, m.Service.TotalCount())
}
