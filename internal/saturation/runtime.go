package saturation

import (
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"time"
)

// runtime/metrics names the Sampler reads. Each is looked up in metrics.All()
// once; a name this Go runtime does not have reads as zero and adds a note.
const (
	metricSchedLatencies = "/sched/latencies:seconds"
	metricGCPauses       = "/sched/pauses/total/gc:seconds" // Go 1.22+
	metricGCPausesOld    = "/gc/pauses:seconds"             // deprecated in 1.22 for the one above
	metricGCCycles       = "/gc/cycles/total:gc-cycles"
	metricCPUTotal       = "/cpu/classes/total:cpu-seconds"
	metricCPUIdle        = "/cpu/classes/idle:cpu-seconds"
	metricGoroutines     = "/sched/goroutines:goroutines"
)

// Where Runtime.CPUUtilPct came from.
const (
	CPUSourceRusage  = "getrusage"       // OS user+system CPU time of the process over wall time × GOMAXPROCS
	CPUSourceMetrics = "runtime/metrics" // 1 − Δidle/Δtotal of /cpu/classes, as of the last GC cycles
)

// Runtime is what the Go runtime saw between a Sampler's start and stop.
type Runtime struct {
	Wall time.Duration `json:"wall_s"` // between the two samples
	// Time runnable goroutines waited for a CPU (/sched/latencies:seconds,
	// the difference between the two samples). The runtime samples about one
	// scheduling in eight. P99 is interpolated within the runtime's histogram
	// bucket (buckets are about 25% wide); Max is the upper edge of the
	// highest bucket used.
	SchedLatencyP99MS float64 `json:"sched_latency_p99_ms"`
	SchedLatencyMaxMS float64 `json:"sched_latency_max_ms"`
	// Stop-the-world GC pauses (/sched/pauses/total/gc:seconds, falling back to
	// /gc/pauses:seconds). GCPauseTotalMS is approximate: each pause counts as
	// the midpoint of its histogram bucket.
	GCPauseP99MS   float64 `json:"gc_pause_p99_ms"`
	GCPauseTotalMS float64 `json:"gc_pause_total_ms"`
	GCCycles       uint64  `json:"gc_cycles"` // completed GC cycles, forced ones included (/gc/cycles/total:gc-cycles)
	// CPUUtilPct is the process's CPU use as a percentage of GOMAXPROCS CPUs
	// over the run; see CPUSource for how it was measured. It can exceed 100
	// a little: threads in system calls run without a P.
	CPUUtilPct float64 `json:"cpu_util_pct"`
	CPUSource  string  `json:"cpu_source"` // CPUSourceRusage, CPUSourceMetrics or "" when unmeasured
	GOMAXPROCS int     `json:"gomaxprocs"` // at Stop
	Goroutines int     `json:"goroutines"` // live goroutines at Stop (/sched/goroutines:goroutines)
	// Host is what the Sampler's sentinel timer and the OS saw of the host:
	// the pauses in which the process was not run, and the CPU it was denied.
	Host Host `json:"host"`
	// Notes says which figures could not be measured, and why.
	Notes []string `json:"notes"`
}

// Sampler measures the Go runtime over an interval: StartSampler takes the
// first sample, Stop the second. In between, its sentinel timer watches for
// host pauses (see Pause).
type Sampler struct {
	start    time.Time
	first    []metrics.Sample
	firstCPU time.Duration
	cpuOK    bool
	steal    time.Duration
	stealOK  bool
	runQueue map[string]time.Duration
	runQOK   bool
	sentinel *sentinel
	stopped  bool
	result   Runtime
}

// StartSampler takes the first sample, starts the sentinel (one goroutine,
// waking every SentinelPeriod until Stop) and returns the Sampler.
func StartSampler() *Sampler { return startSampler(realClock(), SentinelPeriod) }

func startSampler(clock sentinelClock, period time.Duration) *Sampler {
	s := &Sampler{first: newSamples()}
	s.steal, s.stealOK = readSteal()
	s.firstCPU, s.cpuOK = processCPU()
	s.start = time.Now()
	metrics.Read(s.first)
	s.sentinel = startSentinel(clock, period)
	return s
}

