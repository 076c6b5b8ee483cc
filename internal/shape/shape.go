// Package shape describes how the load of a run changes over time, as Locust's
// LoadTestShape and k6's stages do.
//
// A [Shape] is asked about once a second, with the time since the run started,
// for the wanted [Step]; it answers false when the run should end. A shape is of
// one of two models:
//
//   - users (closed model): Step.Users users, started or stopped at
//     Step.SpawnRate users a second (Locust's -u and -r, Runner.Scale);
//   - rate (open model): Step.Rate iterations a second start, whatever the
//     iterations already running (k6's arrival-rate executors).
//
// [Stages] is the declarative shape, read from JSON by [Load] or [Parse]:
//
//	{"kind": "users", "stages": [
//	  {"duration": "60s", "users": 10, "spawn_rate": 1},
//	  {"duration": "60s", "users": 50, "spawn_rate": 2}
//	]}
//
//	{"kind": "rate", "start_rate": 0, "stages": [
//	  {"duration": "30s", "rate": 50},
//	  {"duration": "1m", "rate": 200}
//	]}
//
// The stages run one after another, each for its duration; the run ends after
// the last. A duration is a string in Locust's or Go's form ("60s", "5m",
// "1h30m", "1.5s", "500ms") or a number of seconds (60, "60").
//
// In a users shape a stage's users and spawn_rate hold for the whole stage, as in
// Locust's StagesShape: at the start of the stage the runner scales towards
// users at spawn_rate users a second.
//
// In a rate shape the arrival rate (iterations a second) ramps linearly over each
// stage from the previous stage's rate to the stage's rate, as in k6's
// ramping-arrival-rate; a stage whose rate equals the previous one holds it. The
// first stage ramps from start_rate (optional, default 0), so a constant rate from
// the start is {"start_rate": 10, "stages": [{"duration": "10s", "rate": 10}]}.
//
// Parsing is strict: the keys are exactly those above (kind, stages, start_rate;
// duration, users, spawn_rate for users stages; duration, rate for rate stages), a
// key of the other kind is an error, and every stage field is required. The
// limits: at most [MaxStages] stages, a file of at most [MaxFileSize] bytes, stage
// durations > 0 adding up to at most [MaxTotal], 0 <= users <= [MaxUsers],
// 0 < spawn_rate <= [MaxRate], 0 <= rate <= [MaxRate]. Errors name the field:
//
//	shape fixtures/shapes/x.json: stages[2].spawn_rate: must be positive
package shape

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Shape is a load shape. Tick is called about once a second with the time since
// the run started; it returns the wanted step, or false when the run should end
// (Locust's tick() returning None).
type Shape interface {
	Tick(elapsed time.Duration) (Step, bool)
}

// Step is the load wanted at one moment. A users shape sets Users and SpawnRate
// (the closed model: Runner.Scale(Users, SpawnRate)); a rate shape sets Rate,
// iterations started a second (the open model's arrival rate). Never both.
type Step struct {
	Users     int
	SpawnRate float64
	Rate      float64
}

// Func is a shape written in Go, like a LoadTestShape subclass's tick.
type Func func(elapsed time.Duration) (Step, bool)

// Tick calls f.
func (f Func) Tick(elapsed time.Duration) (Step, bool) { return f(elapsed) }

// The kinds of [Stages].
const (
	KindUsers = "users" // closed model: users and spawn_rate per stage
	KindRate  = "rate"  // open model: arrival rate per stage, ramped linearly
)

// Limits of a valid [Stages].
const (
	MaxStages   = 1000
	MaxUsers    = 1_000_000
	MaxRate     = 1e6               // spawn_rate, rate and start_rate, per second
	MaxTotal    = 1e7 * time.Second // the sum of the stage durations (about 115 days)
	MaxFileSize = 1 << 20           // bytes of JSON
)

// Stages is a declarative shape: stages that run one after another.
type Stages struct {
	Kind   string // KindUsers or KindRate
	Stages []Stage
	// StartRate is the arrival rate at the start of a rate shape, from which the
	// first stage ramps (k6's startRate); 0 unless set. Unused by users shapes.
	StartRate float64
}

// Stage is one stage of [Stages]. A users stage sets Users and SpawnRate, a rate
// stage sets Rate (the rate reached at the end of the stage).
type Stage struct {
	Duration  time.Duration
	Users     int
	SpawnRate float64
	Rate      float64
}

var _ Shape = Stages{}

// Validate reports the first thing wrong with s, naming the stage and field.
func (s Stages) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("shape: %w", err)
	}
	return nil
}

