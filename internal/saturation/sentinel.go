package saturation

import (
	"cmp"
	"runtime"
	"runtime/metrics"
	"slices"
	"time"
)

// The sentinel: a timer of the Sampler's own, no part of the load, that fires
// every SentinelPeriod and notes how late it woke. Both kinds of trouble make
// it late: a generator whose Ps are all busy runs its timers late, and so does
// a host that does not run the process at all (a VM paused or its CPU stolen,
// the process descheduled or throttled). What the process did meanwhile tells
// them apart; see Pause.
const (
	// SentinelPeriod is how often the sentinel's timer fires. A host pause
	// starts at most this long before the sentinel's timer was due, so up to
	// this much of a start lag next to a pause is not set against it.
	SentinelPeriod = 5 * time.Millisecond
	// StallMin is how late the sentinel must wake for its wake-up to count as
	// a stall (a host pause or a busy stall).
	StallMin = time.Millisecond
	// BusyFraction: a stall is the generator's own doing when the process used
	// at least this fraction of its GOMAXPROCS CPUs between the sentinel's
	// previous wake-up and this one, or when its threads were running or
	// waiting in the OS run queue for at least this fraction over the last
	// runQueueEvery wake-ups (a busy generator the host shares CPUs with).
	BusyFraction = 0.5
	// BusyRunnablePerP: so is a stall that began with at least this many
	// runnable goroutines per P waiting for one (a Go run queue, whatever CPU
	// the host granted).
	BusyRunnablePerP = 2
	// runQueueEvery: the OS run-queue wait is read every this many wake-ups,
	// and at each stall.
	runQueueEvery = 4
	// maxPauses is how many host pauses a Sampler keeps; the ones beyond are
	// counted, not kept, and cannot explain start lag.
	maxPauses = 1 << 15
)

// Pause is one stall of the sentinel during which the process was not
// running: the sentinel's timer was due at Start and it woke Length late,
// while the process used less than BusyFraction of its CPUs (and its threads,
// running or queued for a CPU, occupied less than BusyFraction of them), and
// fewer than BusyRunnablePerP goroutines per P were waiting to run when it
// began. Nothing of the generator's can delay a timer while its CPUs are idle
// and its run queue is empty: the host did not run it.
type Pause struct {
	Start  time.Time     // when the sentinel's timer was due
	Offset time.Duration // Start from the Sampler's start: when in the run
	Length time.Duration // how late the sentinel woke
	CPUPct float64       // the process's CPU use meanwhile, % of GOMAXPROCS
	// BusyPct is the process's CPU use plus its threads' OS run-queue wait
	// over the last runQueueEvery wake-ups, % of GOMAXPROCS; -1 unknown.
	BusyPct float64
}

