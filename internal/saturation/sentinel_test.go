package saturation

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simHost is a host for a synctest bubble: it does not run the process during
// its pauses (nothing sleeping wakes before a pause ends), and the process
// uses busyFrac of its CPUs all along.
type simHost struct {
	start    time.Time
	pauses   [][2]time.Duration // [from, to) after start
	busyFrac float64            // of GOMAXPROCS: the CPU the process uses
	runnable uint64             // the Go run queue, all along
	// threadOnly: the pauses hold one thread of the process, not the
	// sentinel's: the sentinel wakes on time, and the OS run-queue wait of the
	// held thread shows each pause once it is over.
	threadOnly bool
	reported   int // pauses whose run-queue wait was read
}

// sleep sleeps d, and on through any pause the wake-up would fall in.
func (h *simHost) sleep(d time.Duration, stop <-chan struct{}) bool {
	return h.sleepPaused(d, stop, h.pauses)
}

func (h *simHost) sleepPaused(d time.Duration, stop <-chan struct{}, pauses [][2]time.Duration) bool {
	wake := time.Now().Add(d)
	for _, p := range pauses {
		from, to := h.start.Add(p[0]), h.start.Add(p[1])
		if !wake.Before(from) && wake.Before(to) {
			wake = to
		}
	}
	t := time.NewTimer(time.Until(wake))
	defer t.Stop()
	select {
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}

func (h *simHost) clock() sentinelClock {
	wait := h.sleep
	if h.threadOnly {
		wait = func(d time.Duration, stop <-chan struct{}) bool { return h.sleepPaused(d, stop, nil) }
	}
	return sentinelClock{
		now:  time.Now,
		wait: wait,
		cpu: func() (time.Duration, bool) {
			return time.Duration(h.busyFrac * float64(runtime.GOMAXPROCS(0)) * float64(time.Since(h.start))), true
		},
		runnable: func() uint64 { return h.runnable },
		runQueue: func() (total, longest time.Duration, ok bool) {
			if !h.threadOnly {
				return 0, 0, true
			}
			for h.reported < len(h.pauses) && time.Since(h.start) >= h.pauses[h.reported][1] {
				p := h.pauses[h.reported]
				longest = max(longest, p[1]-p[0])
				h.reported++
			}
			return 0, longest, true
		},
	}
}

// simRun runs users paced every 10 ms for 1 s on h, with a Sampler watching,
// and returns the evidence.
func simRun(t *testing.T, h *simHost) Input {
	t.Helper()
	h.start = time.Now()
	lag := NewLag()
	s := startSampler(h.clock(), SentinelPeriod)
	var wg sync.WaitGroup
	never := make(chan struct{})
	for range 5 {
		wg.Go(func() {
			for time.Since(h.start) < time.Second {
				planned := time.Now().Add(10 * time.Millisecond)
				h.sleep(10*time.Millisecond, never)
				lag.Record(time.Since(planned))
			}
		})
	}
	wg.Wait()
	rt := s.Stop()
	return NewInput(lag, rt, 0, 0)
}

// threePauses are 80 ms host pauses at 0.2, 0.5 and 0.8 s: each makes every
// user late once, 15 late starts of about 380, so the lag p99 is one of them.
var threePauses = [][2]time.Duration{
	{200 * time.Millisecond, 280 * time.Millisecond},
	{500 * time.Millisecond, 580 * time.Millisecond},
	{800 * time.Millisecond, 880 * time.Millisecond},
}

var lagOnly = Thresholds{MaxLagP99: 10 * time.Millisecond, MaxDroppedPct: -1}

// TestHostPauseIsReportedAndDoesNotSaturate: the host stops running an idle
// generator three times for 80 ms. The start lag p99 shows it, the sentinel
// sees three host pauses of the same length at the same times, and the verdict
// reports them and does not blame the generator.
func TestHostPauseIsReportedAndDoesNotSaturate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := simRun(t, &simHost{pauses: threePauses, busyFrac: 0.01})
		h := in.Runtime.Host

		require.Len(t, h.Pauses, 3, "%+v", h.Pauses)
		for i, p := range h.Pauses {
			from, to := threePauses[i][0], threePauses[i][1]
			assert.GreaterOrEqual(t, p.Offset, from, "pause %d starts in the host's pause", i)
			assert.Less(t, p.Offset, from+SentinelPeriod, "…within one sentinel period of its start")
			assert.Equal(t, to, p.Offset+p.Length, "…and lasts to its end")
			assert.Less(t, p.CPUPct, 100*BusyFraction)
			assert.False(t, p.Thread, "the sentinel saw it")
		}
		assert.Zero(t, h.BusyStalls)
		assert.Positive(t, h.Ticks)

		assert.Greater(t, in.Lag.P99MS, 70.0, "the raw start lag shows the pauses")
		assert.Less(t, in.LagOwn.P99MS, durMS(SentinelPeriod)+0.01, "without them at most a sentinel period is left")
		assert.Equal(t, in.Lag.Count, in.LagOwn.Count)

		v := Judge(in, lagOnly)
		assert.False(t, v.Saturated, "%s", v.Message())
		assert.True(t, containsSub(v.Notes, "but host pauses account for it"), "%q", v.Notes)
		assert.True(t, containsSub(v.Notes, "the process was not run 3 time(s)"), "%q", v.Notes)
		assert.True(t, containsSub(v.Notes, "at +0.2"), "the note says when: %q", v.Notes)
	})
}