func (s Stages) validate() error {
	switch s.Kind {
	case KindUsers:
		if s.StartRate != 0 {
			return fmt.Errorf("start_rate: %s", notAllowed(KindUsers))
		}
	case KindRate:
		if !inRange(s.StartRate, 0, MaxRate) {
			return fmt.Errorf("start_rate: %s", rateRangeMsg)
		}
	case "":
		return fmt.Errorf("kind: missing (%q or %q)", KindUsers, KindRate)
	default:
		return fmt.Errorf("kind: %q is not %q or %q", s.Kind, KindUsers, KindRate)
	}
	if len(s.Stages) == 0 {
		return fmt.Errorf("stages: need at least one stage")
	}
	if len(s.Stages) > MaxStages {
		return fmt.Errorf("stages: %d stages, at most %d", len(s.Stages), MaxStages)
	}
	var total time.Duration
	for i, st := range s.Stages {
		bad := func(field, msg string) error { return fmt.Errorf("stages[%d].%s: %s", i, field, msg) }
		if st.Duration <= 0 {
			return bad("duration", "must be positive")
		}
		if st.Duration > MaxTotal-total {
			return bad("duration", "the stages add up to more than "+MaxTotal.String())
		}
		total += st.Duration
		if s.Kind == KindUsers {
			switch {
			case st.Users < 0 || st.Users > MaxUsers:
				return bad("users", usersRangeMsg)
			case !(st.SpawnRate > 0):
				return bad("spawn_rate", "must be positive")
			case st.SpawnRate > MaxRate:
				return bad("spawn_rate", fmt.Sprintf("must be at most %g", float64(MaxRate)))
			case st.Rate != 0:
				return bad("rate", notAllowed(KindUsers))
			}
			continue
		}
		switch {
		case !inRange(st.Rate, 0, MaxRate):
			return bad("rate", rateRangeMsg)
		case st.Users != 0:
			return bad("users", notAllowed(KindRate))
		case st.SpawnRate != 0:
			return bad("spawn_rate", notAllowed(KindRate))
		}
	}
	return nil
}

var (
	usersRangeMsg = fmt.Sprintf("must be a whole number from 0 to %d", MaxUsers)
	rateRangeMsg  = fmt.Sprintf("must be from 0 to %g", float64(MaxRate))
)

func notAllowed(kind string) string { return fmt.Sprintf("not allowed in a %q shape", kind) }

// inRange reports lo <= f <= hi; false for NaN.
func inRange(f, lo, hi float64) bool { return f >= lo && f <= hi }

// Total is the length of the run: the sum of the stage durations.
func (s Stages) Total() time.Duration {
	var total time.Duration
	for _, st := range s.Stages {
		total += st.Duration
	}
	return total
}

// Tick implements [Shape]: the step of the stage that elapsed falls in (a stage
// covers [start, end)), and false from Total on. A users shape answers the stage's
// Users and SpawnRate, a rate shape the instantaneous RateAt(elapsed). A negative
// elapsed counts as 0.
func (s Stages) Tick(elapsed time.Duration) (Step, bool) {
	elapsed = max(elapsed, 0)
	switch s.Kind {
	case KindUsers:
		var end time.Duration
		for _, st := range s.Stages {
			end += st.Duration
			if elapsed < end {
				return Step{Users: st.Users, SpawnRate: st.SpawnRate}, true
			}
		}
	case KindRate:
		if elapsed < s.Total() {
			return Step{Rate: s.RateAt(elapsed)}, true
		}
	}
	return Step{}, false
}

// RateAt is the arrival rate of a rate shape at elapsed, in iterations a second:
// linear within each stage from the previous stage's rate (StartRate for the
// first) to the stage's own. It is 0 before the start, from Total on, and for a
// users shape.
func (s Stages) RateAt(elapsed time.Duration) float64 {
	if s.Kind != KindRate || elapsed < 0 {
		return 0
	}
	prev := s.StartRate
	var start time.Duration
	for _, st := range s.Stages {
		end := start + st.Duration
		if elapsed < end {
			f := (elapsed - start).Seconds() / st.Duration.Seconds()
			return prev + (st.Rate-prev)*f
		}
		prev, start = st.Rate, end
	}
	return 0
}

// ArrivalsBy is the expected number of arrivals of a rate shape from the start to
// elapsed: the integral of RateAt, exact per stage (a stage's rate is linear, so
// its integral is quadratic). It is 0 for a users shape and stays at its final
// value from Total on.
func (s Stages) ArrivalsBy(elapsed time.Duration) float64 {
	if s.Kind != KindRate || elapsed <= 0 {
		return 0
	}
	var n float64
	prev := s.StartRate
	var start time.Duration
	for _, st := range s.Stages {
		end := start + st.Duration
		d := st.Duration.Seconds()
		if elapsed < end {
			tau := (elapsed - start).Seconds()
			return n + prev*tau + (st.Rate-prev)*tau*tau/(2*d)
		}
		n += stageArrivals(prev, st.Rate, d)
		prev, start = st.Rate, end
	}
	return n
}

// stageArrivals is the number of arrivals of a stage ramping from r0 to r1 over d
// seconds. ArrivalsBy and ArrivalTime add these up in the same order, so that
// ArrivalTime(ArrivalsBy(Total())) is found.
func stageArrivals(r0, r1, d float64) float64 { return (r0 + r1) * d / 2 }

