package report

import (
	"errors"
	"fmt"
	"io"

	"github.com/xagent/perfharness/internal/outfile"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
)

// Files names a run's report files, as -csv, -html and -json give them.
type Files struct {
	// CSV is the prefix of Locust's four CSV files; empty writes none.
	CSV string
	// HTML and JSON are file paths; empty writes none.
	HTML string
	JSON string
	// FailureTimes adds First Seen and Last Seen to the failures file.
	FailureTimes bool
}

// Paths lists every file Files writes, in writing order.
func (f Files) Paths() []string {
	var out []string
	if f.CSV != "" {
		for _, s := range []string{StatsSuffix, HistorySuffix, FailuresSuffix, ExceptionsSuffix} {
			out = append(out, f.CSV+s)
		}
	}
	for _, p := range []string{f.HTML, f.JSON} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Check proves every path writable, making missing directories.
func (f Files) Check() error {
	var errs []error
	for _, p := range f.Paths() {
		errs = append(errs, outfile.Check(p))
	}
	return errors.Join(errs...)
}

// Write writes every report of run, each atomically. A file that fails does not
// stop the others; the error lists every failure.
func (f Files) Write(run runfile.Run) error {
	var errs []error
	write := func(path string, fill func(io.Writer) error) {
		if path != "" {
			errs = append(errs, outfile.Write(path, fill))
		}
	}
	if f.CSV != "" {
		s := run.Stats
		write(f.CSV+StatsSuffix, func(w io.Writer) error { return WriteStatsCSV(w, s) })
		write(f.CSV+HistorySuffix, func(w io.Writer) error { return WriteHistoryCSV(w, s) })
		write(f.CSV+FailuresSuffix, func(w io.Writer) error { return WriteFailuresCSV(w, s, f.FailureTimes) })
		write(f.CSV+ExceptionsSuffix, func(w io.Writer) error { return WriteExceptionsCSV(w, s) })
	}
	write(f.HTML, func(w io.Writer) error { return WriteHTML(w, run) })
	write(f.JSON, func(w io.Writer) error { return runfile.Encode(w, run) })
	return errors.Join(errs...)
}

// History appends PREFIX_stats_history.csv as a run goes, so a run that is
// killed keeps the seconds it had. Files.Write replaces it at the end.
type History struct {
	a *outfile.Appender
	n int // ticks written
}

// StartHistory creates the history file with its header; nil without -csv.
func (f Files) StartHistory() (*History, error) {
	if f.CSV == "" {
		return nil, nil
	}
	a, err := outfile.Create(f.CSV + HistorySuffix)
	if err != nil {
		return nil, err
	}
	if err := a.Append(WriteHistoryHeader); err != nil {
		a.Close()
		return nil, err
	}
	return &History{a: a}, nil
}

// Written is how many ticks the file holds, the next from for Recorder.Ticks.
func (h *History) Written() int { return h.n }

// Append writes ticks' rows and flushes them.
func (h *History) Append(ticks []stats.Tick) error {
	if len(ticks) == 0 {
		return nil
	}
	if err := h.a.Append(func(w io.Writer) error { return WriteHistoryRows(w, ticks) }); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	h.n += len(ticks)
	return nil
}

// Close closes the file.
func (h *History) Close() error { return h.a.Close() }
