package saturation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MinLagSamples is the number of recorded start lags below which Judge does not
// judge the lag p99: with fewer, the p99 is the largest one or two values.
const MinLagSamples = 100

// Thresholds are the limits beyond which the load generator counts as saturated.
// ThresholdsFor derives them from the latency bounds a run is graded on.
//
// A zero (or negative) MaxLagP99, MaxSchedP99 or MaxCPUPct disables that check.
// MaxDroppedPct is different: 0 means any dropped iteration trips it, and a
// negative value disables it.
type Thresholds struct {
	// MaxLagP99 limits the p99 of how late the generator started work against
	// its own schedule, host pauses taken off (see Input.LagOwn). Judged only
	// with at least MinLagSamples lags.
	MaxLagP99 time.Duration
	// MaxSchedP99 limits the p99 of the Go scheduler latency: how long
	// runnable goroutines waited for a CPU, outside host pauses.
	MaxSchedP99 time.Duration
	// MaxDroppedPct limits the open model's dropped iterations as a percentage
	// of the iterations due (started plus dropped). 0: none may be dropped;
	// negative: not checked.
	MaxDroppedPct float64
	// MaxCPUPct limits the process's CPU use as a percentage of GOMAXPROCS CPUs.
	MaxCPUPct float64
	// LagBasis and SchedBasis say where MaxLagP99 and MaxSchedP99 came from,
	// for the reasons: "10% of median_ms's Acceptable bound, 200 ms, the
	// tightest gated latency bound", "-max-lag". Empty: not said.
	LagBasis, SchedBasis string
}

// DefaultThresholds returns the limits used when no latency bound is known
// (ThresholdsFor replaces the two time limits by fractions of the bound):
//
//   - start lag p99 10 ms: a generator that keeps up starts work within a
//     millisecond or two; 10 ms late at p99 is a generator queueing its own work,
//     and is the size of the latencies being measured against a fast API.
//   - scheduler latency p99 20 ms: goroutines waiting that long for a CPU delay
//     timers, request writes and response reads alike, so measured latencies
//     include the generator's CPU queue. It is looser than the lag limit
//     because GC assists and the runtime's own sampling make it noisier.
//   - any dropped iteration: a drop means the in-flight cap was reached, so the
//     schedule was not kept and the offered load was lower than asked.
//   - CPU 90% of GOMAXPROCS: above it there is no headroom and every other
//     figure starts to degrade.
//
// Under the race detector (make test builds with -race) the generator is
// several times slower by design, so the time limits are RaceFactor times
// looser and the CPU check is off: a -race run can still be judged saturated,
// but only by a generator that is far behind. Measure without -race.
func DefaultThresholds() Thresholds {
	th := Thresholds{
		MaxLagP99:     10 * time.Millisecond,
		MaxSchedP99:   20 * time.Millisecond,
		MaxDroppedPct: 0,
		MaxCPUPct:     90,
	}
	if raceEnabled {
		th.MaxLagP99 *= RaceFactor
		th.MaxSchedP99 *= RaceFactor
		th.MaxCPUPct = 0
	}
	return th
}

// RaceFactor loosens the default time limits of a binary built with -race.
const RaceFactor = 5

// Input is the evidence about one run; NewInput gathers it.
type Input struct {
	Lag LagStats // the start lag as measured
	// LagOwn is Lag with the part of each late start that host pauses account
	// for taken off (Lag.Explain of Runtime.Host.Pauses): the generator's own
	// lateness. Judged instead of Lag when the Sampler's sentinel ran
	// (Runtime.Host.Ticks > 0).
	LagOwn LagStats
	// LagUnexplainable counts late starts Explain could not set against the
	// host pauses (Lag.Unexplainable): they count in LagOwn as measured.
	LagUnexplainable int64
	Runtime          Runtime // zero when no Sampler ran: runtime checks are then skipped
	// The open model's iterations started and dropped; both 0 for the user model.
	Iterations, Dropped int64
}

// NewInput gathers a run's evidence: lag's statistics as measured and without
// the host pauses rt's sentinel saw, rt, and the open model's iterations.
func NewInput(lag *Lag, rt Runtime, iterations, dropped int64) Input {
	return Input{
		Lag: lag.Snapshot(), LagOwn: lag.Explain(rt.Host.Pauses), LagUnexplainable: lag.Unexplainable(),
		Runtime: rt, Iterations: iterations, Dropped: dropped,
	}
}

