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

// Run is one load test run. Its json tags, and those of the types it holds,
// are the run file's keys (see the package doc).
type Run struct {
	Meta  Meta           `json:"meta"`
	Stats stats.Snapshot `json:"stats"`
	// Checks are the graded targets, Alerts the alert limits checked.
	Checks []target.Check       `json:"checks"`
	Alerts []target.AlertResult `json:"alerts"`
	// Verdict is the run's outcome as the test saw it.
	Verdict Verdict `json:"verdict"`
	// Baseline is the comparison with -baseline, nil without one.
	Baseline *compare.Result `json:"baseline"`
	// Generator is how the load was generated and whether the generator kept up.
	Generator Generator `json:"generator"`
	// Server is what the server itself reported during the run; nil when not watched.
	Server *Server `json:"server"`
}

// Generator describes the load model and the generator's own health: if it
// fell behind its schedule, the run's numbers describe the generator, not the
// server, and the run is inconclusive.
type Generator struct {
	Model       string  `json:"model"`        // "users" (closed, Locust's) or "arrivals" (open)
	Rate        float64 `json:"rate"`         // the open model's constant rate (iterations/s); 0 otherwise
	MaxInFlight int     `json:"max_inflight"` // the open model's cap on running iterations
	Shape       string  `json:"shape"`        // the load shape file and its stages, empty without one
	Clock       string  `json:"clock"`        // the clock latency targets were graded on: "service" or "response"
	// The open model's iterations: due, started, dropped at the cap.
	Arrivals   int64               `json:"arrivals"`
	Iterations int64               `json:"iterations"`
	Dropped    int64               `json:"dropped"`
	Lag        saturation.LagStats `json:"lag"`     // how late tasks started against the schedule
	Runtime    saturation.Runtime  `json:"runtime"` // the Go runtime over the run
	Saturated  bool                `json:"saturated"`
	Reasons    []string            `json:"reasons"` // each tripped threshold
	Notes      []string            `json:"notes"`   // checks that could not be made
	Advice     string              `json:"advice"`  // what to change, when saturated
}

// Meta describes how a run was made.
type Meta struct {
	Scenario  string        `json:"scenario"`   // test name, e.g. "TestLoadLight"
	Host      string        `json:"host"`       // base URL load went to
	Fake      bool          `json:"fake"`       // Host is the embedded fake
	Users     int           `json:"users"`      // users asked for
	SpawnRate float64       `json:"spawn_rate"` // users started per second
	Duration  time.Duration `json:"duration_s"` // run time asked for
	Start     time.Time     `json:"start"`      // first spawn
	End       time.Time     `json:"end"`        // stop
	Classes   []string      `json:"classes"`    // user classes that ran
	Seed      uint64        `json:"seed"`
	// Stopped says why the run stopped, e.g. "duration elapsed" or "interrupted".
	Stopped string `json:"stopped"`
	// Harness is the harness version, GoVersion the Go release that built it.
	Harness   string `json:"harness"`
	GoVersion string `json:"go_version"`
	// EntryHistory says whether each entry kept a time series (-csv-full-history).
	EntryHistory bool `json:"entry_history"`
	// Segment is this process's share of a distributed run ("2/4"), or the
	// segments a merged run covers ("1-4/4"); empty for a whole run.
	Segment string `json:"segment"`
	// StartLate is how late the process began after -start-at.
	StartLate time.Duration `json:"start_late_s"`
	// Cancelled counts the requests a stop request (Ctrl-C, the UI's Stop)
	// cut short in flight: interrupted, so neither requests nor failures.
	Cancelled int64 `json:"cancelled_in_flight"`
	// Gate and MinGrade are the gated metrics and the lowest passing grade, so
	// that a merge of segments grades the merged run as the test did.
	Gate     []string `json:"gate"`
	MinGrade string   `json:"min_grade"`
}

// Verdict is whether the run passed, and why not.
type Verdict struct {
	Pass bool `json:"pass"`
	// Reasons lists each failed gate, alert, regression or interruption in one line.
	Reasons []string `json:"reasons"`
}

// Server is the server's own view of the run, from polling its health and
// scraping its Prometheus metrics; nil when monitoring was off. In a run file
// the report's keys sit beside the poll periods, with rows after them.
type Server struct {
	HealthEvery  time.Duration  `json:"health_every_s"`  // period of the /health and /ready polls; negative: off
	MetricsEvery time.Duration  `json:"metrics_every_s"` // period of the /metrics scrapes; negative: off
	Report       monitor.Report `json:",inline"`
	// Rows pair each server route with the client entries that hit it.
	Rows []monitor.Row `json:"rows"`
}