// TestHostHoldingAThreadIsAHostPause: the host keeps one thread of an idle
// generator off the CPU, with the users' timers behind it, while the
// sentinel, on another thread, wakes on time. The thread's run-queue wait
// shows the pause, and the lag it made is the host's.
func TestHostHoldingAThreadIsAHostPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := simRun(t, &simHost{pauses: threePauses, busyFrac: 0.01, threadOnly: true})
		h := in.Runtime.Host
		require.Len(t, h.Pauses, 3, "%+v", h.Pauses)
		for i, p := range h.Pauses {
			from, to := threePauses[i][0], threePauses[i][1]
			assert.True(t, p.Thread)
			assert.Equal(t, from, p.Offset, "pause %d: the wait began when the host took the thread", i)
			assert.LessOrEqual(t, p.Offset+p.Length, to, "…and is set no later than it ended")
			assert.Greater(t, p.Offset+p.Length, to-SentinelPeriod-time.Millisecond, "…missing at most one sentinel period")
		}
		assert.Zero(t, h.BusyStalls, "the sentinel was never late")
		assert.Greater(t, in.Lag.P99MS, 70.0)
		assert.Less(t, in.LagOwn.P99MS, durMS(SentinelPeriod)+0.01)
		v := Judge(in, lagOnly)
		assert.False(t, v.Saturated, "%s", v.Message())
		assert.True(t, containsSub(v.Notes, "but host pauses account for it"), "%q", v.Notes)
	})
}

// TestBusyStallIsTheGenerators: the same stalls while the process keeps its
// CPUs busy, even a host's share of them, are the generator's own: nothing is
// explained away and the lag saturates it.
func TestBusyStallIsTheGenerators(t *testing.T) {
	for _, tc := range []struct {
		name string
		host simHost
	}{
		{"CPU busy", simHost{pauses: threePauses, busyFrac: 0.9}},
		// Spinning goroutines on a host that gives the process a third of its
		// CPUs: still busy.
		{"CPU busy, shared with the host", simHost{pauses: threePauses, busyFrac: 0.3}},
		{"CPU busy, a thread held", simHost{pauses: threePauses, busyFrac: 0.3, threadOnly: true}},
		// More runnable goroutines than Ps, all along, on a host that grants
		// the process hardly any CPU: still the generator's.
		{"a lasting Go run queue", simHost{pauses: threePauses, busyFrac: 0.05, runnable: uint64(BusyRunnablePerP * runtime.GOMAXPROCS(0))}},
		{"a lasting Go run queue, a thread held", simHost{pauses: threePauses, busyFrac: 0.05, threadOnly: true, runnable: uint64(BusyRunnablePerP * runtime.GOMAXPROCS(0))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := tc.host
				in := simRun(t, &h)
				assert.Empty(t, in.Runtime.Host.Pauses)
				if !h.threadOnly {
					assert.Equal(t, int64(3), in.Runtime.Host.BusyStalls)
					assert.InDelta(t, 80, durMS(in.Runtime.Host.BusyStallMax), durMS(SentinelPeriod))
				}
				assert.Equal(t, in.Lag, in.LagOwn, "nothing explained")

				v := Judge(in, lagOnly)
				require.True(t, v.Saturated)
				assert.Contains(t, v.Reasons[0], "start lag p99")
				assert.Contains(t, v.Reasons[0], "the generator started work late")
			})
		})
	}
}

