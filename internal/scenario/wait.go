package scenario

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// WaitKind names how a user waits between tasks.
type WaitKind int

// The wait kinds of Locust.
const (
	WaitBetween            WaitKind = iota // uniform in [Min, Max]
	WaitConstant                           // always Min
	WaitConstantPacing                     // a task starts every Min, whatever it took
	WaitConstantThroughput                 // Rate tasks per second per user
)

// Wait is a wait time between tasks.
type Wait struct {
	Kind WaitKind
	Min  time.Duration
	Max  time.Duration
	Rate float64 // tasks per second, for WaitConstantThroughput
}

// Between waits a uniform random time in [a, b].
func Between(a, b time.Duration) Wait { return Wait{Kind: WaitBetween, Min: a, Max: b} }

// Constant always waits c.
func Constant(c time.Duration) Wait { return Wait{Kind: WaitConstant, Min: c, Max: c} }

// ConstantPacing starts a task every p, whatever the task took.
func ConstantPacing(p time.Duration) Wait { return Wait{Kind: WaitConstantPacing, Min: p, Max: p} }

// ConstantThroughput runs r tasks per second per user.
func ConstantThroughput(r float64) Wait { return Wait{Kind: WaitConstantThroughput, Rate: r} }

// Validate reports a wait that cannot be used.
func (w Wait) Validate() error {
	switch w.Kind {
	case WaitBetween:
		if w.Min < 0 || w.Max < w.Min {
			return fmt.Errorf("wait between(%v, %v): need 0 <= min <= max", w.Min, w.Max)
		}
	case WaitConstant, WaitConstantPacing:
		if w.Min < 0 {
			return fmt.Errorf("wait %s: negative duration", w)
		}
	case WaitConstantThroughput:
		if !(w.Rate > 0) || w.Rate > 1e6 {
			return fmt.Errorf("wait constant_throughput(%v): rate must be in (0, 1e6]", w.Rate)
		}
	default:
		return fmt.Errorf("wait: unknown kind %d", w.Kind)
	}
	return nil
}

// Schedules reports whether the wait sets a schedule, so that response time from
// the intended start differs from service time.
func (w Wait) Schedules() bool {
	return w.Kind == WaitConstantPacing || w.Kind == WaitConstantThroughput
}

// Period is the time between task starts of a pacing wait.
func (w Wait) Period() time.Duration {
	if w.Kind == WaitConstantThroughput {
		return time.Duration(float64(time.Second) / w.Rate)
	}
	return w.Min
}

// Next is the time to wait after a task that took took.
func (w Wait) Next(r *rand.Rand, took time.Duration) time.Duration {
	switch w.Kind {
	case WaitBetween:
		if w.Max == w.Min {
			return w.Min
		}
		return w.Min + time.Duration(r.Int64N(int64(w.Max-w.Min)+1))
	case WaitConstantPacing, WaitConstantThroughput:
		return max(w.Period()-took, 0)
	default:
		return w.Min
	}
}

// String renders the wait as ParseWait reads it.
func (w Wait) String() string {
	switch w.Kind {
	case WaitBetween:
		return fmt.Sprintf("between(%v,%v)", w.Min, w.Max)
	case WaitConstant:
		return fmt.Sprintf("constant(%v)", w.Min)
	case WaitConstantPacing:
		return fmt.Sprintf("constant_pacing(%v)", w.Min)
	case WaitConstantThroughput:
		return fmt.Sprintf("constant_throughput(%v)", w.Rate)
	}
	return fmt.Sprintf("wait(%d)", w.Kind)
}

// ParseWait reads "between(1s,3s)", "constant(500ms)", "constant_pacing(2s)" or
// "constant_throughput(0.5)"; bare numbers in between/constant/pacing are seconds
// as in Locust (between(1, 3)).
func ParseWait(s string) (Wait, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return Wait{}, fmt.Errorf("wait %q: want kind(args), e.g. between(1s,3s)", s)
	}
	kind, argText := s[:open], s[open+1:len(s)-1]
	var args []string
	for a := range strings.SplitSeq(argText, ",") {
		args = append(args, strings.TrimSpace(a))
	}
	want := map[string]int{"between": 2, "constant": 1, "constant_pacing": 1, "constant_throughput": 1}
	n, ok := want[kind]
	if !ok {
		return Wait{}, fmt.Errorf("wait %q: unknown kind %q (between, constant, constant_pacing, constant_throughput)", s, kind)
	}
	if len(args) != n {
		return Wait{}, fmt.Errorf("wait %q: %s takes %d argument(s)", s, kind, n)
	}
	var w Wait
	if kind == "constant_throughput" {
		r, err := strconv.ParseFloat(args[0], 64)
		if err != nil {
			return Wait{}, fmt.Errorf("wait %q: rate: %w", s, err)
		}
		w = ConstantThroughput(r)
	} else {
		ds := make([]time.Duration, n)
		for i, a := range args {
			d, err := parseSeconds(a)
			if err != nil {
				return Wait{}, fmt.Errorf("wait %q: %w", s, err)
			}
			ds[i] = d
		}
		switch kind {
		case "between":
			w = Between(ds[0], ds[1])
		case "constant":
			w = Constant(ds[0])
		default:
			w = ConstantPacing(ds[0])
		}
	}
	if err := w.Validate(); err != nil {
		return Wait{}, err
	}
	return w, nil
}

func parseSeconds(a string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(a, 64); err == nil {
		if !(f >= 0 && f <= 86400) { // NaN too
			return 0, fmt.Errorf("%q: seconds out of range", a)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(a)
	if err != nil {
		return 0, fmt.Errorf("%q: not a duration", a)
	}
	return d, nil
}

// ParseTimespan reads a duration as Locust's -t does ("60s", "5m", "1h30m", or a
// bare number of seconds) and as Go does ("1.5s", "500ms"); it must not be negative.
func ParseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration (e.g. 60s, 5m, 1h30m)")
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f >= 0 && f <= 1e7) { // NaN too: time.Duration(NaN) is negative on amd64
			return 0, fmt.Errorf("duration %q: out of range", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: not a duration (e.g. 60s, 5m, 1h30m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q: must not be negative", s)
	}
	return d, nil
}
