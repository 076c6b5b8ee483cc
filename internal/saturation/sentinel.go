package saturation

import (
	"cmp"
	"runtime"
	"runtime/metrics"
	"slices"
	"time"
)

// The sentinel: a timer of the Sampler's own, no part of the load, that fires
// every SentinelPeriod and notes how late it woke, and, at each wake-up, how
// long each of the process's threads waited in the OS run queue. Both kinds of
// trouble delay work: a generator whose Ps are all busy runs its timers late,
// and so does a host that does not run the process (a VM paused or its CPU
// stolen, the process descheduled or throttled), or keeps one of its threads,
// and whatever that thread holds, off the CPU. What the process did meanwhile
// tells them apart; see Pause.
const (
	// SentinelPeriod is how often the sentinel's timer fires. A host pause
	// starts at most this long before the sentinel's timer was due, so up to
	// this much of a start lag next to a pause is not set against it.
	SentinelPeriod = 5 * time.Millisecond
	// StallMin is how late the sentinel must wake, or how long a thread must
	// wait in the OS run queue within one period, to count as a stall.
	StallMin = time.Millisecond
	// BusyFraction: a sentinel period in which the process used at least
	// this fraction of its GOMAXPROCS CPUs is busy, and its stalls are the
	// generator's own doing. An idle generator uses a few percent; one that
	// keeps every P busy gets at least this much even from a host that shares
	// the CPUs with a few CPU hogs.
	BusyFraction = 0.25
	// BusyRunnablePerP: so is a period at whose start the Go run queue had
	// held, in the median of the last backlogTicks wake-ups, at least this
	// many runnable goroutines per P: a generator with more work than Ps,
	// however little CPU the host grants it. (One deep run queue is no sign:
	// the goroutines behind a thread the host holds queue on its P, and drain
	// when it runs again.)
	BusyRunnablePerP = 2
	backlogTicks     = 16
	// cpuHistory is how many wake-ups' CPU readings the sentinel keeps, to
	// tell the CPU use during a thread's wait (1.28 s of them).
	cpuHistory = 256
	// maxPauses is how many host pauses a Sampler keeps; the ones beyond are
	// counted, not kept, and cannot explain start lag.
	maxPauses = 1 << 15
)

// Pause is a stretch of time in which the host did not run the process, or
// one of its threads, while the process was not busy (it used less than
// BusyFraction of its CPUs and had no lasting Go run queue). Either the sentinel's timer was due at Start and
// it woke Length late, or (Thread) a thread of the process waited Length in
// the OS run queue. Nothing of the generator's can delay a timer while its
// CPUs are idle, and a runnable thread the OS leaves waiting is the host's
// choice. Pauses that overlap are merged.
type Pause struct {
	Start  time.Time     `json:"start"`    // when the sentinel's timer was due, or the thread's wait began
	Offset time.Duration `json:"offset_s"` // Start from the Sampler's start: when in the run
	Length time.Duration `json:"length_s"`
	CPUPct float64       `json:"cpu_pct"` // the process's CPU use in the period, % of GOMAXPROCS
	// Thread: only a thread's run-queue wait shows this pause (the sentinel
	// was not late, its thread was not the one kept waiting). Run files do
	// not keep it.
	Thread bool `json:"-"`
	// BusyPct is no longer measured and is always -1: the CPU use plus the
	// OS run-queue wait did not tell a busy generator from one whose threads
	// the host holds. Deprecated: kept for run files that carry it.
	BusyPct float64 `json:"busy_pct"`
}