// Verdict is Judge's answer.
type Verdict struct {
	Saturated bool
	// Reasons has one line per threshold tripped, with the measured value and the limit.
	Reasons []string
	// Notes are remarks that trip nothing: checks skipped, figures not measured.
	Notes []string
	// Advice, when Saturated, says what the verdict means and what to change.
	Advice string
}

// Judge compares a run's evidence with the thresholds.
//
// Only the generator's own trouble saturates it: start lag and scheduler
// latency count without what host pauses account for (a host that does not run
// the process delays everything in it, but that is the host's doing, and the
// verdict reports it as such in a note); CPU use and dropped iterations count
// as measured.
func Judge(in Input, th Thresholds) Verdict {
	var v Verdict
	trip := func(format string, a ...any) { v.Reasons = append(v.Reasons, fmt.Sprintf(format, a...)) }
	note := func(format string, a ...any) { v.Notes = append(v.Notes, fmt.Sprintf(format, a...)) }
	rt := in.Runtime
	sentinel := rt.Host.Ticks > 0

	if th.MaxLagP99 > 0 {
		switch lim := durMS(th.MaxLagP99); {
		case in.Lag.Count < MinLagSamples:
			note("start lag p99 not judged: %d start(s) recorded, fewer than the %d needed", in.Lag.Count, MinLagSamples)
		case in.Lag.P99MS <= lim:
		case sentinel && in.LagOwn.P99MS <= lim:
			note("start lag p99 %s is above %s%s, but host pauses account for it: without them it is %s (max %s over %d starts), within the limit",
				ms(in.Lag.P99MS), num(lim)+" ms", basis(th.LagBasis), ms(in.LagOwn.P99MS), ms(in.LagOwn.MaxMS), in.LagOwn.Count)
		default:
			own := ""
			if sentinel && in.LagOwn.P99MS < in.Lag.P99MS {
				own = fmt.Sprintf("; host pauses account for only part of it: without them it is %s", ms(in.LagOwn.P99MS))
			}
			trip("start lag p99 %s is above %s%s (max %s over %d starts): the generator started work late against its own schedule%s",
				ms(in.Lag.P99MS), num(lim)+" ms", basis(th.LagBasis), ms(in.Lag.MaxMS), in.Lag.Count, own)
		}
	}

	sampled := rt.GOMAXPROCS > 0
	if !sampled && (th.MaxSchedP99 > 0 || th.MaxCPUPct > 0) {
		note("scheduler latency and CPU use not judged: no runtime sample")
	}
	if sampled && th.MaxSchedP99 > 0 {
		switch lim := durMS(th.MaxSchedP99); {
		case rt.SchedLatencyP99MS <= lim:
		case sentinel && rt.Host.SchedLatencyOwnP99MS <= lim:
			note("scheduler latency p99 %s is above %s%s, but host pauses account for it: outside them it is %s, within the limit",
				ms(rt.SchedLatencyP99MS), num(lim)+" ms", basis(th.SchedBasis), ms(rt.Host.SchedLatencyOwnP99MS))
		default:
			own := ""
			if sentinel && len(rt.Host.Pauses) > 0 {
				own = fmt.Sprintf(" (%s outside host pauses)", ms(rt.Host.SchedLatencyOwnP99MS))
			}
			trip("scheduler latency p99 %s%s is above %s%s: runnable goroutines waited that long for a CPU",
				ms(rt.SchedLatencyP99MS), own, num(lim)+" ms", basis(th.SchedBasis))
		}
	}
	if sampled && th.MaxCPUPct > 0 {
		switch {
		case rt.CPUSource == "":
			note("CPU use not judged: it was not measured")
		case rt.CPUUtilPct > th.MaxCPUPct:
			trip("CPU use %.0f%% of GOMAXPROCS=%d is above %s%%", rt.CPUUtilPct, rt.GOMAXPROCS, num(th.MaxCPUPct))
		}
	}

	if th.MaxDroppedPct >= 0 && in.Dropped > 0 {
		due := in.Iterations + in.Dropped
		pct := 100 * float64(in.Dropped) / float64(due)
		if pct > th.MaxDroppedPct {
			trip("dropped iterations %s%% (%d of %d due) is above %s%%: the in-flight cap was reached, so the schedule was not kept",
				strconv.FormatFloat(pct, 'f', 2, 64), in.Dropped, due, num(th.MaxDroppedPct))
		}
	}

	if h := rt.Host; len(h.Pauses) > 0 || h.PausesDropped > 0 {
		note("%s", HostNote(h))
	}
	if in.LagUnexplainable > 0 && sentinel {
		note("%d late start(s) beyond what the lag keeps could not be set against the host pauses; they count as measured", in.LagUnexplainable)
	}
	v.Notes = append(v.Notes, rt.Notes...)
	v.Saturated = len(v.Reasons) > 0
	if v.Saturated {
		v.Advice = advice(rt.GOMAXPROCS)
	}
	return v
}