// ArrivalTime is the inverse of ArrivalsBy: the earliest time t at which
// ArrivalsBy(t) = k, so the time to start the k-th arrival. A stage with no
// arrivals (a pause at rate 0) is skipped: ArrivalsBy is flat over it and the
// earliest time is taken, so no arrival falls inside a pause (one whose k is
// exactly the count before the pause falls at its start). ArrivalTime(0) is 0. It
// answers false when k is negative, NaN, beyond ArrivalsBy(Total()), or s is not a
// rate shape.
//
// Counting k from 0, arrivals 0..N fall in [0, Total] where N is the whole part
// of ArrivalsBy(Total()): one more than the expected count; count from 1 (or
// shift by a half, k+0.5) to place exactly the expected number.
func (s Stages) ArrivalTime(k float64) (time.Duration, bool) {
	if s.Kind != KindRate || !(k >= 0) {
		return 0, false
	}
	if k == 0 {
		return 0, true
	}
	var n float64
	prev := s.StartRate
	var start time.Duration
	for _, st := range s.Stages {
		d := st.Duration.Seconds()
		a := stageArrivals(prev, st.Rate, d)
		if a > 0 && k <= n+a {
			tau := solve(prev, st.Rate, d, k-n)
			off := time.Duration(math.Round(tau * float64(time.Second)))
			return start + min(max(off, 0), st.Duration), true
		}
		n += a
		prev, start = st.Rate, start+st.Duration
	}
	return 0, false
}

// solve finds tau in [0, d] with r0*tau + (r1-r0)*tau²/(2d) = k, for 0 < k <= the
// stage's arrivals, by the root form that does not cancel when r1 is near r0.
func solve(r0, r1, d, k float64) float64 {
	a := (r1 - r0) / (2 * d)
	if a == 0 {
		return min(k/r0, d)
	}
	disc := max(r0*r0+4*a*k, 0)
	den := r0 + math.Sqrt(disc)
	if !(den > 0) {
		return d
	}
	return min(max(2*k/den, 0), d)
}

// Scale returns s shrunk (or stretched) for a short run: durations times
// timeFactor (at least 100 ms), users times userFactor rounded up (so at least 1
// when it was more than 0), spawn rates times userFactor/timeFactor (a stage
// reaches its users in the same fraction of its length) and rates, StartRate
// included, times userFactor. Durations are capped at MaxTotal and users at
// MaxUsers; Validate the result when a factor is above 1. Scale panics unless
// both factors are positive and finite.
func (s Stages) Scale(timeFactor, userFactor float64) Stages {
	for _, f := range []float64{timeFactor, userFactor} {
		if !(f > 0) || math.IsInf(f, 1) {
			panic(fmt.Sprintf("shape: Scale(%v, %v): factors must be positive and finite", timeFactor, userFactor))
		}
	}
	out := Stages{Kind: s.Kind, StartRate: s.StartRate * userFactor, Stages: make([]Stage, len(s.Stages))}
	for i, st := range s.Stages {
		d := float64(st.Duration) * timeFactor
		st.Duration = time.Duration(min(max(d, float64(100*time.Millisecond)), float64(MaxTotal)))
		if st.Users > 0 {
			st.Users = int(min(max(roundUp(float64(st.Users)*userFactor), 1), MaxUsers))
		}
		st.SpawnRate *= userFactor / timeFactor
		st.Rate *= userFactor
		out.Stages[i] = st
	}
	return out
}

// roundUp is math.Ceil that forgives float error: 100*0.07 is 7, not 8.
func roundUp(v float64) float64 {
	if r := math.Round(v); math.Abs(v-r) <= 1e-9*max(1, math.Abs(v)) {
		return r
	}
	return math.Ceil(v)
}

// String renders s on one line, e.g.
// "users: 60s→10 users @1/s, 60s→50 @2/s, 60s→100 @5/s (3m0s)" or
// "rate: 30s→20/s, 60s→20/s, 30s→0/s (2m0s)" (each stage ramps to its rate;
// "rate from 5/s: …" when StartRate is set).
func (s Stages) String() string {
	var b strings.Builder
	b.WriteString(s.Kind)
	if s.Kind == KindRate && s.StartRate != 0 {
		b.WriteString(" from " + num(s.StartRate) + "/s")
	}
	b.WriteString(":")
	if len(s.Stages) == 0 {
		return b.String() + " no stages"
	}
	for i, st := range s.Stages {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + formatDuration(st.Duration) + "→")
		switch {
		case s.Kind == KindRate:
			b.WriteString(num(st.Rate) + "/s")
		case i == 0:
			fmt.Fprintf(&b, "%d users @%s/s", st.Users, num(st.SpawnRate))
		default:
			fmt.Fprintf(&b, "%d @%s/s", st.Users, num(st.SpawnRate))
		}
	}
	fmt.Fprintf(&b, " (%v)", s.Total())
	return b.String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// formatDuration writes whole seconds as "60s" and other durations as Go does;
// both forms parse back.
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
