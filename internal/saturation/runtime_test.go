package saturation

import (
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var inf = math.Inf(1)

func TestHistQuantile(t *testing.T) {
	// 100 values: 50 in [0,1), 40 in [1,2), 9 in [2,4), 1 in [4,+Inf).
	counts := []uint64{50, 40, 9, 1}
	buckets := []float64{0, 1, 2, 4, inf}
	for _, tc := range []struct{ q, want float64 }{
		{0, 0.02},    // rank 1 of 50 in [0,1)
		{0.01, 0.02}, // rank 1
		{0.25, 0.5},  // rank 25: halfway through [0,1)
		{0.5, 1},     // rank 50 fills [0,1): its upper edge
		{0.7, 1.5},   // rank 70: 20 of 40 into [1,2)
		{0.9, 2},     // rank 90 fills [1,2)
		{0.95, 2 + 2*5.0/9},
		{0.99, 4}, // rank 99 fills [2,4)
		{1, 4},    // rank 100 is in [4,+Inf): the finite edge
		{-1, 0.02},
		{2, 4},
	} {
		assert.InDelta(t, tc.want, histQuantile(counts, buckets, tc.q), 1e-12, "q=%v", tc.q)
	}

	// The runtime's histograms open with a [-Inf, 0) bucket.
	neg := []float64{math.Inf(-1), 0, 1e-3, inf}
	assert.Equal(t, 0.0, histQuantile([]uint64{3, 0, 0}, neg, 0.5), "[-Inf,0) gives its upper edge")
	assert.Equal(t, 1e-3, histQuantile([]uint64{0, 0, 7}, neg, 0.99), "[1e-3,+Inf) gives its lower edge")
	assert.Equal(t, 0.0, histQuantile([]uint64{5}, []float64{math.Inf(-1), inf}, 0.5), "no finite edge")

	// Empty buckets between used ones are skipped.
	assert.Equal(t, 4.0, histQuantile([]uint64{1, 0, 0, 1}, []float64{0, 1, 2, 3, 4}, 0.5+1e-9), "rank 2 fills [3,4)")
	assert.Equal(t, 1.0, histQuantile([]uint64{1, 0, 0, 1}, []float64{0, 1, 2, 3, 4}, 0.5))

	assert.Equal(t, 0.0, histQuantile([]uint64{0, 0}, []float64{0, 1, 2}, 0.99), "empty")
	assert.Equal(t, 0.0, histQuantile([]uint64{1, 1}, []float64{0, 1}, 0.99), "malformed")
}

func TestHistMaxAndSum(t *testing.T) {
	buckets := []float64{math.Inf(-1), 0, 1, 3, inf}
	assert.Equal(t, 3.0, histMax([]uint64{0, 4, 2, 0}, buckets))
	assert.Equal(t, 3.0, histMax([]uint64{0, 0, 0, 1}, buckets), "+Inf bucket: its lower edge")
	assert.Equal(t, 0.0, histMax([]uint64{0, 0, 0, 0}, buckets))
	assert.Equal(t, 0.0, histMax([]uint64{1}, []float64{0}), "malformed")

	// 4 × 0.5 + 2 × 2 + 1 × 3 (the +Inf bucket's edge) + 1 × 0 (the -Inf bucket's edge)
	assert.Equal(t, 9.0, histSum([]uint64{1, 4, 2, 1}, buckets))
	assert.Equal(t, 0.0, histSum(nil, nil))
}

func TestRuntimeDeltaMissingMetrics(t *testing.T) {
	read := func() []metrics.Sample {
		s := make([]metrics.Sample, len(sampleNames))
		for i := range s {
			s[i].Name = "/saturation/missing:things"
		}
		metrics.Read(s)
		return s
	}
	r := runtimeDelta(read(), read(), time.Second, 2)
	assert.Zero(t, r.SchedLatencyP99MS)
	assert.Zero(t, r.GCPauseP99MS)
	assert.Zero(t, r.GCCycles)
	assert.Zero(t, r.CPUUtilPct)
	assert.Empty(t, r.CPUSource)
	assert.Positive(t, r.Goroutines, "falls back to runtime.NumGoroutine")
	assert.Len(t, r.Notes, len(sampleNames))
	assert.Contains(t, r.Notes[0], "metric /saturation/missing:things not available")
}

func TestSampledMetricsExist(t *testing.T) {
	for _, n := range sampleNames {
		assert.True(t, supported(n), n)
	}
	assert.Equal(t, metricGCPauses, sampleNames[iPauses], "Go 1.26 has the non-deprecated GC pause metric")
}

// busy keeps every P spinning for d and forces gcs collections meanwhile.
func busy(d time.Duration, gcs int) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sink atomic.Uint64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var x uint64
			for !stop.Load() {
				for i := range 1000 {
					x += uint64(i) * x
				}
			}
			sink.Add(x)
		})
	}
	for range gcs {
		time.Sleep(d / time.Duration(gcs+1))
		runtime.GC()
	}
	time.Sleep(d / time.Duration(gcs+1))
	stop.Store(true)
	wg.Wait()
}

func TestSamplerAroundBusyPeriod(t *testing.T) {
	const gcs = 3
	s := StartSampler()
	busy(200*time.Millisecond, gcs)
	r := s.Stop()
	t.Logf("%+v", r)

	assert.GreaterOrEqual(t, r.GCCycles, uint64(gcs))
	assert.Positive(t, r.CPUUtilPct)
	assert.NotEmpty(t, r.CPUSource)
	assert.Positive(t, r.GCPauseTotalMS, "forced collections stop the world")
	assert.Positive(t, r.GCPauseP99MS)
	assert.GreaterOrEqual(t, r.SchedLatencyMaxMS, r.SchedLatencyP99MS)
	assert.GreaterOrEqual(t, r.Wall, 200*time.Millisecond)
	assert.Equal(t, runtime.GOMAXPROCS(0), r.GOMAXPROCS)
	assert.Positive(t, r.Goroutines)
	assert.Equal(t, r, s.Stop(), "Stop again returns the same figures")
	// Spinning Ps delay the sentinel, and that is the generator's doing;
	// unless the host itself held the process (seen beside three CPU hogs:
	// 15% CPU over the period), when its pauses must say so.
	if r.Host.BusyStalls == 0 {
		assert.Greater(t, r.Host.PauseTotal(), r.Wall/10, "spinning Ps delay the sentinel: busy stalls, or host pauses that explain them")
	}
	assert.Positive(t, r.Host.Ticks)
}

// With GC cycles in the window, the runtime/metrics CPU figure (the fallback
// where the OS gives no process CPU time) is measured too.
func TestRuntimeDeltaCPUFromMetrics(t *testing.T) {
	first := newSamples()
	runtime.GC() // refresh /cpu/classes before the first sample
	metrics.Read(first)
	busy(200*time.Millisecond, 2)
	second := newSamples()
	metrics.Read(second)

	r := runtimeDelta(first, second, 200*time.Millisecond, runtime.GOMAXPROCS(0))
	require.Equal(t, CPUSourceMetrics, r.CPUSource)
	assert.Positive(t, r.CPUUtilPct)
	assert.LessOrEqual(t, r.CPUUtilPct, 100.0, "a ratio of the runtime's own CPU classes")
	assert.GreaterOrEqual(t, r.GCCycles, uint64(2))
	assert.Empty(t, r.Notes)
}
