package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
)

// reportFile renders one download from a run.
type reportFile struct {
	contentType string
	write       func(io.Writer, runfile.Run) error
}

// reports are the downloads under /reports/, Locust's "Download Data" tab.
var reports = map[string]reportFile{
	"stats.csv": {"text/csv; charset=utf-8", func(w io.Writer, r runfile.Run) error {
		return report.WriteStatsCSV(w, r.Stats)
	}},
	"stats_history.csv": {"text/csv; charset=utf-8", func(w io.Writer, r runfile.Run) error {
		return report.WriteHistoryCSV(w, r.Stats)
	}},
	"failures.csv": {"text/csv; charset=utf-8", func(w io.Writer, r runfile.Run) error {
		return report.WriteFailuresCSV(w, r.Stats, true)
	}},
	"exceptions.csv": {"text/csv; charset=utf-8", func(w io.Writer, r runfile.Run) error {
		return report.WriteExceptionsCSV(w, r.Stats)
	}},
	"run.json":    {"application/json", runfile.Encode},
	"report.html": {"text/html; charset=utf-8", report.WriteHTML},
}

// ReportFiles lists the download names under /reports/.
func ReportFiles() []string {
	return []string{"stats.csv", "stats_history.csv", "failures.csv", "exceptions.csv", "run.json", "report.html"}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// downloadName is the attachment's file name: the scenario's name before the
// report's, as Locust prefixes its CSV files.
func downloadName(run runfile.Run, file string) string {
	prefix := unsafeName.ReplaceAllString(run.Meta.Scenario, "_")
	if prefix == "" || prefix == "_" {
		prefix = "perfharness"
	}
	return prefix + "_" + file
}

func serveReport(w http.ResponseWriter, r *http.Request, c Controller, file string, rep reportFile) {
	run, ok := c.Run()
	if !ok {
		http.Error(w, "no run yet: start a swarm first, then download its "+file, http.StatusNotFound)
		return
	}
	// Render in full first, so a failure is an error status, not a cut file.
	var buf bytes.Buffer
	if err := rep.write(&buf, run); err != nil {
		http.Error(w, fmt.Sprintf("rendering %s: %v", file, err), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", rep.contentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", downloadName(run, file)))
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	if file == "report.html" {
		// The report carries its own, stricter policy for inline scripts.
		h.Del("Content-Security-Policy")
	}
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
