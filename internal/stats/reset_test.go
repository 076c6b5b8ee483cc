package stats

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResetStatsKeepsTheSeriesAndRestartsTheStatistics is Locust's "Reset
// stats" in the middle of second 4 of a 5-second run: the final figures count
// from the reset, the series keeps every second.
func TestResetStatsKeepsTheSeriesAndRestartsTheStatistics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := NewRecorder(WithEntryHistory())
		rec.SetUsers(4)
		// Seconds 1 to 3: a slow warm-up with failures, an exception and an
		// entry (/warm) that is not seen again.
		rec.Record(res("/warm", 300*time.Millisecond, ""))
		perSecond(rec, 10, "/a", 100*time.Millisecond, "boom")
		rec.Exception("panic: warm-up", "trace")
		perSecond(rec, 10, "/a", 100*time.Millisecond, "")
		perSecond(rec, 10, "/a", 100*time.Millisecond, "")
		// Second 4: 5 slow requests, the reset at 3.55 s, 5 fast ones.
		gap := 100 * time.Millisecond
		for i := range 10 {
			time.Sleep(gap / 2)
			if i == 5 {
				rec.ResetStats()
			}
			lat := 100 * time.Millisecond
			if i >= 5 {
				lat = time.Millisecond
			}
			rec.Record(res("/a", lat, ""))
			time.Sleep(gap / 2)
		}
		// Second 5: fast.
		perSecond(rec, 20, "/b", time.Millisecond, "")
		synctest.Wait()
		snap := rec.Close()

		reset := at(3550 * time.Millisecond)
		assert.WithinDuration(t, reset, snap.Start, 0, "the statistics start at the reset")
		assert.WithinDuration(t, reset, snap.ResetAt, 0)
		assert.WithinDuration(t, at(5*time.Second), snap.End, 0)
		assert.Equal(t, int64(5+20), snap.Total.Requests, "requests since the reset")
		assert.Equal(t, int64(0), snap.Total.Failures)
		assert.InDelta(t, 25/1.45, snap.RPS(snap.Total), 1e-9, "over the time since the reset")
		assert.InDelta(t, 1, snap.Total.ServiceMS(50), 0.01, "the slow warm-up is gone")
		assert.Empty(t, snap.Failures)
		assert.Empty(t, snap.Exceptions)
		require.Len(t, snap.Entries, 3, "an entry not seen since the reset stays, empty, as in Locust")
		warm, ok := snap.Entry("GET", "/warm")
		require.True(t, ok)
		assert.Equal(t, int64(0), warm.Requests)
		assert.Len(t, warm.Series, 5, "and keeps its history")

		require.Len(t, snap.Series, 5, "every second is kept")
		s := snap.Series
		assert.Equal(t, int64(11), s[0].TotalRequests, "before the reset: as they were")
		assert.Equal(t, int64(10), s[0].TotalFailures)
		assert.Equal(t, int64(31), s[2].TotalRequests)
		assert.Equal(t, int64(10), s[3].Requests, "the second of the reset: all its requests")
		assert.Equal(t, 10.0, s[3].RPS)
		assert.Equal(t, int64(5), s[3].TotalRequests, "its cumulative figures: since the reset")
		assert.Equal(t, int64(0), s[3].TotalFailures)
		assert.InDelta(t, 1, s[3].TotalMedianMS, 0.01)
		assert.Equal(t, int64(25), s[4].TotalRequests)
		assert.Equal(t, snap.Total.Requests, s[4].TotalRequests)
		assert.Equal(t, 4, s[4].Users)

		ticks := rec.Ticks(0)
		require.Len(t, ticks, 5)
		assert.Len(t, ticks[0].Entries, 2, "/a and /warm")
		assert.Len(t, ticks[4].Entries, 3)
	})
}

// TestResetDropsEverythingAndRealignsTheIntervals is the harness's reset at
// the start of the load: nothing before it stays, and the first interval is a
// whole one from the reset.
func TestResetDropsEverythingAndRealignsTheIntervals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := NewRecorder()
		rec.Record(res("/before", time.Millisecond, "x"))
		time.Sleep(1500 * time.Millisecond) // a point at 1 s
		rec.Reset()
		rec.SetUsers(3)
		perSecond(rec, 10, "/a", time.Millisecond, "")
		synctest.Wait()
		snap := rec.Close()
		assert.WithinDuration(t, at(1500*time.Millisecond), snap.Start, 0)
		assert.True(t, snap.ResetAt.IsZero(), "Reset is a new start, not a statistics reset")
		assert.Equal(t, int64(10), snap.Total.Requests)
		assert.Empty(t, snap.Failures)
		require.Len(t, snap.Entries, 1)
		require.Len(t, snap.Series, 1, "the point before the reset is gone")
		assert.WithinDuration(t, at(2500*time.Millisecond), snap.Series[0].Time, 0, "a whole interval after the reset")
		assert.Equal(t, 10.0, snap.Series[0].RPS)
		assert.Equal(t, 3, snap.Series[0].Users)
	})
}

func TestResetsAfterCloseDoNothing(t *testing.T) {
	rec := NewRecorder()
	rec.Record(res("/a", time.Millisecond, ""))
	snap := rec.Close()
	rec.ResetStats()
	rec.Reset()
	assert.Equal(t, snap.Total.Requests, rec.Snapshot().Total.Requests)
}