// Stop takes the second sample and returns the differences over the interval.
// Calling Stop again returns the same Runtime.
func (s *Sampler) Stop() Runtime {
	if s.stopped {
		return s.result
	}
	host := s.sentinel.finish()
	second := newSamples()
	metrics.Read(second)
	wall := time.Since(s.start)
	cpu, cpuOK := processCPU()
	steal, stealOK := readSteal()
	s.stopped = true
	s.result = runtimeDelta(s.first, second, wall, runtime.GOMAXPROCS(0))
	if s.stealOK && stealOK && steal >= s.steal {
		host.StealMS, host.StealOK = durMS(steal-s.steal), true
	}
	s.result.Host = host
	if s.cpuOK && cpuOK && wall > 0 && s.result.GOMAXPROCS > 0 {
		s.result.CPUUtilPct = 100 * (cpu - s.firstCPU).Seconds() / (wall.Seconds() * float64(s.result.GOMAXPROCS))
		s.result.CPUSource = CPUSourceRusage
	}
	switch s.result.CPUSource {
	case CPUSourceMetrics:
		s.result.Notes = append(s.result.Notes, "CPU use from runtime/metrics /cpu/classes, which the runtime refreshes only at the end of a GC cycle: it covers the time between the last GC before the start and the last GC before the stop")
	case "":
		s.result.Notes = append(s.result.Notes, "CPU use not measured: no process CPU time from the OS and no GC cycle refreshed /cpu/classes during the run")
	}
	return s.result
}

// sampleNames are the metrics a Sampler reads, in order; see the index constants.
var sampleNames = func() []string {
	pauses := metricGCPauses
	if !supported(pauses) {
		pauses = metricGCPausesOld
	}
	return []string{metricSchedLatencies, pauses, metricGCCycles, metricCPUTotal, metricCPUIdle, metricGoroutines}
}()

const (
	iSched = iota
	iPauses
	iCycles
	iCPUTotal
	iCPUIdle
	iGoroutines
)

func supported(name string) bool {
	for _, d := range metrics.All() {
		if d.Name == name {
			return true
		}
	}
	return false
}

// newSamples returns a fresh sample slice. Each read needs its own: metrics.Read
// reuses a sample's histogram memory when it can.
func newSamples() []metrics.Sample {
	s := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		s[i].Name = n
	}
	return s
}

// runtimeDelta turns two samples of sampleNames into a Runtime (CPU use from
// runtime/metrics only; Stop prefers the OS figure when it has one).
func runtimeDelta(first, second []metrics.Sample, wall time.Duration, gomaxprocs int) Runtime {
	r := Runtime{Wall: wall, GOMAXPROCS: gomaxprocs}
	note := func(format string, a ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, a...)) }
	const msPerS = 1000.0

	if counts, buckets, ok := histDelta(first[iSched], second[iSched], note); ok {
		r.SchedLatencyP99MS = histQuantile(counts, buckets, 0.99) * msPerS
		r.SchedLatencyMaxMS = histMax(counts, buckets) * msPerS
	}
	if counts, buckets, ok := histDelta(first[iPauses], second[iPauses], note); ok {
		r.GCPauseP99MS = histQuantile(counts, buckets, 0.99) * msPerS
		r.GCPauseTotalMS = histSum(counts, buckets) * msPerS
	}
	if a, b, ok := uint64Pair(first[iCycles], second[iCycles], note); ok && b >= a {
		r.GCCycles = b - a
	}
	total, okT := float64Pair(first[iCPUTotal], second[iCPUTotal], note)
	idle, okI := float64Pair(first[iCPUIdle], second[iCPUIdle], note)
	if okT && okI {
		// The /cpu/classes metrics are a snapshot the runtime only refreshes at
		// the end of each GC cycle, so both differences cover the same window:
		// from the last GC before the first sample to the last GC before the
		// second. Their ratio is consistent; dividing by wall time would not be.
		if dt := total[1] - total[0]; dt > 0 {
			r.CPUUtilPct = 100 * (dt - (idle[1] - idle[0])) / dt
			r.CPUSource = CPUSourceMetrics
		}
	}
	if second[iGoroutines].Value.Kind() == metrics.KindUint64 {
		r.Goroutines = int(second[iGoroutines].Value.Uint64())
	} else {
		r.Goroutines = runtime.NumGoroutine()
		note("metric %s not available; goroutines counted with runtime.NumGoroutine", second[iGoroutines].Name)
	}
	return r
}

