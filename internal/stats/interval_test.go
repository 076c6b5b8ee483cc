package stats

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In a synctest bubble the Recorder's ticker and time.Now run on the bubble's
// fake clock, which starts at synctestT0 and only moves when every goroutine
// of the bubble is blocked: interval boundaries are exact.
var synctestT0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// at is the bubble's start plus d.
func at(d time.Duration) time.Time { return synctestT0.Add(d) }

// perSecond records n results of latency lat spread over the next second
// (the first 50 ms in), ending exactly one second later.
func perSecond(rec *Recorder, n int, name string, lat time.Duration, errText string) {
	gap := time.Second / time.Duration(n)
	for range n {
		time.Sleep(gap / 2)
		rec.Record(res(name, lat, errText))
		time.Sleep(gap - gap/2)
	}
}

// TestFinalPartialSecondJoinsThePreviousPoint is the run that ends 4 ms into
// its fourth second: that last request used to be a point of its own at
// 1/0.004 s = 250 req/s with 0 users (the runner's SetUsers(0) after the last
// user ended). It joins the third second's point instead.
func TestFinalPartialSecondJoinsThePreviousPoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		require.WithinDuration(t, synctestT0, time.Now(), 0)
		rec := NewRecorder()
		rec.SetUsers(5)
		perSecond(rec, 10, "/a", 10*time.Millisecond, "")
		time.Sleep(500 * time.Millisecond) // second 2: 7 users for a moment
		rec.SetUsers(7)
		time.Sleep(100 * time.Millisecond)
		rec.SetUsers(5)
		time.Sleep(400 * time.Millisecond)
		perSecond(rec, 10, "/a", 10*time.Millisecond, "")
		time.Sleep(4 * time.Millisecond)
		rec.Record(res("/a", 500*time.Millisecond, "boom"))
		rec.Record(res("/a", 500*time.Millisecond, ""))
		rec.SetUsers(0) // every user ended
		snap := rec.Close()

		require.Len(t, snap.Series, 3, "no point of its own for the last 4 ms")
		p1, p2, last := snap.Series[0], snap.Series[1], snap.Series[2]
		assert.WithinDuration(t, at(time.Second), p1.Time, 0)
		assert.Equal(t, 5, p1.Users)
		assert.Equal(t, 10.0, p1.RPS)
		assert.Equal(t, int64(0), p2.Requests)
		assert.Equal(t, 7, p2.Users, "the most users that ran in the second")

		assert.WithinDuration(t, at(3004*time.Millisecond), last.Time, 0, "the joined point ends with the run")
		assert.Equal(t, int64(12), last.Requests)
		assert.Equal(t, int64(1), last.Failures)
		assert.InDelta(t, 12/1.004, last.RPS, 1e-9, "requests over the 1.004 s they were counted in")
		assert.InDelta(t, 1/1.004, last.FailPS, 1e-9)
		assert.Equal(t, 5, last.Users, "who ran, not the 0 set after the end")
		assert.InDelta(t, 10, last.P50MS, 0.01, "percentiles of both intervals' samples")
		assert.InDelta(t, 500, last.P95MS, 0.5, "the 2 slow requests are the top 2 of 12")
		assert.InDelta(t, 500, last.RespP95MS, 0.5)
		assert.InDelta(t, 500, last.RecentMS[NumPercentiles-1], 0.5)
		assert.Equal(t, int64(22), last.TotalRequests, "the cumulative figures at the end")
		assert.Equal(t, snap.Total.Requests, last.TotalRequests)
		assert.Equal(t, int64(1), last.TotalFailures)
		var n int64
		for _, p := range snap.Series {
			n += p.Requests
		}
		assert.Equal(t, snap.Total.Requests, n, "every request is in one point")
	})
}

func TestFinalPartialIntervalJoinsEveryEntrysPoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := NewRecorder(WithEntryHistory())
		rec.SetUsers(1)
		perSecond(rec, 4, "/a", time.Millisecond, "")
		time.Sleep(250 * time.Millisecond)
		rec.Record(res("/a", time.Millisecond, ""))
		rec.Record(res("/new", time.Millisecond, "")) // first seen in the partial interval
		snap := rec.Close()

		require.Len(t, snap.Series, 1)
		assert.InDelta(t, 6/1.25, snap.Series[0].RPS, 1e-9)
		ticks := snap.Ticks()
		require.Len(t, ticks, 1)
		require.Len(t, ticks[0].Entries, 2, "both entries have a point at the joined time")
		a, fresh := ticks[0].Entries[0], ticks[0].Entries[1]
		assert.Equal(t, "/a", a.Name)
		assert.Equal(t, int64(5), a.Requests)
		assert.InDelta(t, 5/1.25, a.RPS, 1e-9)
		assert.Equal(t, "/new", fresh.Name)
		assert.Equal(t, int64(1), fresh.Requests)
		assert.InDelta(t, 1/1.25, fresh.RPS, 1e-9, "over the aggregate point's interval")
		assert.WithinDuration(t, at(1250*time.Millisecond), fresh.Time, 0)
	})
}

func TestRunShorterThanAnIntervalIsOnePoint(t *testing.T) {
	for _, c := range []struct {
		name    string
		length  time.Duration
		n       int
		wantRPS float64
	}{
		{"half a second: its real length", 500 * time.Millisecond, 5, 10},
		{"4 ms: at least 100 ms", 4 * time.Millisecond, 1, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := NewRecorder()
				rec.SetUsers(2)
				time.Sleep(c.length)
				for range c.n {
					rec.Record(res("/a", time.Millisecond, ""))
				}
				rec.SetUsers(0)
				snap := rec.Close()
				require.Len(t, snap.Series, 1)
				assert.InDelta(t, c.wantRPS, snap.Series[0].RPS, 1e-9)
				assert.Equal(t, 2, snap.Series[0].Users)
				assert.WithinDuration(t, at(c.length), snap.Series[0].Time, 0)
			})
		})
	}
}

func TestIntervalsEndOnTheTickWithNoPartialPoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := NewRecorder()
		perSecond(rec, 10, "/a", time.Millisecond, "")
		perSecond(rec, 10, "/a", time.Millisecond, "")
		synctest.Wait() // the tick at 2 s is taken
		snap := rec.Close()
		require.Len(t, snap.Series, 2)
		assert.Equal(t, 10.0, snap.Series[1].RPS)
	})
}
