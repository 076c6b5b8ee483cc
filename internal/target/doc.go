// Package target holds the performance target table (Target / Acceptable / Poor)
// and grades load-test metrics against it,
// and turns the grades and the automated alerts into pass/fail data.
//
// The package takes plain metric values (milliseconds, percent, requests per
// second); the caller computes them from its statistics.
//
// # Target table file
//
// The table lives in fixtures/targets.json. Default returns the same values.
//
//	{
//	  "metrics": {
//	    "median_ms":        {"target": 100, "acceptable": 200,  "poor": 500},
//	    "p95_ms":           {"target": 500, "acceptable": 1000, "poor": 2000},
//	    "failure_rate_pct": {"target": 0.5, "acceptable": 2,    "poor": 5},
//	    "rps":              {"target": 100, "acceptable": 50,   "poor": 20}
//	  },
//	  "alerts": {"max_failure_rate_pct": 5, "max_avg_ms": 500},
//	  "endpoints": {
//	    "GET /status": {"p95_ms": {"target": 50, "acceptable": 100, "poor": 200}}
//	  }
//	}
//
// "metrics" (required, at least one entry) holds the aggregate bounds, keyed by
// metric name: median_ms, p95_ms, p99_ms, avg_ms (milliseconds), failure_rate_pct
// (percent, 0–100) and rps (requests per second per instance). Every entry needs
// all three of target, acceptable and poor, each >= 0 and ordered for the
// metric's direction: target <= acceptable <= poor for latencies and the failure
// rate (lower is better), target >= acceptable >= poor for rps (higher is better).
//
// "alerts" (optional) fails a run outright, as the Locust suite's test_stop hook
// did: max_failure_rate_pct (percent) and max_avg_ms (milliseconds); a missing or
// zero limit is off.
//
// "endpoints" (optional) overrides bounds per endpoint, keyed by the stats entry
// name "METHOD name" (for example "GET /goals (auth)"); each override replaces
// the aggregate bounds of one metric for that endpoint. Endpoints without an
// override are graded with the aggregate bounds, except rps: the aggregate rps
// is a per-instance throughput, so an endpoint is graded on rps only with an
// override. A gate fails a run on an endpoint's metric only where the table
// overrides it (or with Gate.AllEndpoints); inherited grades are shown, not gated.
//
// Parsing is strict: unknown fields, unknown metric names, duplicate keys,
// missing or negative bounds, bounds out of order and values of the wrong type
// are errors of the form "source:line:column: field.path: problem".
//
// # Grading
//
// For a lower-is-better metric: v < target is Target, v < acceptable is
// Acceptable, v <= poor is Needs investigation, v > poor is Poor. For a
// higher-is-better metric: v > target is Target, v > acceptable is Acceptable,
// v >= poor is Needs investigation, v < poor is Poor. So a median of exactly
// 100 ms is Acceptable, 500 ms is Needs investigation and 500.001 ms is Poor.
// NaN and negative values cannot be graded: Grade returns an error and Evaluate
// a failing check.
package target
