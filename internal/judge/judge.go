// Package judge is the one grader of a run. The target table, its alerts, the
// comparison with a baseline, the generator's health and how the run stopped
// each give their findings to Judge, which records them in the run and sets its
// verdict. A load test, a merge of distributed segments, a re-rendered report
// and the live web UI all call it, so they print the same verdict with the
// same messages.
package judge

import (
	"fmt"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// The clocks latency targets can be graded on.
const (
	ClockService  = "service"  // request sent → last byte
	ClockResponse = "response" // intended start → last byte
)

// The groups of findings, in the order Judge returns them. A load test runs
// a subtest per group (but GroupRun, whose findings fail the test itself).
const (
	GroupRun       = "run"       // how the run stopped, and whether it has anything to grade
	GroupTargets   = "targets"   // the gated metrics of the target table, one finding each
	GroupAlerts    = "alerts"    // the table's alert limits
	GroupBaseline  = "baseline"  // one finding per entry compared with -baseline
	GroupGenerator = "generator" // whether the load generator kept up
)

// Finding is one thing the verdict weighs.
type Finding struct {
	Group string
	// Name tells the finding apart within its group: "p95", "GET /status/p95",
	// an alert's name, a baseline entry; empty for the run and the generator.
	Name string
	Pass bool
	// Message says what failed, for a test's error; Reason is the verdict's
	// line for it. Both are empty when the finding passed.
	Message, Reason string
}

// Judge grades run on table and gate: it sets run.Checks and run.Alerts,
// and run.Verdict from every finding, and returns the findings. Latencies
// are graded on run.Generator.Clock; run.Baseline, when set, is the
// comparison with a baseline. A run with no completed request has only its
// GroupRun findings.
func Judge(run *runfile.Run, table target.Table, gate target.Gate) []Finding {
	var fs []Finding
	if stopped := runner.StopReason(run.Meta.Stopped); stopped.Early() {
		msg := fmt.Sprintf("%s: run interrupted (%s) after %v of %v; the results are partial",
			run.Meta.Scenario, stopped, run.Stats.Duration().Round(time.Second), run.Meta.Duration)
		fs = append(fs, fail(GroupRun, "", msg, msg))
	}
	run.Checks, run.Alerts = nil, nil
	if graded := grade(run, table, gate); !graded {
		msg := fmt.Sprintf("%s: no request completed in %v; nothing to grade", run.Meta.Scenario, run.Stats.Duration().Round(time.Millisecond))
		fs = append(fs, fail(GroupRun, "", msg, msg))
		return decide(run, fs)
	}
	for _, c := range run.Checks {
		if !c.Gated {
			continue
		}
		name := subtestName(c.Metric)
		if c.Endpoint != "" {
			name = c.Endpoint + "/" + name
		}
		fs = append(fs, finding(GroupTargets, name, c.Pass, c.Message, "target: "+c.Message))
	}
	for _, a := range run.Alerts {
		fs = append(fs, finding(GroupAlerts, a.Name, !a.Fired, a.Message, "alert: "+a.Message))
	}
	if res := run.Baseline; res != nil {
		for _, entry := range res.Entries() {
			var msgs []string
			for _, row := range res.Rows {
				if row.Entry == entry && row.Regressed {
					msgs = append(msgs, row.Message())
				}
			}
			f := Finding{Group: GroupBaseline, Name: entry, Pass: len(msgs) == 0}
			if !f.Pass {
				f.Message = strings.Join(msgs, "\n")
				f.Reason = "regression: " + strings.Join(msgs, "\nregression: ")
			}
			fs = append(fs, f)
		}
	}
	g := run.Generator
	fs = append(fs, finding(GroupGenerator, "", !g.Saturated, g.Advice,
		"inconclusive: the load generator fell behind: "+strings.Join(g.Reasons, "; ")))
	return decide(run, fs)
}

// decide sets the run's verdict from the findings: it passes when all do.
func decide(run *runfile.Run, fs []Finding) []Finding {
	run.Verdict = runfile.Verdict{}
	for _, f := range fs {
		if !f.Pass {
			run.Verdict.Reasons = append(run.Verdict.Reasons, strings.Split(f.Reason, "\n")...)
		}
	}
	run.Verdict.Pass = len(run.Verdict.Reasons) == 0
	return fs
}

func finding(group, name string, pass bool, msg, reason string) Finding {
	if pass {
		return Finding{Group: group, Name: name, Pass: true}
	}
	return fail(group, name, msg, reason)
}

func fail(group, name, msg, reason string) Finding {
	return Finding{Group: group, Name: name, Message: msg, Reason: reason}
}

// subtestName shortens a metric name for a finding: p95_ms → p95.
func subtestName(metric string) string {
	return strings.TrimSuffix(strings.TrimSuffix(metric, "_ms"), "_pct")
}

// LatencyMS is an entry's latency percentile q on clock.
func LatencyMS(e stats.Entry, q float64, clock string) float64 {
	if clock == ClockResponse {
		return e.ResponseMS(q)
	}
	return e.ServiceMS(q)
}

// Values are the target table's metrics of one entry, nil without requests.
func Values(s stats.Snapshot, e stats.Entry, clock string) target.Values {
	if e.Requests == 0 {
		return nil
	}
	return target.Values{
		"median_ms":        LatencyMS(e, 50, clock),
		"p95_ms":           LatencyMS(e, 95, clock),
		"p99_ms":           LatencyMS(e, 99, clock),
		"avg_ms":           e.AvgMS(),
		"failure_rate_pct": 100 * e.FailRatio(),
		"rps":              s.RPS(e),
	}
}

// grade evaluates the table on the run's aggregate and endpoints (latencies
// on run.Generator.Clock) into run.Checks and run.Alerts. It returns false
// when the run has no request to grade.
func grade(run *runfile.Run, table target.Table, gate target.Gate) bool {
	s := run.Stats
	clock := run.Generator.Clock
	agg := Values(s, s.Total, clock)
	if agg == nil {
		return false
	}
	endpoints := map[string]target.Values{}
	for _, e := range s.Entries {
		if v := Values(s, e, clock); v != nil {
			endpoints[e.Label()] = v
		}
	}
	run.Checks = table.Evaluate(agg, endpoints, gate)
	run.Alerts = table.CheckAlerts(agg["failure_rate_pct"], agg["avg_ms"])
	return true
}

// Gate is the gate a run file records (Meta.Gate and Meta.MinGrade), so that
// a merge or a re-render grades a run as its test did; the seed's gate and
// Acceptable where the file has none.
func Gate(m runfile.Meta) target.Gate {
	minGrade, err := target.ParseGrade(m.MinGrade)
	if err != nil {
		minGrade = target.GradeAcceptable
	}
	g := target.Gate{Metrics: m.Gate, MinGrade: minGrade}
	if len(g.Metrics) == 0 {
		g.Metrics = DefaultGate
	}
	return g
}

// DefaultGate gates latency and failure rate: RPS depends on the offered load.
var DefaultGate = []string{"median_ms", "p95_ms", "failure_rate_pct"}