// Host is what the sentinel saw over a Sampler's interval, and what the OS
// says about CPU the process did not get.
type Host struct {
	Period time.Duration // the sentinel's; 0 when no sentinel ran
	Ticks  int64         // sentinel wake-ups
	// Pauses are the host pauses, in time order (at most maxPauses of them;
	// PausesDropped counts the rest).
	Pauses        []Pause
	PausesDropped int64
	// Busy stalls: the sentinel woke StallMin or more late while the process
	// was busy (CPU or run queue): the generator's own lateness.
	BusyStalls   int64
	BusyStallMax time.Duration
	// SchedLatency*OwnMS: the scheduler latency (see Runtime) without what the
	// runtime recorded during host pauses and in the sentinel period after
	// each: goroutines readied in a pause wait for the host, not for the
	// generator. Zero without a sentinel.
	SchedLatencyOwnP99MS float64
	SchedLatencyOwnMaxMS float64
	// StealMS is the CPU time the hypervisor gave to others, summed over all
	// CPUs (/proc/stat "steal"), over the interval; StealOK says it was read.
	StealMS float64
	StealOK bool
	// RunQueueMS is the time the process's threads waited, runnable, for a
	// CPU in the OS run queue (/proc/self/task/*/schedstat) over the interval;
	// RunQueueOK says it was read.
	RunQueueMS float64
	RunQueueOK bool
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
	// runQueue is the process's threads' OS run-queue wait so far.
	runQueue func() (time.Duration, bool)
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
		runQueue: rq.waited,
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

// Metrics the sentinel reads at each wake-up.
const metricRunnable = "/sched/goroutines/runnable:goroutines" // Go 1.26+

type sentinel struct {
	clock  sentinelClock
	period time.Duration
	start  time.Time
	stop   chan struct{}
	done   chan struct{}

	// Owned by the loop until done is closed.
	host     Host
	own      []uint64  // scheduler latency counts outside host pauses
	buckets  []float64 // their buckets
	samples  [2][]metrics.Sample
	runnable bool // metricRunnable exists
}

func startSentinel(clock sentinelClock, period time.Duration) *sentinel {
	s := &sentinel{clock: clock, period: period, stop: make(chan struct{}), done: make(chan struct{}), runnable: supported(metricRunnable)}
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
	// The last run-queue reading: when, and the CPU and the wait then.
	type reading struct {
		at        time.Time
		cpu, wait time.Duration
		ok        bool
	}
	readQueue := func(at time.Time, cpu time.Duration, cpuOK bool) reading {
		r := reading{at: at, cpu: cpu}
		if s.clock.runQueue != nil {
			r.wait, r.ok = s.clock.runQueue()
		}
		r.ok = r.ok && cpuOK
		return r
	}
	first := readQueue(prev, prevCPU, prevOK)
	last := first
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
		busyPct := -1.0
		if woke.Sub(due) >= StallMin || s.host.Ticks%runQueueEvery == 0 {
			r := readQueue(woke, cpu, cpuOK)
			if span := r.at.Sub(last.at); r.ok && last.ok && span > 0 {
				busyPct = 100 * float64(r.cpu-last.cpu+r.wait-last.wait) / (float64(span) * float64(runtime.GOMAXPROCS(0)))
			}
			last = r
		}
		host := s.observe(prev, due, woke, cpu-prevCPU, prevOK && cpuOK, s.runnableAt(cur), busyPct)
		s.addSched(s.samples[cur][0], s.samples[next][0], host || afterPause)
		afterPause = host
		prev, prevCPU, prevOK, cur = woke, cpu, cpuOK, next
	}
	if end := readQueue(prev, prevCPU, prevOK); end.ok && first.ok {
		s.host.RunQueueMS, s.host.RunQueueOK = durMS(end.wait-first.wait), true
	}
}

// runnableAt is the runnable goroutines of sample set i, or 0 when unknown.
func (s *sentinel) runnableAt(i int) uint64 {
	if s.clock.runnable != nil {
		return s.clock.runnable()
	}
	if v := s.samples[i][1].Value; s.runnable && v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}

// observe judges one wake-up: due was when the timer should have fired, woke
// when the sentinel ran, prev its previous wake-up, cpu the process's CPU time
// in between (cpuOK false: unknown), runnable the goroutines waiting for a P at
// prev, busyPct the CPU plus run-queue occupancy (-1: not measured). It
// reports whether the wake-up was a host pause.
func (s *sentinel) observe(prev, due, woke time.Time, cpu time.Duration, cpuOK bool, runnable uint64, busyPct float64) bool {
	s.host.Ticks++
	late := woke.Sub(due)
	if late < StallMin {
		return false
	}
	procs := runtime.GOMAXPROCS(0)
	window := woke.Sub(prev)
	cpuPct := -1.0
	if cpuOK && window > 0 {
		cpuPct = 100 * float64(cpu) / (float64(window) * float64(procs))
	}
	// Unknown CPU use cannot clear the generator: the stall is counted as its own.
	busy := cpuPct < 0 || cpuPct >= 100*BusyFraction || busyPct >= 100*BusyFraction ||
		runnable >= uint64(BusyRunnablePerP*procs)
	if busy {
		s.host.BusyStalls++
		s.host.BusyStallMax = max(s.host.BusyStallMax, late)
		return false
	}
	if len(s.host.Pauses) >= maxPauses {
		s.host.PausesDropped++
		return true
	}
	s.host.Pauses = append(s.host.Pauses, Pause{Start: due, Offset: due.Sub(s.start), Length: late, CPUPct: cpuPct, BusyPct: busyPct})
	return true
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