// basis formats a threshold's basis for a reason: " (10% of …)".
func basis(b string) string {
	if b == "" {
		return ""
	}
	return " (" + b + ")"
}

// HostNote describes the host pauses: how many, how long in all, the longest
// with when they happened (from the Sampler's start), and the OS's figures.
func HostNote(h Host) string {
	var b strings.Builder
	n := int64(len(h.Pauses)) + h.PausesDropped
	fmt.Fprintf(&b, "host pauses: the process was not run %d time(s) for %s in all", n, msDur(h.PauseTotal()))
	threads := 0
	for _, p := range h.Pauses {
		if p.Thread {
			threads++
		}
	}
	if threads > 0 {
		fmt.Fprintf(&b, " (%d of them one thread only)", threads)
	}
	if h.PausesDropped > 0 {
		fmt.Fprintf(&b, " (%d not kept, not in the total)", h.PausesDropped)
	}
	if top := h.Longest(5); len(top) > 0 {
		b.WriteString("; longest ")
		for i, p := range top {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s at +%s", msDur(p.Length), seconds(p.Offset))
		}
	}
	var os []string
	if h.StealOK {
		os = append(os, "CPU steal "+ms(h.StealMS)+" (all CPUs)")
	}
	if h.RunQueueOK {
		os = append(os, "OS run-queue wait "+ms(h.RunQueueMS)+" (all threads)")
	}
	if len(os) > 0 {
		b.WriteString("; over the run " + strings.Join(os, ", "))
	}
	b.WriteString(". In each the sentinel timer was late, or a thread waited in the OS run queue, while the process was idle: the host's doing, not the generator's")
	return b.String()
}

// seconds formats an offset into the run: 1.234 s.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + " s" }

func advice(gomaxprocs int) string {
	procs := "GOMAXPROCS"
	if gomaxprocs > 0 {
		procs = fmt.Sprintf("GOMAXPROCS (%d here)", gomaxprocs)
	}
	return "The load generator could not keep up, so the numbers describe the load generator, not the server: " +
		"its own queueing is inside the latencies and the throughput is what it managed, not what was asked. " +
		"Treat the run as inconclusive and rerun with: fewer users or a lower -rate; " +
		"a higher -max-inflight if iterations were dropped; " +
		"a bigger machine, or the load split across machines (-segment, distributed runs); " +
		"a check that " + procs + " matches the CPUs the generator should have; " +
		"and no -race for real measurements (it slows the generator several times over)."
}

// Message is the verdict as a multi-line text, e.g. for a failing test.
func (v Verdict) Message() string {
	var b strings.Builder
	if v.Saturated {
		b.WriteString("Load generator saturated: the run is inconclusive.\n")
	} else {
		b.WriteString("Load generator kept up.\n")
	}
	for _, r := range v.Reasons {
		b.WriteString("  - " + r + "\n")
	}
	if len(v.Notes) > 0 {
		b.WriteString("Notes:\n")
		for _, n := range v.Notes {
			b.WriteString("  - " + n + "\n")
		}
	}
	if v.Advice != "" {
		b.WriteString(v.Advice + "\n")
	}
	return b.String()
}

func durMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ms formats milliseconds with precision suited to the size: 142 ms, 42.1 ms, 0.250 ms.
func ms(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	case v == 0:
		return "0 ms"
	default:
		return strconv.FormatFloat(v, 'f', 3, 64) + " ms"
	}
}

// num formats a threshold without trailing zeros: 90, 0.5.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
