// Package compare compares a run's statistics with a baseline run's, entry by
// entry (p50, p95, p99, requests/s, failure rate), and flags regressions past
// configurable limits. A change within the noise a sample of that size carries
// never counts as a regression: latency changes below an absolute floor, tail
// percentiles of too few requests, and rate drops within Poisson noise.
package compare

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/stats"
)

// The compared metrics, named as in the target table.
const (
	P50      = "p50_ms"
	P95      = "p95_ms"
	P99      = "p99_ms"
	RPS      = "rps"
	FailRate = "failure_rate_pct"
)

// Metrics lists the compared metrics in table order.
var Metrics = []string{P50, P95, P99, RPS, FailRate}

// minTail is how many requests must lie beyond a percentile for it to be compared:
// p99 needs 500 requests, p95 100, p50 10.
const minTail = 5

// Limits say how much worse a run may be than its baseline.
type Limits struct {
	// LatencyPct is the largest allowed increase of a latency percentile, in percent.
	LatencyPct float64 `json:"latency_pct"`
	// FloorMS is an absolute floor: a latency increase of at most this many ms never fails.
	FloorMS float64 `json:"floor_ms"`
	// RPSPct is the largest allowed drop of requests/s, in percent.
	RPSPct float64 `json:"rps_pct"`
	// FailurePts is the largest allowed increase of the failure rate, in percentage points.
	FailurePts float64 `json:"failure_pts"`
}

// DefaultLimits are -max-regression's defaults.
func DefaultLimits() Limits {
	return Limits{LatencyPct: 10, FloorMS: 1, RPSPct: 10, FailurePts: 1}
}

// String renders the limits in ParseLimits's form.
func (l Limits) String() string {
	return fmt.Sprintf("latency=%s%%,floor=%sms,rps=%s%%,failures=%s", num(l.LatencyPct), num(l.FloorMS), num(l.RPSPct), num(l.FailurePts))
}

// ParseLimits reads -max-regression: either one percentage for the latency
// percentiles ("10%" or "10"), or comma-separated key=value pairs over the
// defaults: latency=10%, floor=1ms, rps=10%, failures=1 (percentage points).
func ParseLimits(s string) (Limits, error) {
	l := DefaultLimits()
	s = strings.TrimSpace(s)
	if s == "" {
		return l, nil
	}
	if !strings.Contains(s, "=") {
		v, err := parseNum(s, "%")
		if err != nil {
			return l, fmt.Errorf("%q: want a percentage like 10%% or key=value pairs (latency, floor, rps, failures)", s)
		}
		l.LatencyPct = v
		return l, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		var err error
		switch strings.TrimSpace(k) {
		case "latency":
			l.LatencyPct, err = parseNum(v, "%")
		case "floor":
			var d time.Duration
			if d, err = time.ParseDuration(strings.TrimSpace(v)); err == nil && d < 0 {
				err = fmt.Errorf("negative")
			}
			l.FloorMS = float64(d) / float64(time.Millisecond)
		case "rps":
			l.RPSPct, err = parseNum(v, "%")
		case "failures":
			l.FailurePts, err = parseNum(v, "")
		default:
			return l, fmt.Errorf("%q: unknown key %q (want latency, floor, rps or failures)", s, k)
		}
		if err != nil {
			return l, fmt.Errorf("%q: bad value for %s: %q", s, strings.TrimSpace(k), v)
		}
	}
	return l, nil
}

func parseNum(s, suffix string) (float64, error) {
	s = strings.TrimSpace(s)
	if suffix != "" {
		s = strings.TrimSuffix(s, suffix)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("not a non-negative number")
	}
	return v, nil
}

// Row is one metric of one entry in both runs.
type Row struct {
	// Entry is the entry's label ("GET /status"), or "Aggregated".
	Entry  string  `json:"entry"`
	Metric string  `json:"metric"`
	Old    float64 `json:"old"`
	New    float64 `json:"new"`
	// ChangePct is the relative change in percent; 0 when Old is 0.
	ChangePct float64 `json:"change_pct"`
	// Gated is false when the samples are too small for the metric to be judged.
	Gated bool `json:"gated"`
	// Regressed is true for a gated metric worse than the limits allow.
	Regressed bool `json:"regressed"`
	// Note explains an ungated row or a regression.
	Note string `json:"note"`
}

// Result is a whole comparison.
type Result struct {
	// Baseline names the baseline run (its file), BaselineStart is when it ran.
	Baseline      string    `json:"baseline"`
	BaselineStart time.Time `json:"baseline_start"`
	Limits        Limits    `json:"limits"`
	// Rows are the aggregate's rows, then each common entry's, sorted by label.
	Rows []Row `json:"rows"`
	// OnlyInBaseline and OnlyInRun list entries found in one run only.
	OnlyInBaseline []string `json:"only_in_baseline"`
	OnlyInRun      []string `json:"only_in_run"`
}

// Regressions are the rows that regressed.
func (r Result) Regressions() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Regressed {
			out = append(out, row)
		}
	}
	return out
}

