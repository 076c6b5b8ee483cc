// Package report renders a run's statistics snapshot and verdict: the console
// tables (Locust's layout), and later CSV, HTML and JSON files.
package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// Percentiles are the columns of the percentile tables, as in Locust.
var Percentiles = stats.Percentiles

// PercentileLabel renders a percentile column heading ("99.9%").
func PercentileLabel(q float64) string { return strconv.FormatFloat(q, 'f', -1, 64) + "%" }

// MS renders milliseconds with the precision the value deserves: percentiles
// are never rounded to whole milliseconds as Locust rounds them.
func MS(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

const nameWidth = 46

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// WriteConsole writes the results table, the percentile tables (service time and,
// when they differ, response time from the intended start), the failures and
// the exceptions.
func WriteConsole(w io.Writer, s stats.Snapshot) error { return WriteConsoleGraded(w, s, "") }

// ClockResponse names the intended-start clock, as the judge and the run file name it.
const ClockResponse = "response"

// WriteConsoleGraded is WriteConsole for a run graded on clock ("service" or
// "response"): the table of the graded clock is always printed and says so,
// so the numbers a verdict rests on are on the screen.
func WriteConsoleGraded(w io.Writer, s stats.Snapshot, clock string) error {
	ew := &errWriter{w: w}
	writeStats(ew, s)
	service := "Response time percentiles, service time (ms, not rounded)"
	response := "Response time percentiles from the intended start (ms; includes time the schedule ran late)"
	switch clock {
	case "":
	case ClockResponse:
		response += "; the targets are graded on this clock"
	default:
		service += "; the targets are graded on this clock"
	}
	writePercentiles(ew, s, service, stats.Entry.ServiceMS)
	if clock == ClockResponse || differ(s) {
		writePercentiles(ew, s, response, stats.Entry.ResponseMS)
	}
	writeFailures(ew, s)
	writeExceptions(ew, s)
	return ew.err
}

// differ reports whether the intended-start clock differs from service time anywhere.
func differ(s stats.Snapshot) bool {
	t := s.Total
	return t.Requests > 0 && t.ResponseMS(99) > t.ServiceMS(99)*1.01+0.1
}

func rule(ew *errWriter) {
	ew.printf("--------|%s|-------------|----------------|---------------------------|---------|----------\n", strings.Repeat("-", nameWidth))
}

func writeStats(ew *errWriter, s stats.Snapshot) {
	ew.printf("%-8s %-*s %13s %16s | %8s %8s %8s | %8s %9s %10s\n", "Type", nameWidth, "Name", "# requests", "# fails", "Avg", "Min", "Max", "Median", "req/s", "failures/s")
	rule(ew)
	for _, e := range s.Entries {
		row(ew, s, e.Method, e.Name, e, false)
	}
	rule(ew)
	row(ew, s, "", s.Total.Name, s.Total, true)
	ew.printf("\n")
}

func row(ew *errWriter, s stats.Snapshot, typ, name string, e stats.Entry, total bool) {
	fails := strconv.FormatInt(e.Failures, 10)
	if total {
		fails += fmt.Sprintf(" (%.2f%%)", 100*e.FailRatio())
	}
	ew.printf("%-8s %-*s %13d %16s | %8s %8s %8s | %8s %9.2f %10.2f\n", typ, nameWidth, clip(name, nameWidth), e.Requests, fails,
		MS(e.AvgMS()), MS(e.MinMS()), MS(e.MaxMS()), MS(e.ServiceMS(50)), s.RPS(e), s.FailPS(e))
}

func writePercentiles(ew *errWriter, s stats.Snapshot, title string, q func(stats.Entry, float64) float64) {
	ew.printf("%s\n", title)
	ew.printf("%-8s %-*s", "Type", nameWidth, "Name")
	for _, p := range Percentiles {
		ew.printf(" %8s", PercentileLabel(p))
	}
	ew.printf(" %10s\n", "# reqs")
	line := func(typ, name string, e stats.Entry) {
		ew.printf("%-8s %-*s", typ, nameWidth, clip(name, nameWidth))
		for _, p := range Percentiles {
			if e.Requests == 0 {
				ew.printf(" %8s", "N/A")
				continue
			}
			ew.printf(" %8s", MS(q(e, p)))
		}
		ew.printf(" %10d\n", e.Requests)
	}
	sep := "--------|" + strings.Repeat("-", nameWidth) + "|" + strings.Repeat("---------", len(Percentiles)) + "|-----------\n"
	ew.printf("%s", sep)
	for _, e := range s.Entries {
		line(e.Method, e.Name, e)
	}
	ew.printf("%s", sep)
	line("", s.Total.Name, s.Total)
	ew.printf("\n")
}

func writeFailures(ew *errWriter, s stats.Snapshot) {
	if len(s.Failures) == 0 {
		return
	}
	ew.printf("Error report\n%-14s %s\n%s\n", "# occurrences", "Error", strings.Repeat("-", 100))
	for _, f := range s.Failures {
		ew.printf("%14d %s: %s\n", f.Occurrences, stats.Entry{Method: f.Method, Name: f.Name}.Label(), f.Error)
	}
	ew.printf("%s\n\n", strings.Repeat("-", 100))
}

func writeExceptions(ew *errWriter, s stats.Snapshot) {
	if len(s.Exceptions) == 0 {
		return
	}
	ew.printf("Exceptions (harness-side errors)\n%-14s %s\n%s\n", "# occurrences", "Message", strings.Repeat("-", 100))
	for _, x := range s.Exceptions {
		ew.printf("%14d %s\n", x.Count, x.Message)
	}
	ew.printf("%s\n\n", strings.Repeat("-", 100))
}

// WriteGrades writes the aggregate checks and alerts one per line (PASS, FAIL,
// or info when not gated), then the endpoints' grades as a table with one
// column per metric; a gated endpoint check that fails is marked FAIL.
func WriteGrades(w io.Writer, checks []target.Check, alerts []target.AlertResult) error {
	ew := &errWriter{w: w}
	ew.printf("Performance targets\n")
	var endpoints []string
	var metrics []string
	cells := map[[2]string]string{}
	for _, c := range checks {
		if c.Endpoint == "" {
			ew.printf("  %-4s %s\n", status(c.Gated, !c.Pass), c.Message)
			continue
		}
		if !slices.Contains(endpoints, c.Endpoint) {
			endpoints = append(endpoints, c.Endpoint)
		}
		if !slices.Contains(metrics, c.Metric) {
			metrics = append(metrics, c.Metric)
		}
		cell := withUnit(strconv.FormatFloat(c.Value, 'g', 4, 64), target.Unit(c.Metric)) + " " + c.Grade.String()
		if c.Gated {
			cell = status(true, !c.Pass) + " " + cell
		}
		cells[[2]string{c.Endpoint, c.Metric}] = cell
	}
	for _, a := range alerts {
		ew.printf("  %-4s alert: %s\n", status(true, a.Fired), a.Message)
	}
	if len(endpoints) > 0 {
		ew.printf("\nGrades per endpoint (gated only where the target table sets an endpoint target)\n")
		line := func(first string, col func(m string) string) {
			var b strings.Builder
			fmt.Fprintf(&b, "  %-*s", nameWidth, clip(first, nameWidth))
			for _, m := range metrics {
				fmt.Fprintf(&b, " %-30s", col(m))
			}
			ew.printf("%s\n", strings.TrimRight(b.String(), " "))
		}
		line("Name", func(m string) string { return m })
		for _, ep := range endpoints {
			line(ep, func(m string) string { return cells[[2]string{ep, m}] })
		}
	}
	ew.printf("\n")
	return ew.err
}

// withUnit appends a unit, "%" without a space.
func withUnit(v, unit string) string {
	switch unit {
	case "":
		return v
	case "%":
		return v + unit
	}
	return v + " " + unit
}

func status(gated, failed bool) string {
	switch {
	case !gated:
		return "info"
	case failed:
		return "FAIL"
	}
	return "PASS"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
