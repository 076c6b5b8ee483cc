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
	"cmp"
	"slices"
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

// lagShard is one mutex-guarded histogram and its late starts. The histogram
// is held by value and the shard ends in 128 bytes of padding, so two shards'
// hot fields (the lock, the histogram's counters, the max) never share a cache
// line, adjacent-line prefetching included. (Histograms allocated one after
// another sit 144 bytes apart, and their total counts would then bounce
// between cores.)
type lagShard struct {
	mu sync.Mutex
	// h holds the lags under LateFloor, and the late ones that found late full.
	h        hdrhistogram.Histogram // microseconds
	maxNS    int64                  // exact largest lag in h, in nanoseconds
	late     []lateStart            // lags of LateFloor or more, with when they ended
	overflow int64                  // late starts that found late full (they are in h)
	_        [128]byte
}

// lateStart is one start lag of LateFloor or more: it ended at (nanoseconds
// since the Lag's epoch) and lasted late nanoseconds, so the generator was
// behind its schedule over [at−late, at].
type lateStart struct{ at, late int64 }

// LateFloor is the smallest start lag a Lag keeps with its time, so that
// Explain can set it against the host pauses; smaller lags are only counted.
// lateCap is how many late starts a shard keeps; the ones beyond are counted
// in the histogram and cannot be explained (8 shards × 16384 × 16 bytes: 2 MB
// at most, allocated as they come).
const (
	LateFloor = time.Millisecond
	lateCap   = 16384
)

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
//
// Lags of LateFloor or more are kept with the time they ended, so that Explain
// can tell the part of them a host pause accounts for.
type Lag struct {
	epoch  time.Time // late starts are timed from here
	shards [lagShards]lagShard
	// hint hands each P a shard to keep using (sync.Pool's per-P cache), so
	// a shard's cache lines stay with one core.
	hint sync.Pool // of *lagShard
	next atomic.Uint32
}

// NewLag returns an empty Lag.
func NewLag() *Lag {
	l := &Lag{epoch: time.Now()}
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
	keep := late >= LateFloor
	var at int64
	if keep {
		at = int64(time.Since(l.epoch))
	}
	s := l.hint.Get().(*lagShard)
	s.mu.Lock()
	if keep && len(s.late) < lateCap {
		s.late = append(s.late, lateStart{at: at, late: int64(late)})
	} else {
		_ = s.h.RecordValue(us) // cannot fail: us is within the histogram's bounds
		s.maxNS = max(s.maxNS, int64(late))
		if keep {
			s.overflow++
		}
	}
	s.mu.Unlock()
	l.hint.Put(s)
}

// LagStats summarises a Lag. Percentiles come from the histogram (3 significant
// figures, reported as the highest value equivalent to the bucket); MaxMS is exact.
type LagStats struct {
	Count int64   `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P90MS float64 `json:"p90_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// Snapshot merges the shards and returns the lag statistics so far. It may run
// while Record is being called; each shard is read under its lock.
func (l *Lag) Snapshot() LagStats {
	if l == nil {
		return LagStats{}
	}
	return l.stats(func(s lateStart) int64 { return s.late })
}

// Explain returns the lag statistics with the part of each late start that
// falls inside the given host pauses taken off: what is left is the lag the
// generator itself is answerable for. pauses must be in time order and must
// not overlap (as a Sampler reports them). A late start the pauses cover
// entirely counts as 0; lags under LateFloor, and the late starts beyond what a
// Lag keeps, are counted as they are.
func (l *Lag) Explain(pauses []Pause) LagStats {
	if l == nil {
		return LagStats{}
	}
	// The pauses as [start, end) in nanoseconds since the Lag's epoch.
	type span struct{ from, to int64 }
	spans := make([]span, 0, len(pauses))
	for _, p := range pauses {
		from := int64(p.Start.Sub(l.epoch))
		spans = append(spans, span{from, from + int64(p.Length)})
	}
	return l.stats(func(s lateStart) int64 {
		from, to := s.at-s.late, s.at
		// The first pause ending after the late start began.
		i, _ := slices.BinarySearchFunc(spans, from, func(sp span, t int64) int { return cmp.Compare(sp.to, t+1) })
		covered := int64(0)
		for ; i < len(spans) && spans[i].from < to; i++ {
			covered += min(to, spans[i].to) - max(from, spans[i].from)
		}
		return max(s.late-covered, 0)
	})
}

// Unexplainable is the number of late starts (LateFloor or more) recorded
// after their shard's store was full: they count in every statistic, but
// Explain cannot set them against the host pauses.
func (l *Lag) Unexplainable() int64 {
	if l == nil {
		return 0
	}
	var n int64
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += s.overflow
		s.mu.Unlock()
	}
	return n
}

// stats merges the shards, counting each late start as value(it) nanoseconds.
func (l *Lag) stats(value func(lateStart) int64) LagStats {
	total := stats.NewHistogram()
	var maxNS int64
	var vals []int64
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		total.Merge(&s.h)
		maxNS = max(maxNS, s.maxNS)
		vals = vals[:0]
		for _, ls := range s.late {
			vals = append(vals, value(ls))
		}
		s.mu.Unlock()
		for _, v := range vals {
			_ = total.RecordValue(min(v/int64(time.Microsecond), stats.MaxMicros))
			maxNS = max(maxNS, v)
		}
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