func TestObserveClassifiesStalls(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t0 := time.Unix(1000, 0)
	due := t0.Add(SentinelPeriod)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	cpuAt := func(frac float64, late time.Duration) time.Duration {
		return time.Duration(frac * float64(procs) * float64(SentinelPeriod+late))
	}
	late := ms(30)

	s := &sentinel{start: t0}
	assert.False(t, s.observe(t0, due, due.Add(StallMin-1), 0, true, false, StallMin-1, 0), "under StallMin: no stall")
	assert.True(t, s.observe(t0, due, due.Add(late), cpuAt(0.1, late), true, false, 0, -1), "idle: a host pause")
	require.Len(t, s.host.Pauses, 1)
	assert.Equal(t, Pause{Start: due, Offset: SentinelPeriod, Length: late, CPUPct: 10, BusyPct: -1}, roundPct(s.host.Pauses[0]))

	assert.False(t, s.observe(t0, due, due.Add(late), cpuAt(BusyFraction, late), true, false, 0, -1), "CPU busy: the generator's")
	assert.False(t, s.observe(t0, due, due.Add(2*late), 0, false, false, 0, -1), "CPU unknown: cannot clear the generator")
	assert.False(t, s.observe(t0, due, due.Add(late), 0, true, true, 0, -1), "a lasting Go run queue: the generator's")
	assert.Equal(t, int64(3), s.host.BusyStalls)
	assert.Equal(t, 2*late, s.host.BusyStallMax)
	assert.Len(t, s.host.Pauses, 1)
	assert.Equal(t, int64(5), s.host.Ticks)

	// A thread waited 50 ms, ending in a period that began at p: 45 ms of it
	// surely lie before p. It is a host pause while the rest of the process
	// was idle.
	s = &sentinel{start: t0}
	p := t0.Add(ms(100))
	onTime := p.Add(SentinelPeriod)
	assert.False(t, s.observe(p, onTime, onTime, 0, true, false, ms(50), 100*BusyFraction), "a thread held while the process was busy: the generator's")
	assert.False(t, s.observe(p, onTime, onTime, 0, true, false, ms(50), -1), "…or while its CPU use is unknown")
	assert.False(t, s.observe(p, onTime, onTime, 0, true, true, ms(50), 1), "…or with a lasting Go run queue")
	assert.False(t, s.observe(p, onTime, onTime, 0, true, false, ms(4), 0), "a wait within the period: not placed")
	assert.Empty(t, s.host.Pauses)
	assert.Zero(t, s.host.BusyStalls, "only the sentinel's own stalls count as busy stalls")
	assert.True(t, s.observe(p, onTime, onTime, 0, true, false, ms(50), 1), "the sentinel was on time, a thread was held")
	require.Len(t, s.host.Pauses, 1)
	assert.Equal(t, Pause{Start: onTime.Add(-ms(50)), Offset: ms(55), Length: ms(45), CPUPct: 1, Thread: true, BusyPct: -1}, s.host.Pauses[0])

	// Pauses that overlap merge; one the sentinel saw is not Thread.
	s = &sentinel{start: t0}
	s.addPause(t0.Add(ms(10)), t0.Add(ms(20)), 1, true)
	s.addPause(t0.Add(ms(30)), t0.Add(ms(40)), 2, true)
	s.addPause(t0.Add(ms(15)), t0.Add(ms(35)), 3, false)
	s.addPause(t0.Add(ms(40)), t0.Add(ms(50)), 0, true)
	s.addPause(t0.Add(ms(60)), t0.Add(ms(70)), 0, true)
	assert.Equal(t, []Pause{
		{Start: t0.Add(ms(10)), Offset: ms(10), Length: ms(40), CPUPct: 3, BusyPct: -1},
		{Start: t0.Add(ms(60)), Offset: ms(60), Length: ms(10), Thread: true, BusyPct: -1},
	}, s.host.Pauses)

	s.host.Pauses = make([]Pause, maxPauses)
	for i := range s.host.Pauses {
		s.host.Pauses[i].Start = t0.Add(-time.Hour)
	}
	assert.True(t, s.observe(t0, due, due.Add(late), 0, true, false, 0, -1))
	assert.Len(t, s.host.Pauses, maxPauses, "kept no more")
	assert.Equal(t, int64(1), s.host.PausesDropped)
}

