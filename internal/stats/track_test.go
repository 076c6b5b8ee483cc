package stats

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecentPercentilesForgetIntervalsOlderThanTheWindow(t *testing.T) {
	t.Parallel()
	tr := newTrack()
	cum := newEntry("GET", "/w")
	t0 := time.Unix(1000, 0)
	record := func(lat time.Duration, n int) {
		for range n {
			r := Result{Latency: lat}
			cum.add(&r)
			tr.add(&r)
		}
	}
	// Interval 1 is slow (100 ms); the next RecentWindow intervals are fast (1 ms).
	record(100*time.Millisecond, 10)
	tr.close(t0.Add(time.Second), 1, 5, cum)
	for i := range RecentWindow {
		record(time.Millisecond, 10)
		tr.close(t0.Add(time.Duration(i+2)*time.Second), 1, 5, cum)
	}
	require.Len(t, tr.series, RecentWindow+1)
	first, secondLast, last := tr.series[0], tr.series[RecentWindow-1], tr.series[RecentWindow]
	assert.InDelta(t, 100, first.RecentMS[0], 0.1, "p50 of the first window is the slow interval")
	assert.InDelta(t, 100, secondLast.RecentMS[NumPercentiles-1], 0.1, "the slow interval is still in the window")
	assert.InDelta(t, 1, last.RecentMS[NumPercentiles-1], 0.01, "p100 after the window has slid past the slow interval")
	assert.InDelta(t, 1, last.P50MS, 0.01)
	assert.EqualValues(t, 10, last.Requests)
	assert.EqualValues(t, 110, last.TotalRequests)
	assert.InDelta(t, 1, last.TotalMedianMS, 0.01, "the cumulative median: 100 of 110 requests took 1 ms")
	assert.InDelta(t, 100, last.TotalMaxMS, 0.01)
	assert.InDelta(t, (10*100+100*1)/110.0, last.TotalAvgMS, 1e-6)
	assert.Equal(t, 5, last.Users)
	assert.Equal(t, t0.Add(11*time.Second), last.Time)
}

func TestEntryHistoryTicksAlignWithTheAggregate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := NewRecorder(WithInterval(10*time.Millisecond), WithEntryHistory())
		rec.Record(res("/a", time.Millisecond, ""))
		time.Sleep(10 * time.Millisecond)
		synctest.Wait() // the first interval is closed
		require.Len(t, rec.Ticks(0), 1)
		rec.Record(res("/b", 2*time.Millisecond, "boom"))
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		snap := rec.Close()
		ticks := snap.Ticks()
		require.Equal(t, len(snap.Series), len(ticks))
		require.Len(t, ticks, 2)
		assert.Len(t, ticks[0].Entries, 1, "only /a existed at the first tick")
		last := ticks[len(ticks)-1]
		require.Len(t, last.Entries, 2)
		assert.Equal(t, "/a", last.Entries[0].Name)
		assert.Equal(t, "/b", last.Entries[1].Name)
		assert.EqualValues(t, 1, last.Entries[1].TotalFailures)
		assert.Equal(t, last.Total.Time, last.Entries[1].Time)
		var n int64
		for _, tk := range ticks {
			n += tk.Total.Requests
		}
		assert.EqualValues(t, 2, n)
		assert.Len(t, rec.Ticks(len(ticks)-1), 1, "Ticks(from) after Close reads the final snapshot")
	})
}

func TestWithoutEntryHistoryEntriesHaveNoSeries(t *testing.T) {
	t.Parallel()
	rec := NewRecorder(WithInterval(10 * time.Millisecond))
	rec.Record(res("/a", time.Millisecond, ""))
	snap := rec.Close()
	require.NotEmpty(t, snap.Series)
	assert.Empty(t, snap.Entries[0].Series)
	assert.Empty(t, snap.Ticks()[0].Entries)
}
