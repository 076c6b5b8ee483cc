// Package judge grades a run: it maps its statistics to the target table's
// metrics (latencies on the run's clock), evaluates the table and its alerts,
// and records in the run's verdict every gate that failed. A load test and a
// merge of distributed segments grade the same way, with the same messages.
package judge

import (
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// The clocks latency targets can be graded on.
const (
	ClockService  = "service"  // request sent → last byte
	ClockResponse = "response" // intended start → last byte
)

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

// Grade evaluates the table on the run's aggregate and endpoints (latencies on
// run.Generator.Clock), sets run.Checks and run.Alerts, and adds a verdict
// reason for each failing gated check and each fired alert. It returns false
// when the run has no request to grade.
func Grade(run *runfile.Run, table target.Table, gate target.Gate) bool {
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
	for _, c := range run.Checks {
		if c.Gated && !c.Pass {
			run.Verdict.Reasons = append(run.Verdict.Reasons, "target: "+c.Message)
		}
	}
	for _, a := range run.Alerts {
		if a.Fired {
			run.Verdict.Reasons = append(run.Verdict.Reasons, "alert: "+a.Message)
		}
	}
	return true
}