func unavailable(note func(string, ...any), name string) {
	note("metric %s not available in this Go runtime (%s); its figures read 0", name, runtime.Version())
}

func histDelta(a, b metrics.Sample, note func(string, ...any)) (counts []uint64, buckets []float64, ok bool) {
	if a.Value.Kind() != metrics.KindFloat64Histogram || b.Value.Kind() != metrics.KindFloat64Histogram {
		unavailable(note, b.Name)
		return nil, nil, false
	}
	ha, hb := a.Value.Float64Histogram(), b.Value.Float64Histogram()
	if len(ha.Counts) != len(hb.Counts) {
		note("metric %s changed its buckets between samples; not used", b.Name)
		return nil, nil, false
	}
	counts = make([]uint64, len(hb.Counts))
	for i := range counts {
		if hb.Counts[i] >= ha.Counts[i] {
			counts[i] = hb.Counts[i] - ha.Counts[i]
		}
	}
	return counts, hb.Buckets, true
}

func uint64Pair(a, b metrics.Sample, note func(string, ...any)) (uint64, uint64, bool) {
	if a.Value.Kind() != metrics.KindUint64 || b.Value.Kind() != metrics.KindUint64 {
		unavailable(note, b.Name)
		return 0, 0, false
	}
	return a.Value.Uint64(), b.Value.Uint64(), true
}

func float64Pair(a, b metrics.Sample, note func(string, ...any)) ([2]float64, bool) {
	if a.Value.Kind() != metrics.KindFloat64 || b.Value.Kind() != metrics.KindFloat64 {
		unavailable(note, b.Name)
		return [2]float64{}, false
	}
	return [2]float64{a.Value.Float64(), b.Value.Float64()}, true
}

// histQuantile returns the q-quantile (0 ≤ q ≤ 1) of a runtime/metrics style
// histogram: counts[i] values lie in [buckets[i], buckets[i+1]), and
// len(buckets) == len(counts)+1. The value of rank ⌈q·total⌉ (at least 1) is
// found by linear interpolation inside its bucket, as Prometheus's
// histogram_quantile does, so a rank that fills its bucket gives the bucket's
// upper edge. A bucket with an infinite edge has no width to interpolate over:
// a quantile falling in [-Inf, x) is x, one in [x, +Inf) is x. An empty
// histogram (or a malformed one) gives 0.
func histQuantile(counts []uint64, buckets []float64, q float64) float64 {
	if len(buckets) != len(counts)+1 {
		return 0
	}
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(total)))
	rank = min(max(rank, 1), total)
	var below uint64
	for i, c := range counts {
		if c == 0 || below+c < rank {
			below += c
			continue
		}
		lo, hi := buckets[i], buckets[i+1]
		switch {
		case math.IsInf(lo, -1) && math.IsInf(hi, 1):
			return 0
		case math.IsInf(lo, -1):
			return hi
		case math.IsInf(hi, 1):
			return lo
		}
		return lo + (hi-lo)*float64(rank-below)/float64(c)
	}
	return 0 // not reached: rank ≤ total
}

// histMax returns the upper edge of the highest non-empty bucket (its lower
// edge when the upper one is +Inf): a bound on the largest value. 0 when empty.
func histMax(counts []uint64, buckets []float64) float64 {
	if len(buckets) != len(counts)+1 {
		return 0
	}
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] == 0 {
			continue
		}
		if hi := buckets[i+1]; !math.IsInf(hi, 1) {
			return hi
		}
		if lo := buckets[i]; !math.IsInf(lo, -1) {
			return lo
		}
		return 0
	}
	return 0
}

// histSum approximates the sum of a histogram's values: each value counts as
// its bucket's midpoint, or as the finite edge of a bucket with an infinite one.
func histSum(counts []uint64, buckets []float64) float64 {
	if len(buckets) != len(counts)+1 {
		return 0
	}
	var sum float64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		lo, hi := buckets[i], buckets[i+1]
		var v float64
		switch {
		case math.IsInf(lo, -1) && math.IsInf(hi, 1):
			v = 0
		case math.IsInf(lo, -1):
			v = hi
		case math.IsInf(hi, 1):
			v = lo
		default:
			v = (lo + hi) / 2
		}
		sum += float64(c) * v
	}
	return sum
}
