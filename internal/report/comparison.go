package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/xagent/perfharness/internal/compare"
)

// WriteComparison writes the comparison with a baseline as a table, one row
// per entry and metric, regressions marked REGRESSED.
func WriteComparison(w io.Writer, r compare.Result) error {
	ew := &errWriter{w: w}
	ew.printf("Compared with baseline %s (limits: %s)\n", r.Baseline, r.Limits)
	ew.printf("%-*s %-17s %12s %12s %10s  %s\n", nameWidth, "Name", "Metric", "Baseline", "This run", "Change", "Status")
	ew.printf("%s\n", strings.Repeat("-", nameWidth+71))
	for _, row := range r.Rows {
		st := "ok"
		switch {
		case row.Regressed:
			st = "REGRESSED: " + row.Note
		case row.Note != "":
			st = row.Note
		}
		ew.printf("%-*s %-17s %12s %12s %10s  %s\n", nameWidth, clip(row.Entry, nameWidth), row.Metric,
			comparisonValue(row.Metric, row.Old), comparisonValue(row.Metric, row.New), compare.Signed(row.ChangePct), st)
	}
	if len(r.OnlyInBaseline) > 0 {
		ew.printf("Only in the baseline: %s\n", strings.Join(r.OnlyInBaseline, ", "))
	}
	if len(r.OnlyInRun) > 0 {
		ew.printf("Only in this run: %s\n", strings.Join(r.OnlyInRun, ", "))
	}
	ew.printf("\n")
	return ew.err
}

// comparisonValue renders a compared value with the precision its metric deserves.
func comparisonValue(metric string, v float64) string {
	switch metric {
	case compare.RPS, compare.FailRate:
		s := strconv.FormatFloat(v, 'f', 2, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s
	}
	return MS(v)
}
