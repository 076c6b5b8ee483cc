package runfile

import (
	"time"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// HarnessVersion is the version of the harness that writes run files.
const HarnessVersion = "0.4.0"

// Run is one load test run.
type Run struct {
	Meta  Meta
	Stats stats.Snapshot
	// Checks are the graded targets, Alerts the alert limits checked.
	Checks []target.Check
	Alerts []target.AlertResult
	// Verdict is the run's outcome as the test saw it.
	Verdict Verdict
	// Baseline is the comparison with -baseline, nil without one.
	Baseline *compare.Result
	// Generator is how the load was generated and whether the generator kept up.
	Generator Generator
	// Server is what the server itself reported during the run; nil when not watched.
	Server *Server
}

// Generator describes the load model and the generator's own health: if it
// fell behind its schedule, the run's numbers describe the generator, not the
// server, and the run is inconclusive.
type Generator struct {
	Model       string  // "users" (closed, Locust's) or "arrivals" (open)
	Rate        float64 // the open model's constant rate (iterations/s); 0 otherwise
	MaxInFlight int     // the open model's cap on running iterations
	Shape       string  // the load shape file and its stages, empty without one
	Clock       string  // the clock latency targets were graded on: "service" or "response"
	// The open model's iterations: due, started, dropped at the cap.
	Arrivals   int64
	Iterations int64
	Dropped    int64
	Lag        saturation.LagStats // how late tasks started against the schedule
	Runtime    saturation.Runtime  // the Go runtime over the run
	Saturated  bool
	Reasons    []string // each tripped threshold
	Notes      []string // checks that could not be made
	Advice     string   // what to change, when saturated
}

// Meta describes how a run was made.
type Meta struct {
	Scenario  string        // test name, e.g. "TestLoadLight"
	Host      string        // base URL load went to
	Fake      bool          // Host is the embedded fake
	Users     int           // users asked for
	SpawnRate float64       // users started per second
	Duration  time.Duration // run time asked for
	Start     time.Time     // first spawn
	End       time.Time     // stop
	Classes   []string      // user classes that ran
	Seed      uint64
	// Stopped says why the run stopped, e.g. "duration elapsed" or "interrupted".
	Stopped string
	// Harness is the harness version, GoVersion the Go release that built it.
	Harness   string
	GoVersion string
	// EntryHistory says whether each entry kept a time series (-csv-full-history).
	EntryHistory bool
	// Segment is this process's share of a distributed run ("2/4"), or the
	// segments a merged run covers ("1-4/4"); empty for a whole run.
	Segment string
	// StartLate is how late the process began after -start-at.
	StartLate time.Duration
	// Cancelled counts the requests a stop request (Ctrl-C, the UI's Stop)
	// cut short in flight: interrupted, so neither requests nor failures.
	Cancelled int64
	// Gate and MinGrade are the gated metrics and the lowest passing grade, so
	// that a merge of segments grades the merged run as the test did.
	Gate     []string
	MinGrade string
}

// Verdict is whether the run passed, and why not.
type Verdict struct {
	Pass bool
	// Reasons lists each failed gate, alert, regression or interruption in one line.
	Reasons []string
}

// Server is the server's own view of the run, from polling its health and
// scraping its Prometheus metrics; nil when monitoring was off.
type Server struct {
	HealthEvery  time.Duration // period of the /health and /ready polls; negative: off
	MetricsEvery time.Duration // period of the /metrics scrapes; negative: off
	Report       monitor.Report
	// Rows pair each server route with the client entries that hit it.
	Rows []monitor.Row
}