func roundPct(p Pause) Pause {
	p.CPUPct = float64(int(p.CPUPct + 0.5))
	return p
}

func TestHostLongestAndTotal(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	h := Host{Pauses: []Pause{{Offset: ms(1), Length: ms(5)}, {Offset: ms(2), Length: ms(9)}, {Offset: ms(3), Length: ms(5)}, {Offset: ms(4), Length: ms(7)}}}
	assert.Equal(t, ms(26), h.PauseTotal())
	got := h.Longest(3)
	require.Len(t, got, 3)
	assert.Equal(t, []time.Duration{ms(2), ms(4), ms(1)}, []time.Duration{got[0].Offset, got[1].Offset, got[2].Offset}, "longest first, earliest among equals")
	assert.Len(t, h.Longest(10), 4)
	assert.Empty(t, Host{}.Longest(5))
	assert.Equal(t, ms(5), h.Pauses[0].Length, "Longest does not reorder the pauses")
}

// The real sentinel stops with its Sampler: synctest fails a bubble whose
// goroutines outlive it.
func TestSamplerStopsItsSentinel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := StartSampler()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait() // the wake-up due at 100 ms too, not a race with Stop
		rt := s.Stop()
		assert.Equal(t, SentinelPeriod, rt.Host.Period)
		assert.EqualValues(t, 100*time.Millisecond/SentinelPeriod, rt.Host.Ticks, "one wake-up a period")
		for _, p := range rt.Host.Pauses {
			assert.True(t, p.Thread, "fake time: the sentinel is never late (its threads' real run-queue waits may show)")
		}
		assert.Zero(t, rt.Host.BusyStalls)
		assert.Equal(t, rt, s.Stop())
	})
}

// A run queue behind a held thread drains; only a lasting one, the median of
// the last wake-ups, marks the generator busy.
func TestBacklogIsALastingRunQueue(t *testing.T) {
	deep := uint64(BusyRunnablePerP * runtime.GOMAXPROCS(0))
	var now uint64
	s := &sentinel{clock: sentinelClock{runnable: func() uint64 { return now }}}
	s.samples[0] = make([]metrics.Sample, 2)
	assert.False(t, s.backlog(), "nothing seen yet")
	for i := range backlogTicks {
		now = 0
		if i%3 == 0 {
			now = 10 * deep // spikes, a third of the time
		}
		s.noteRunnable(0)
	}
	assert.False(t, s.backlog(), "spikes are no backlog")
	for range backlogTicks/2 + 1 {
		now = deep
		s.noteRunnable(0)
	}
	assert.True(t, s.backlog(), "most of the last wake-ups saw a deep run queue")
}
