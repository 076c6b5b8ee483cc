package saturation

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/xagent/perfharness/internal/target"
)

// The time limits ThresholdsFor derives, as fractions of the tightest latency
// bound a run is graded on. A start lag of a tenth of the bound can move a
// graded latency by at most a tenth of the room it has; the scheduler latency,
// noisier (the runtime samples it, GC assists add to it), gets a fifth.
const (
	LagBoundFraction   = 0.10
	SchedBoundFraction = 0.20
)

// Bound is the tightest latency bound a run is graded on: the smallest bound a
// gated latency metric (median_ms, p95_ms, p99_ms, avg_ms) must meet to reach
// the gate's grade, on the aggregate or on an endpoint whose override is
// gated, or the table's max_avg_ms alert when that is smaller.
type Bound struct {
	Metric   string       // "median_ms", or "max_avg_ms" for the alert
	Endpoint string       // the stats entry name, "" for the aggregate
	Grade    target.Grade // the gate's grade this is the bound of; 0 for the alert
	Value    time.Duration
}

// String describes the bound: "median_ms's Acceptable bound, 200 ms".
func (b Bound) String() string {
	who := b.Metric
	if b.Endpoint != "" {
		who = b.Endpoint + " " + who
	}
	if b.Grade == 0 {
		return "the " + who + " alert, " + msDur(b.Value)
	}
	return fmt.Sprintf("%s's %v bound, %s", who, b.Grade, msDur(b.Value))
}

// TightestBound finds the tightest latency bound t and g grade a run on; false
// when no latency metric is gated (or the gate passes every grade) and no
// latency alert is set. Bounds that are not positive are ignored.
func TightestBound(t target.Table, g target.Gate) (Bound, bool) {
	grade := g.MinGrade
	if !grade.Valid() {
		grade = target.GradeAcceptable // what a Gate reads the zero value as
	}
	var best Bound
	found := false
	consider := func(c Bound) {
		if c.Value > 0 && (!found || c.Value < best.Value) {
			best, found = c, true
		}
	}
	pick := func(b target.Bounds) (float64, bool) {
		switch grade {
		case target.GradeTarget:
			return b.Target, true
		case target.GradeAcceptable:
			return b.Acceptable, true
		case target.GradeNeedsInvestigation:
			return b.Poor, true
		}
		return 0, false // Poor: every value passes
	}
	endpoints := make([]string, 0, len(t.Endpoints))
	for ep := range t.Endpoints {
		endpoints = append(endpoints, ep)
	}
	slices.Sort(endpoints)
	for _, m := range g.Metrics {
		if target.Unit(m) != "ms" {
			continue
		}
		if b, ok := t.Metrics[m]; ok {
			if v, ok := pick(b); ok {
				consider(Bound{Metric: m, Grade: grade, Value: msToDur(v)})
			}
		}
		for _, ep := range endpoints { // an endpoint's override of a gated metric is gated
			if b, ok := t.Endpoints[ep][m]; ok {
				if v, ok := pick(b); ok {
					consider(Bound{Metric: m, Endpoint: ep, Grade: grade, Value: msToDur(v)})
				}
			}
		}
	}
	if a := t.Alerts.MaxAvgMS; a > 0 {
		consider(Bound{Metric: "max_avg_ms", Value: msToDur(a)})
	}
	return best, found
}

// ThresholdsFor returns DefaultThresholds with the lag and scheduler limits set
// to LagBoundFraction and SchedBoundFraction of b (RaceFactor times looser in
// a -race binary), and says so in LagBasis and SchedBasis. Without a bound
// (ok false) it returns DefaultThresholds' fixed limits, with a basis saying so.
func ThresholdsFor(b Bound, ok bool) Thresholds {
	th := DefaultThresholds()
	race := ""
	if raceEnabled {
		race = ", ×" + strconv.Itoa(RaceFactor) + " under -race"
	}
	if !ok {
		th.LagBasis = "the default: no latency metric is gated" + race
		th.SchedBasis = th.LagBasis
		return th
	}
	factor := time.Duration(1)
	if raceEnabled {
		factor = RaceFactor
	}
	th.MaxLagP99 = factor * time.Duration(LagBoundFraction*float64(b.Value))
	th.MaxSchedP99 = factor * time.Duration(SchedBoundFraction*float64(b.Value))
	th.LagBasis = pct(LagBoundFraction) + " of " + b.String() + ", the tightest gated latency bound" + race
	th.SchedBasis = pct(SchedBoundFraction) + " of " + b.String() + race
	return th
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

func msToDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func msDur(d time.Duration) string { return ms(durMS(d)) }
