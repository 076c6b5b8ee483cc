package saturation

import (
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lags under 2048 µs are exact in a 3-significant-figure HDR histogram, so the
// percentiles of 1 µs, 2 µs, …, 1000 µs are known exactly.
func TestLagPercentilesConcurrent(t *testing.T) {
	const n, writers = 1000, 8
	lags := make([]time.Duration, n)
	for i := range lags {
		lags[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.Shuffle(len(lags), func(i, j int) { lags[i], lags[j] = lags[j], lags[i] })

	l := NewLag()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				l.Record(lags[i])
			}
		})
	}
	// Snapshots taken while recording must be consistent too (and race-free).
	wg.Go(func() {
		for range 20 {
			s := l.Snapshot()
			assert.LessOrEqual(t, s.Count, int64(n))
		}
	})
	wg.Wait()

	got := l.Snapshot()
	assert.Equal(t, LagStats{Count: n, P50MS: 0.5, P90MS: 0.9, P99MS: 0.99, MaxMS: 1}, got)

}

func TestLagSnapshotMergesEveryShard(t *testing.T) {
	l := NewLag()
	for i := range l.shards { // white box: one lag of (i+1)×100 µs in shard i
		l.shards[i].h.RecordValue(int64(i+1) * 100)
		l.shards[i].maxNS = int64(i+1) * int64(100*time.Microsecond)
	}
	// HDR takes the value of rank round(q·n): p90 of 8 is the 7th.
	assert.Equal(t, LagStats{Count: lagShards, P50MS: 0.4, P90MS: 0.7, P99MS: 0.8, MaxMS: 0.8}, l.Snapshot())
}

func TestLagNegativeClampsToZero(t *testing.T) {
	l := NewLag()
	l.Record(-5 * time.Millisecond)
	l.Record(-time.Nanosecond)
	l.Record(0)
	assert.Equal(t, LagStats{Count: 3}, l.Snapshot())
}

func TestLagMaxIsExactAndHugeLagsClamp(t *testing.T) {
	l := NewLag()
	l.Record(1234567 * time.Nanosecond) // 1.234567 ms: the histogram keeps 1234 µs, the max keeps it all
	s := l.Snapshot()
	assert.Equal(t, 1.234567, s.MaxMS)
	assert.Equal(t, 1.234, s.P99MS)

	l.Record(2 * time.Minute) // beyond the histogram's 60 s
	s = l.Snapshot()
	assert.Equal(t, int64(2), s.Count)
	assert.Equal(t, 120000.0, s.MaxMS)
	assert.InDelta(t, 60000, s.P99MS, 60, "clamped to the 60 s bound, within 3 significant figures")
}

func TestLagEmptyAndNil(t *testing.T) {
	assert.Equal(t, LagStats{}, NewLag().Snapshot())
	var l *Lag
	require.NotPanics(t, func() { l.Record(time.Second) })
	assert.Equal(t, LagStats{}, l.Snapshot())
}

// TestLagExplain: late starts lose the part of their lateness that host pauses
// cover, and nothing else.
func TestLagExplain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLag()
		t0 := time.Now()
		at := func(d time.Duration) time.Time { return t0.Add(d) }
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		for range 96 {
			l.Record(500 * time.Microsecond) // under LateFloor: never explained
		}
		time.Sleep(ms(1000))
		l.Record(ms(80)) // behind over [920, 1000] ms
		time.Sleep(ms(500))
		l.Record(ms(40)) // [1460, 1500]
		l.Record(ms(20)) // [1480, 1500]
		time.Sleep(ms(500))
		l.Record(ms(30)) // [1970, 2000]

		pauses := []Pause{
			{Start: at(ms(900)), Length: ms(200)},  // covers [920, 1000]: 0 left
			{Start: at(ms(1450)), Length: ms(20)},  // [1460, 1470] of the 40 ms: 30 left
			{Start: at(ms(1475)), Length: ms(10)},  // [1475, 1485]: 10 more off the 40 (20 left), 5 off the 20 (15 left)
			{Start: at(ms(1990)), Length: ms(100)}, // [1990, 2000] of the 30: 20 left
		}
		raw := l.Snapshot()
		assert.Equal(t, int64(100), raw.Count)
		assert.Equal(t, 80.0, raw.MaxMS)

		got := l.Explain(pauses)
		assert.Equal(t, int64(100), got.Count)
		assert.Equal(t, 20.0, got.MaxMS, "the 40 ms and the 30 ms starts keep 20 ms each")
		assert.InDelta(t, 20, got.P99MS, 0.02, "ranks 98..100 are 15, 20, 20 ms (the 80 ms one is 0)")
		assert.Equal(t, 0.5, got.P50MS)

		assert.Equal(t, raw, l.Explain(nil), "no pauses: the lag as measured")
		assert.Equal(t, raw, l.Explain([]Pause{{Start: at(ms(3000)), Length: ms(10)}}), "pauses elsewhere explain nothing")
		assert.Zero(t, l.Unexplainable())
	})
}

// Late starts beyond what a shard keeps are counted as measured: Explain
// cannot take anything off them.
func TestLagLateStartsBeyondTheCap(t *testing.T) {
	l := NewLag()
	for i := range l.shards { // white box: every shard full
		l.shards[i].late = make([]lateStart, lateCap)
	}
	l.Record(5 * time.Millisecond)
	assert.Equal(t, int64(1), l.Unexplainable())
	all := []Pause{{Start: l.epoch.Add(-time.Hour), Length: 2 * time.Hour}}
	got := l.Explain(all)
	assert.Equal(t, int64(lagShards*lateCap+1), got.Count)
	assert.Equal(t, 5.0, got.MaxMS, "the late start that did not fit keeps its lag")
	assert.Equal(t, 5.0, l.Snapshot().MaxMS)
}

func TestLagExplainNil(t *testing.T) {
	var l *Lag
	assert.Equal(t, LagStats{}, l.Explain([]Pause{{Length: time.Second}}))
	assert.Zero(t, l.Unexplainable())
}

func BenchmarkLagRecord(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		l := NewLag()
		d := 1500 * time.Microsecond
		for b.Loop() {
			l.Record(d)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		l := NewLag()
		b.RunParallel(func(pb *testing.PB) {
			d := 1500 * time.Microsecond
			for pb.Next() {
				l.Record(d)
			}
		})
	})
}
