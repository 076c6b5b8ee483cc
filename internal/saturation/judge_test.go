package saturation

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/target"
)

// calm is a run where the generator kept up.
func calm() Input {
	return Input{
		Lag:        LagStats{Count: 1000, P50MS: 0.2, P90MS: 0.8, P99MS: 2, MaxMS: 5},
		Runtime:    Runtime{SchedLatencyP99MS: 1, CPUUtilPct: 40, CPUSource: CPUSourceRusage, GOMAXPROCS: 2},
		Iterations: 1000,
	}
}

func TestJudge(t *testing.T) {
	disabled := Thresholds{MaxDroppedPct: -1}
	tests := []struct {
		name    string
		edit    func(*Input)
		th      Thresholds
		reasons []string // each reason must contain the matching string, in order
		notes   []string // some note must contain each
	}{
		{name: "calm run", edit: func(*Input) {}, th: limits},
		{
			name:    "lag p99 alone",
			edit:    func(in *Input) { in.Lag.P99MS, in.Lag.MaxMS = 42.1, 80 },
			th:      limits,
			reasons: []string{"start lag p99 42.1 ms is above 10 ms"},
		},
		{
			name: "lag p99 at the limit does not trip",
			edit: func(in *Input) { in.Lag.P99MS = 10 },
			th:   limits,
		},
		{
			name:  "too few lag samples: noted, not judged",
			edit:  func(in *Input) { in.Lag = LagStats{Count: 99, P99MS: 500, MaxMS: 500} },
			th:    limits,
			notes: []string{"start lag p99 not judged: 99 start(s) recorded, fewer than the 100 needed"},
		},
		{
			name:    "a hundred lag samples are judged",
			edit:    func(in *Input) { in.Lag = LagStats{Count: 100, P99MS: 500, MaxMS: 500} },
			th:      limits,
			reasons: []string{"start lag p99 500 ms is above 10 ms"},
		},
		{
			name:    "scheduler latency alone",
			edit:    func(in *Input) { in.Runtime.SchedLatencyP99MS = 25.5 },
			th:      limits,
			reasons: []string{"scheduler latency p99 25.5 ms is above 20 ms"},
		},
		{
			name:    "CPU alone",
			edit:    func(in *Input) { in.Runtime.CPUUtilPct = 97 },
			th:      limits,
			reasons: []string{"CPU use 97% of GOMAXPROCS=2 is above 90%"},
		},
		{
			name:    "one dropped iteration trips the default",
			edit:    func(in *Input) { in.Iterations, in.Dropped = 999, 1 },
			th:      limits,
			reasons: []string{"dropped iterations 0.10% (1 of 1000 due) is above 0%"},
		},
		{
			name: "drops under a percentage limit",
			edit: func(in *Input) { in.Iterations, in.Dropped = 99, 1 },
			th:   Thresholds{MaxDroppedPct: 5},
		},
		{
			name:    "drops over a percentage limit",
			edit:    func(in *Input) { in.Iterations, in.Dropped = 90, 10 },
			th:      Thresholds{MaxDroppedPct: 5},
			reasons: []string{"dropped iterations 10.00% (10 of 100 due) is above 5%"},
		},
		{
			name: "everything disabled",
			edit: func(in *Input) {
				in.Lag.P99MS, in.Runtime.SchedLatencyP99MS, in.Runtime.CPUUtilPct = 1e4, 1e4, 200
				in.Dropped = 500
			},
			th: disabled,
		},
		{
			name: "everything trips",
			edit: func(in *Input) {
				in.Lag.P99MS, in.Runtime.SchedLatencyP99MS, in.Runtime.CPUUtilPct = 11, 21, 91
				in.Dropped = 1
			},
			th:      limits,
			reasons: []string{"start lag p99 11.0 ms", "scheduler latency p99 21.0 ms", "CPU use 91%", "dropped iterations"},
		},
		{
			name: "no runtime sample: runtime checks skipped",
			edit: func(in *Input) {
				in.Runtime = Runtime{SchedLatencyP99MS: 1e4, CPUUtilPct: 200, CPUSource: CPUSourceRusage}
			},
			th:    limits,
			notes: []string{"scheduler latency and CPU use not judged: no runtime sample"},
		},
		{
			name:  "CPU not measured: noted",
			edit:  func(in *Input) { in.Runtime.CPUSource, in.Runtime.CPUUtilPct = "", 0 },
			th:    limits,
			notes: []string{"CPU use not judged"},
		},
		{
			name:  "runtime notes are passed on",
			edit:  func(in *Input) { in.Runtime.Notes = []string{"metric /x:y not available"} },
			th:    limits,
			notes: []string{"metric /x:y not available"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := calm()
			tc.edit(&in)
			v := Judge(in, tc.th)
			require.Len(t, v.Reasons, len(tc.reasons), "reasons: %q", v.Reasons)
			for i, want := range tc.reasons {
				assert.Contains(t, v.Reasons[i], want)
			}
			assert.Equal(t, len(tc.reasons) > 0, v.Saturated)
			if v.Saturated {
				assert.NotEmpty(t, v.Advice)
			} else {
				assert.Empty(t, v.Advice)
			}
			for _, want := range tc.notes {
				assert.True(t, containsSub(v.Notes, want), "no note contains %q: %q", want, v.Notes)
			}
			if len(tc.notes) == 0 {
				assert.Empty(t, v.Notes)
			}
		})
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// limits are the defaults of a binary built without -race.
var limits = Thresholds{MaxLagP99: 10 * time.Millisecond, MaxSchedP99: 20 * time.Millisecond, MaxDroppedPct: 0, MaxCPUPct: 90}

func TestDefaultThresholds(t *testing.T) {
	want := limits
	if raceEnabled {
		want = Thresholds{MaxLagP99: 50 * time.Millisecond, MaxSchedP99: 100 * time.Millisecond, MaxDroppedPct: 0, MaxCPUPct: 0}
	}
	assert.Equal(t, want, DefaultThresholds())
}

func TestVerdictMessage(t *testing.T) {
	in := calm()
	in.Lag.P99MS = 42.1
	in.Lag.Count = 5 // not judged: a note
	in.Runtime.CPUUtilPct = 99
	v := Judge(in, limits)
	require.True(t, v.Saturated)
	msg := v.Message()
	for _, want := range []string{
		"saturated", "inconclusive", "CPU use 99% of GOMAXPROCS=2 is above 90%", "Notes:", "start lag p99 not judged",
		"the numbers describe the load generator, not the server", "-rate", "-max-inflight", "-segment",
		"GOMAXPROCS (2 here)", "-race",
	} {
		assert.Contains(t, msg, want)
	}

	ok := Judge(calm(), limits).Message()
	assert.Equal(t, "Load generator kept up.\n", ok)
}

// paused is calm() with the lag a host pause made: 85.8 ms at p99 as measured,
// 0.9 ms without the pause, which the sentinel saw 1.234 s into the run.
func paused() Input {
	in := calm()
	in.Lag = LagStats{Count: 1000, P50MS: 0.2, P90MS: 0.8, P99MS: 85.8, MaxMS: 90}
	in.LagOwn = LagStats{Count: 1000, P50MS: 0.2, P90MS: 0.8, P99MS: 0.9, MaxMS: 4}
	in.Runtime.Host = Host{Period: SentinelPeriod, Ticks: 600, StealOK: true, StealMS: 80, RunQueueOK: true, RunQueueMS: 3,
		Pauses: []Pause{
			{Offset: 1234 * time.Millisecond, Length: 85800 * time.Microsecond, CPUPct: 1},
			{Offset: 2500 * time.Millisecond, Length: 2 * time.Millisecond, CPUPct: 3, Thread: true},
		}}
	return in
}

func TestJudgeHostPauses(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Input)
		reasons []string
		notes   []string
	}{
		{
			name:  "lag a host pause accounts for is noted, not tripped",
			edit:  func(*Input) {},
			notes: []string{"start lag p99 85.8 ms is above 10 ms, but host pauses account for it: without them it is 0.900 ms", "host pauses: the process was not run 2 time(s) for 87.8 ms in all (1 of them one thread only); longest 85.8 ms at +1.234 s, 2.0 ms at +2.500 s; over the run CPU steal 80.0 ms (all CPUs), OS run-queue wait 3.0 ms (all threads)"},
		},
		{
			name:    "lag host pauses explain only in part trips",
			edit:    func(in *Input) { in.LagOwn.P99MS = 30 },
			reasons: []string{"start lag p99 85.8 ms is above 10 ms (max 90.0 ms over 1000 starts): the generator started work late against its own schedule; host pauses account for only part of it: without them it is 30.0 ms"},
			notes:   []string{"host pauses: the process was not run 2 time(s)"},
		},
		{
			name: "without a sentinel the lag is judged as measured",
			edit: func(in *Input) {
				in.Runtime.Host = Host{}
			},
			reasons: []string{"start lag p99 85.8 ms is above 10 ms (max 90.0 ms over 1000 starts): the generator started work late against its own schedule"},
		},
		{
			name: "scheduler latency of host pauses is noted, not tripped",
			edit: func(in *Input) {
				in.Runtime.SchedLatencyP99MS, in.Runtime.Host.SchedLatencyOwnP99MS = 37.7, 0.5
			},
			notes: []string{"scheduler latency p99 37.7 ms is above 20 ms, but host pauses account for it: outside them it is 0.500 ms"},
		},
		{
			name: "scheduler latency outside host pauses trips",
			edit: func(in *Input) {
				in.Runtime.SchedLatencyP99MS, in.Runtime.Host.SchedLatencyOwnP99MS = 37.7, 25
			},
			reasons: []string{"scheduler latency p99 37.7 ms (25.0 ms outside host pauses) is above 20 ms"},
		},
		{
			name:    "host pauses excuse neither CPU use nor drops",
			edit:    func(in *Input) { in.Runtime.CPUUtilPct, in.Iterations, in.Dropped = 97, 990, 10 },
			reasons: []string{"CPU use 97%", "dropped iterations 1.00%"},
		},
		{
			name:  "late starts the lag could not keep are noted",
			edit:  func(in *Input) { in.LagUnexplainable = 7 },
			notes: []string{"7 late start(s) beyond what the lag keeps could not be set against the host pauses"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := paused()
			tc.edit(&in)
			v := Judge(in, limits)
			require.Len(t, v.Reasons, len(tc.reasons), "reasons: %q", v.Reasons)
			for i, want := range tc.reasons {
				assert.Contains(t, v.Reasons[i], want)
			}
			assert.Equal(t, len(tc.reasons) > 0, v.Saturated)
			for _, want := range tc.notes {
				assert.True(t, containsSub(v.Notes, want), "no note contains %q: %q", want, v.Notes)
			}
		})
	}
}

// The lag limit follows the tightest latency bound: 5 ms of start lag cannot
// make a run graded on 500 ms inconclusive, and does make one graded on 2 ms.
func TestLagLimitFollowsTheTightestBound(t *testing.T) {
	in := calm()
	in.Lag.P99MS, in.Lag.MaxMS = 5, 6
	for _, tc := range []struct {
		bound     time.Duration
		saturated bool
	}{{500 * time.Millisecond, false}, {2 * time.Millisecond, true}} {
		th := ThresholdsFor(Bound{Metric: "p95_ms", Grade: target.GradeAcceptable, Value: tc.bound}, true)
		th.MaxCPUPct = 0 // only the time limits matter here
		v := Judge(in, th)
		assert.Equal(t, tc.saturated, v.Saturated, "bound %v: %s", tc.bound, v.Message())
		if tc.saturated {
			assert.Contains(t, v.Reasons[0], "of p95_ms's Acceptable bound, 2.0 ms, the tightest gated latency bound")
		}
	}
}