// Host is what the sentinel saw over a Sampler's interval, and what the OS
// says about CPU the process did not get.
type Host struct {
	Period time.Duration `json:"period_s"` // the sentinel's; 0 when no sentinel ran
	Ticks  int64         `json:"ticks"`    // sentinel wake-ups
	// Pauses are the host pauses, in time order (at most maxPauses of them;
	// PausesDropped counts the rest).
	Pauses        []Pause `json:"pauses"`
	PausesDropped int64   `json:"pauses_dropped"`
	// Busy stalls: the sentinel woke StallMin or more late in a busy period:
	// the generator's own lateness.
	BusyStalls   int64         `json:"busy_stalls"`
	BusyStallMax time.Duration `json:"busy_stall_max_s"`
	// SchedLatency*OwnMS: the scheduler latency (see Runtime) without what the
	// runtime recorded in the sentinel periods that saw a host pause end and
	// in the period after each: goroutines readied in a pause, or queued
	// behind a held thread, wait for the host, not for the generator. Zero
	// without a sentinel.
	SchedLatencyOwnP99MS float64 `json:"sched_latency_own_p99_ms"`
	SchedLatencyOwnMaxMS float64 `json:"sched_latency_own_max_ms"`
	// StealMS is the CPU time the hypervisor gave to others, summed over all
	// CPUs (/proc/stat "steal"), over the interval; StealOK says it was read.
	StealMS float64 `json:"steal_ms"`
	StealOK bool    `json:"steal_ok"`
	// RunQueueMS is the time the process's threads waited, runnable, for a
	// CPU in the OS run queue (/proc/self/task/*/schedstat) over the interval,
	// summed over the threads; RunQueueOK says it was read.
	RunQueueMS float64 `json:"run_queue_ms"`
	RunQueueOK bool    `json:"run_queue_ok"`
}

// PauseTotal is the summed length of the host pauses kept.
func (h Host) PauseTotal() time.Duration {
	var d time.Duration
	for _, p := range h.Pauses {
		d += p.Length
	}
	return d
}

// Longest returns up to n host pauses, longest first (earliest first among equals).
func (h Host) Longest(n int) []Pause {
	out := slices.Clone(h.Pauses)
	slices.SortStableFunc(out, func(a, b Pause) int { return cmp.Compare(b.Length, a.Length) })
	return out[:min(n, len(out))]
}

// sentinelClock is what a sentinel reads; tests replace it.
type sentinelClock struct {
	now func() time.Time
	// wait sleeps for d, or returns false at once when stop is closed.
	wait func(d time.Duration, stop <-chan struct{}) bool
	// cpu is the process's CPU time so far (processCPU).
	cpu func() (time.Duration, bool)
	// runQueue is the process's threads' OS run-queue wait so far, summed,
	// and the largest one thread's grew by since the last call.
	runQueue func() (total, longest time.Duration, ok bool)
	// runnable, when set, replaces the runtime's count of goroutines
	// waiting for a P (metricRunnable).
	runnable func() uint64
	close    func()
}

func realClock() sentinelClock {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	rq := newRunQueue()
	return sentinelClock{
		runQueue: rq.read,
		close:    rq.close,
		now:      time.Now,
		wait: func(d time.Duration, stop <-chan struct{}) bool {
			timer.Reset(d)
			select {
			case <-stop:
				timer.Stop()
				return false
			case <-timer.C:
				return true
			}
		},
		cpu: processCPU,
	}
}

// metricRunnable is the Go run queue's length (Go 1.26+).
const metricRunnable = "/sched/goroutines/runnable:goroutines"

type sentinel struct {
	clock  sentinelClock
	period time.Duration
	start  time.Time
	stop   chan struct{}
	done   chan struct{}

	// Owned by the loop until done is closed.
	host    Host
	own     []uint64            // scheduler latency counts outside host pauses
	buckets []float64           // their buckets
	samples [2][]metrics.Sample // the scheduler latencies and the run queue, read alternately
	// The run queue at the last wake-ups (backlog reads their median).
	runnable  [backlogTicks]uint64
	nRunnable int
}