// Entries lists the compared entries in row order.
func (r Result) Entries() []string {
	var out []string
	for _, row := range r.Rows {
		if len(out) == 0 || out[len(out)-1] != row.Entry {
			out = append(out, row.Entry)
		}
	}
	return out
}

// Compare compares cur with base.
func Compare(base, cur stats.Snapshot, l Limits) Result {
	res := Result{Limits: l, BaselineStart: base.Start}
	res.Rows = compareEntry(base, cur, base.Total, cur.Total, stats.TotalName, l)
	old := map[string]stats.Entry{}
	for _, e := range base.Entries {
		old[e.Label()] = e
	}
	seen := map[string]bool{}
	labels := make([]string, 0, len(cur.Entries))
	now := map[string]stats.Entry{}
	for _, e := range cur.Entries {
		labels = append(labels, e.Label())
		now[e.Label()] = e
	}
	slices.Sort(labels)
	for _, lb := range labels {
		seen[lb] = true
		o, ok := old[lb]
		if !ok {
			res.OnlyInRun = append(res.OnlyInRun, lb)
			continue
		}
		res.Rows = append(res.Rows, compareEntry(base, cur, o, now[lb], lb, l)...)
	}
	for lb := range old {
		if !seen[lb] {
			res.OnlyInBaseline = append(res.OnlyInBaseline, lb)
		}
	}
	slices.Sort(res.OnlyInBaseline)
	return res
}

func compareEntry(bs, cs stats.Snapshot, o, n stats.Entry, label string, l Limits) []Row {
	var rows []Row
	for _, m := range []struct {
		name string
		q    float64
	}{{P50, 50}, {P95, 95}, {P99, 99}} {
		r := Row{Entry: label, Metric: m.name, Old: o.ServiceMS(m.q), New: n.ServiceMS(m.q)}
		need := int64(math.Ceil(minTail / (1 - m.q/100)))
		r.Gated = o.Requests >= need && n.Requests >= need
		if !r.Gated {
			r.Note = fmt.Sprintf("not judged: p%v needs %d requests in each run", m.q, need)
		}
		r.ChangePct = changePct(r.Old, r.New)
		if d := r.New - r.Old; r.Gated && d > l.FloorMS && (r.Old == 0 || 100*d/r.Old > l.LatencyPct) {
			r.Regressed = true
			r.Note = fmt.Sprintf("%s ms slower, over the %s%% limit (floor %s ms)", num3(d), num(l.LatencyPct), num(l.FloorMS))
		}
		rows = append(rows, r)
	}

	r := Row{Entry: label, Metric: RPS, Old: bs.RPS(o), New: cs.RPS(n), Gated: true}
	r.ChangePct = changePct(r.Old, r.New)
	// The baseline's rate over this run's duration, against the requests seen:
	// a drop inside three standard deviations of a Poisson count is noise.
	expected := r.Old * cs.Duration().Seconds()
	drop := expected - float64(n.Requests)
	if r.Old > 0 && 100*(r.Old-r.New)/r.Old > l.RPSPct {
		if drop > 3*math.Sqrt(expected) {
			r.Regressed = true
			r.Note = fmt.Sprintf("%s%% fewer requests/s, over the %s%% limit", strconv.FormatFloat(math.Round(1000*(r.Old-r.New)/r.Old)/10, 'f', -1, 64), num(l.RPSPct))
		} else {
			r.Note = fmt.Sprintf("within the noise of %d requests", n.Requests)
		}
	}
	rows = append(rows, r)

	r = Row{Entry: label, Metric: FailRate, Old: 100 * o.FailRatio(), New: 100 * n.FailRatio(), Gated: true}
	r.ChangePct = changePct(r.Old, r.New)
	if d := r.New - r.Old; d > l.FailurePts {
		r.Regressed = true
		r.Note = fmt.Sprintf("failure rate up %s points, over the %s-point limit", num3(d), num(l.FailurePts))
	}
	return append(rows, r)
}

func changePct(old, cur float64) float64 {
	if old == 0 {
		return 0
	}
	return 100 * (cur - old) / old
}

// Message describes a row in one line: "GET /status p95_ms: 0.52 → 3.1 ms (+496%): note".
func (r Row) Message() string {
	unit := " ms"
	switch r.Metric {
	case RPS:
		unit = " req/s"
	case FailRate:
		unit = "%"
	}
	msg := fmt.Sprintf("%s %s: %s → %s%s (%s)", r.Entry, r.Metric, num3(r.Old), num3(r.New), unit, Signed(r.ChangePct))
	if r.Note != "" {
		msg += ": " + r.Note
	}
	return msg
}

// Signed renders a percentage change with its sign, to a tenth: "+12.5%", "-3%", "0%".
func Signed(pct float64) string {
	s := strconv.FormatFloat(math.Round(pct*10)/10, 'f', -1, 64) + "%"
	if pct > 0 {
		s = "+" + s
	}
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// num3 rounds to at most three decimals.
func num3(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
