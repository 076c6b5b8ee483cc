// Package saturation tells whether the load generator itself fell behind
// during a run, so the run can be marked inconclusive: when the generator is
// saturated, the numbers describe the load generator, not the server.
//
// Three kinds of evidence feed a Verdict:
//
//   - Lag: how late the generator started each task or iteration against its
//     own schedule (fortio's and wrk2's measure). A generator that keeps up
//     starts work on time whatever the server does.
//   - Runtime: what the Go runtime saw over the run (scheduler latency, GC
//     pauses, CPU use), from runtime/metrics, via a Sampler.
//   - The open model's dropped iterations (arrivals that found the in-flight
//     cap reached).
//
// Judge compares them with Thresholds and explains every threshold tripped.
package saturation

import (
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/xagent/perfharness/internal/stats"
)

// lagShards is the number of histograms a Lag spreads its writers over. It is a
// power of two. Each shard's histogram takes about 136 KB (stats.NewHistogram's
// bounds), so a Lag takes about 1.1 MB.
const lagShards = 8

// lagShard is one mutex-guarded histogram. The histogram is held by value and
// the shard ends in 128 bytes of padding, so two shards' hot fields (the lock,
// the histogram's counters, the max) never share a cache line, adjacent-line
// prefetching included. (Histograms allocated one after another sit 144 bytes
// apart, and their total counts would then bounce between cores.)
type lagShard struct {
	mu    sync.Mutex
	h     hdrhistogram.Histogram // microseconds
	maxNS int64                  // exact largest lag recorded, in nanoseconds
	_     [128]byte
}

// Lag records how late the generator started work against its own schedule.
// It is safe for concurrent use; Record is meant to be called once per task or
// iteration from many goroutines. A nil *Lag records nothing.
//
// Writers share a few mutex-guarded shards. Each P (each thread running Go
// code) keeps using one shard, handed out round-robin and cached per P in a
// sync.Pool, so a shard's cache lines stay on one core and the locks are
// uncontended; two Ps that end up on the same shard (after a GC empties the
// pool, or with more Ps than shards) are kept apart by its mutex. Lags are
// stored in microseconds with stats.NewHistogram's bounds
// (1 µs to 60 s, 3 significant figures): lags under 1 µs count as 0 and lags
// over 60 s as 60 s in the percentiles; the maximum is kept exactly.
type Lag struct {
	shards [lagShards]lagShard
	// hint hands each P a shard to keep using (sync.Pool's per-P cache), so
	// a shard's cache lines stay with one core.
	hint sync.Pool // of *lagShard
	next atomic.Uint32
}

// NewLag returns an empty Lag.
func NewLag() *Lag {
	l := &Lag{}
	for i := range l.shards {
		l.shards[i].h = *stats.NewHistogram()
	}
	l.hint.New = func() any { return &l.shards[l.next.Add(1)&(lagShards-1)] }
	return l
}

// Record adds one start lag. A negative lag (work started early) counts as 0.
func (l *Lag) Record(late time.Duration) {
	if l == nil {
		return
	}
	if late < 0 {
		late = 0
	}
	us := int64(late / time.Microsecond)
	if us > stats.MaxMicros {
		us = stats.MaxMicros
	}
	s := l.hint.Get().(*lagShard)
	s.mu.Lock()
	_ = s.h.RecordValue(us) // cannot fail: us is within the histogram's bounds
	if int64(late) > s.maxNS {
		s.maxNS = int64(late)
	}
	s.mu.Unlock()
	l.hint.Put(s)
}

// LagStats summarises a Lag. Percentiles come from the histogram (3 significant
// figures, reported as the highest value equivalent to the bucket); MaxMS is exact.
type LagStats struct {
	Count                      int64
	P50MS, P90MS, P99MS, MaxMS float64
}

// Snapshot merges the shards and returns the lag statistics so far. It may run
// while Record is being called; each shard is read under its lock.
func (l *Lag) Snapshot() LagStats {
	if l == nil {
		return LagStats{}
	}
	total := stats.NewHistogram()
	var maxNS int64
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		total.Merge(&s.h)
		maxNS = max(maxNS, s.maxNS)
		s.mu.Unlock()
	}
	n := total.TotalCount()
	if n == 0 {
		return LagStats{}
	}
	const usPerMS = 1000.0
	return LagStats{
		Count: n,
		P50MS: float64(total.ValueAtQuantile(50)) / usPerMS,
		P90MS: float64(total.ValueAtQuantile(90)) / usPerMS,
		P99MS: float64(total.ValueAtQuantile(99)) / usPerMS,
		MaxMS: float64(maxNS) / float64(time.Millisecond),
	}
}
