package runfile

import (
	"time"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/verdict"
)

// HarnessVersion is the version of the harness that writes run files.
const HarnessVersion = "0.4.0"

// Run is one load test run.
type Run struct {
	Meta  Meta
	Stats stats.Snapshot
	// Checks are the graded targets, Alerts the alert limits checked.
	Checks []verdict.Check
	Alerts []verdict.AlertResult
	// Verdict is the run's outcome as the test saw it.
	Verdict Verdict
	// Baseline is the comparison with -baseline, nil without one.
	Baseline *compare.Result
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
}

// Verdict is whether the run passed, and why not.
type Verdict struct {
	Pass bool
	// Reasons lists each failed gate, alert, regression or interruption in one line.
	Reasons []string
}