func startSentinel(clock sentinelClock, period time.Duration) *sentinel {
	s := &sentinel{clock: clock, period: period, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range s.samples {
		s.samples[i] = []metrics.Sample{{Name: metricSchedLatencies}, {Name: metricRunnable}}
	}
	s.host.Period = period
	s.start = clock.now()
	go s.loop()
	return s
}

// finish stops the sentinel and returns what it saw (without the OS figures).
func (s *sentinel) finish() Host {
	close(s.stop)
	<-s.done
	if s.clock.close != nil {
		s.clock.close()
	}
	h := s.host
	h.SchedLatencyOwnP99MS = histQuantile(s.own, s.buckets, 0.99) * 1000
	h.SchedLatencyOwnMaxMS = histMax(s.own, s.buckets) * 1000
	return h
}

func (s *sentinel) loop() {
	defer close(s.done)
	prev := s.clock.now()
	prevCPU, prevOK := s.clock.cpu()
	cur := 0
	metrics.Read(s.samples[cur])
	s.noteRunnable(cur)
	queue := func() (total, longest time.Duration, ok bool) {
		if s.clock.runQueue == nil {
			return 0, 0, false
		}
		return s.clock.runQueue()
	}
	firstWait, _, firstOK := queue()
	lastWait, lastOK := firstWait, firstOK
	// The CPU time at the last wake-ups, oldest first: the CPU a thread's
	// wait overlapped is read from it.
	type cpuAt struct {
		at  time.Time
		cpu time.Duration
		ok  bool
	}
	var ring [cpuHistory]cpuAt
	n := 0
	ring[0] = cpuAt{prev, prevCPU, prevOK}
	n++
	cpuSince := func(from, to time.Time, cpu time.Duration, ok bool) float64 {
		oldest := max(0, n-cpuHistory)
		i := n - 1 // the newest wake-up at or before from, else the oldest kept
		for i > oldest && ring[i%cpuHistory].at.After(from) {
			i--
		}
		past := ring[i%cpuHistory]
		span := to.Sub(past.at)
		if !ok || !past.ok || span <= 0 {
			return -1
		}
		return 100 * float64(cpu-past.cpu) / (float64(span) * float64(runtime.GOMAXPROCS(0)))
	}
	afterPause := false
	for {
		due := s.clock.now().Add(s.period)
		if !s.clock.wait(s.period, s.stop) {
			break
		}
		woke := s.clock.now()
		cpu, cpuOK := s.clock.cpu()
		next := 1 - cur
		metrics.Read(s.samples[next])
		wait, longest, waitOK := queue()
		if waitOK {
			lastWait, lastOK = wait, true
		} else {
			longest = 0
		}
		waitCPUPct := -1.0
		if longest > woke.Sub(prev) {
			waitCPUPct = cpuSince(woke.Add(-longest), prev, prevCPU, prevOK)
		}
		host := s.observe(prev, due, woke, cpu-prevCPU, prevOK && cpuOK, s.backlog(), longest, waitCPUPct)
		s.noteRunnable(next)
		s.addSched(s.samples[cur][0], s.samples[next][0], host || afterPause)
		afterPause = host
		prev, prevCPU, prevOK, cur = woke, cpu, cpuOK, next
		ring[n%cpuHistory] = cpuAt{prev, prevCPU, prevOK}
		n++
	}
	if firstOK && lastOK {
		s.host.RunQueueMS, s.host.RunQueueOK = durMS(lastWait-firstWait), true
	}
}

// noteRunnable keeps the run queue's length from sample set i.
func (s *sentinel) noteRunnable(i int) {
	var n uint64
	switch v := s.samples[i][1].Value; {
	case s.clock.runnable != nil:
		n = s.clock.runnable()
	case v.Kind() == metrics.KindUint64:
		n = v.Uint64()
	default:
		return // not in this runtime: no backlog is ever seen
	}
	s.runnable[s.nRunnable%backlogTicks] = n
	s.nRunnable++
}

// backlog reports whether the Go run queue lasted: its median over the last
// wake-ups is at least BusyRunnablePerP per P.
func (s *sentinel) backlog() bool {
	n := min(s.nRunnable, backlogTicks)
	if n == 0 {
		return false
	}
	v := slices.Clone(s.runnable[:n])
	slices.Sort(v)
	return v[n/2] >= uint64(BusyRunnablePerP*runtime.GOMAXPROCS(0))
}

// observe judges one sentinel period: it began at prev, the timer was due at
// due and the sentinel woke at woke; the process used cpu of CPU time in it
// (cpuOK false: unknown); backlog says the Go run queue lasted up to prev. The thread kept longest in the OS run queue waited
// longest, ending in the period; waitCPUPct is the process's CPU use (% of
// GOMAXPROCS, -1 unknown) from about when that wait began to prev. It records
// the stalls and reports whether a host pause ended in the period.
func (s *sentinel) observe(prev, due, woke time.Time, cpu time.Duration, cpuOK, backlog bool, longest time.Duration, waitCPUPct float64) bool {
	s.host.Ticks++
	late := woke.Sub(due)
	window := woke.Sub(prev)
	host := false
	// A thread's wait ended somewhere in the period: all of it that lies
	// before the period's start surely belongs to the wait. It is the host's
	// unless the process was busy meanwhile.
	if longest >= StallMin && longest > window && waitCPUPct >= 0 && waitCPUPct < 100*BusyFraction && !backlog {
		s.addPause(woke.Add(-longest), prev, waitCPUPct, true)
		host = true
	}
	if late < StallMin {
		return host
	}
	cpuPct := -1.0
	if cpuOK && window > 0 {
		cpuPct = 100 * float64(cpu) / (float64(window) * float64(runtime.GOMAXPROCS(0)))
	}
	// Unknown CPU use cannot clear the generator: the period counts as busy.
	if cpuPct < 0 || cpuPct >= 100*BusyFraction || backlog {
		s.host.BusyStalls++
		s.host.BusyStallMax = max(s.host.BusyStallMax, late)
		return host
	}
	s.addPause(due, woke, cpuPct, false)
	return true
}

// addPause adds the host pause [from, to), merged with the pauses it overlaps.
func (s *sentinel) addPause(from, to time.Time, cpuPct float64, thread bool) {
	ps := s.host.Pauses
	for len(ps) > 0 && !ps[len(ps)-1].Start.Add(ps[len(ps)-1].Length).Before(from) {
		last := ps[len(ps)-1]
		ps = ps[:len(ps)-1]
		if last.Start.Before(from) {
			from = last.Start
		}
		if end := last.Start.Add(last.Length); end.After(to) {
			to = end
		}
		cpuPct = max(cpuPct, last.CPUPct)
		thread = thread && last.Thread
	}
	if len(ps) >= maxPauses {
		s.host.Pauses = ps
		s.host.PausesDropped++
		return
	}
	s.host.Pauses = append(ps, Pause{Start: from, Offset: from.Sub(s.start), Length: to.Sub(from), CPUPct: cpuPct, Thread: thread, BusyPct: -1})
}

// addSched adds the scheduler latencies recorded between samples a and b to
// the generator's own, unless host says they belong to a host pause.
func (s *sentinel) addSched(a, b metrics.Sample, host bool) {
	if host || a.Value.Kind() != metrics.KindFloat64Histogram || b.Value.Kind() != metrics.KindFloat64Histogram {
		return
	}
	ha, hb := a.Value.Float64Histogram(), b.Value.Float64Histogram()
	if len(ha.Counts) != len(hb.Counts) {
		return
	}
	if s.own == nil {
		s.own = make([]uint64, len(hb.Counts))
		s.buckets = append([]float64(nil), hb.Buckets...)
	}
	if len(s.own) != len(hb.Counts) {
		return
	}
	for i, c := range hb.Counts {
		if c > ha.Counts[i] {
			s.own[i] += c - ha.Counts[i]
		}
	}
}
