package perf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/outfile"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/stats"
)

// outputs are the report flags resolved for one run.
type outputs struct {
	Files        report.Files
	EntryHistory bool
	Baseline     *runfile.Run // nil without -baseline
	BaselinePath string
	Limits       compare.Limits
}

// resolveOutputs expands the report paths, proves them writable and reads the
// baseline, all before any load is sent.
func resolveOutputs(p plan) (outputs, error) {
	expand := func(path string) string {
		if path == "" {
			return ""
		}
		return outfile.Expand(path, p.Users, p.SpawnRate, p.Duration)
	}
	o := outputs{
		Files: report.Files{CSV: expand(*flagCSV), HTML: expand(*flagHTML), JSON: expand(*flagJSON),
			FailureTimes: *flagCSVFailTimes},
		EntryHistory: *flagCSVFull,
	}
	if *flagCSVFull && o.Files.CSV == "" && o.Files.JSON == "" {
		return o, fmt.Errorf("-csv-full-history: needs -csv or -json-file to write the history to")
	}
	if err := o.Files.Check(); err != nil {
		return o, fmt.Errorf("report files: %w", err)
	}
	if *flagMaxRegress != "" && *flagBaseline == "" {
		return o, fmt.Errorf("-max-regression %q: needs -baseline", *flagMaxRegress)
	}
	var err error
	if o.Limits, err = compare.ParseLimits(*flagMaxRegress); err != nil {
		return o, fmt.Errorf("-max-regression %w", err)
	}
	if *flagBaseline != "" {
		base, err := runfile.ReadFile(*flagBaseline)
		if err != nil {
			return o, fmt.Errorf("-baseline: %w", err)
		}
		o.Baseline, o.BaselinePath = &base, *flagBaseline
	}
	return o, nil
}

// recorderOptions are the recorder's options for a plan.
func recorderOptions(p plan) []stats.Option {
	if p.Outputs.EntryHistory {
		return []stats.Option{stats.WithEntryHistory()}
	}
	return nil
}

// streamHistory appends the run's history CSV every second until stopped, so
// a killed run keeps what it had.
func streamHistory(t *testing.T, files report.Files, rec *stats.Recorder) (stop func()) {
	h, err := files.StartHistory()
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		return func() {}
	}
	stopAppending := periodically(time.Second, func() bool {
		if err := h.Append(rec.Ticks(h.Written())); err != nil {
			fmt.Printf("warning: %v; the history is written in full at the end\n", err)
			return false
		}
		return true
	})
	return func() {
		stopAppending()
		if err := h.Close(); err != nil {
			fmt.Printf("warning: %v\n", err)
		}
	}
}

// newRun wraps a finished run's statistics with the plan's metadata.
func newRun(p plan, host string, sum runner.Summary, snap stats.Snapshot) runfile.Run {
	names := make([]string, len(p.Classes))
	for i, c := range p.Classes {
		names[i] = c.Name
	}
	return runfile.Run{
		Meta: runfile.Meta{
			Scenario: p.Name, Host: host, Fake: p.Host == "", Users: p.Segment.Share(p.Users), SpawnRate: p.Segment.Rate(p.SpawnRate),
			Duration: p.Duration, Start: snap.Start, End: snap.End, Classes: names, Seed: p.Seed,
			Stopped: string(sum.Reason), Harness: runfile.HarnessVersion, GoVersion: runtime.Version(),
			EntryHistory: p.Outputs.EntryHistory, Segment: p.Segment.String(), Gate: p.Gate.Metrics, MinGrade: p.Gate.MinGrade.String(),
		},
		Stats: snap,
	}
}

// compareBaseline compares the run with -baseline, prints the table and fails
// a subtest per entry that regressed.
func compareBaseline(t *testing.T, p plan, run *runfile.Run) {
	base := p.Outputs.Baseline
	if base == nil {
		return
	}
	if base.Meta.Scenario != run.Meta.Scenario {
		fmt.Printf("note: the baseline ran %s, this run is %s\n", base.Meta.Scenario, run.Meta.Scenario)
	}
	res := compare.Compare(base.Stats, run.Stats, p.Outputs.Limits)
	res.Baseline = filepath.Base(p.Outputs.BaselinePath)
	run.Baseline = &res
	if err := report.WriteComparison(os.Stdout, res); err != nil {
		t.Errorf("writing the comparison: %v", err)
	}
	t.Run("baseline", func(t *testing.T) {
		for _, entry := range res.Entries() {
			t.Run(entry, func(t *testing.T) {
				for _, row := range res.Rows {
					if row.Entry == entry && row.Regressed {
						t.Error(row.Message())
					}
				}
			})
		}
	})
	for _, row := range res.Regressions() {
		run.Verdict.Reasons = append(run.Verdict.Reasons, "regression: "+row.Message())
	}
}

// writeReports writes the report files and lists them with their absolute
// paths (go test runs in perf/, so relative paths surprise).
func writeReports(files report.Files, run runfile.Run) error {
	paths := files.Paths()
	if len(paths) == 0 {
		return nil
	}
	err := files.Write(run)
	abs := make([]string, len(paths))
	for i, path := range paths {
		abs[i], _ = filepath.Abs(path)
	}
	fmt.Printf("reports: %s\n", strings.Join(abs, ", "))
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}

// After a Reset stats (the web UI's) the final figures count from the reset,
// where the run's start gave 1.73 req/s for a run at 18.4; the history keeps
// the rows from before it.
func TestResetStatsFinalFiguresCountFromTheReset(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	now := t0
	rec := stats.NewRecorder(stats.WithClock(func() time.Time { return now }), stats.WithInterval(time.Hour))
	for range 10 { // before the reset: 10 requests
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: now, Latency: time.Millisecond, Status: 200})
	}
	now = t0.Add(50 * time.Second)
	_ = rec.Snapshot() // every result above is in
	rec.ResetStats()
	for range 100 { // after it: 100 requests in 10 s
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: now, Latency: time.Millisecond, Status: 200})
	}
	now = t0.Add(60 * time.Second)
	snap := rec.Close()
	loadPeriod(&snap, runner.Summary{Started: t0, Stopped: now})
	if snap.Total.Requests != 100 {
		t.Errorf("requests = %d, want the 100 after the reset", snap.Total.Requests)
	}
	if got := snap.RPS(snap.Total); got < 9.99 || got > 10.01 {
		t.Errorf("RPS = %v, want 10: 100 requests over the 10 s since the reset", got)
	}
	if !snap.Start.Equal(t0.Add(50 * time.Second)) {
		t.Errorf("start = %v, want the reset", snap.Start)
	}
}
