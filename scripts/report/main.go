// Command report re-renders the reports of a run from its JSON run file
// (written by a load test's -json flag), and compares two runs offline:
//
//	go run ./scripts/report -in run.json -csv out/run -html out/run.html
//	go run ./scripts/report -in new.json -baseline old.json -max-regression 15%
//
// Without an output flag it prints the run's tables, as the load test did.
// With -baseline it prints the comparison and exits 1 when a metric regressed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
)

// errRegressed is the exit status 1 of a comparison that found a regression.
var errRegressed = errors.New("regressed")

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errRegressed):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the run file to read (required)")
	var files report.Files
	fs.StringVar(&files.CSV, "csv", "", "write Locust's four CSV files with this prefix")
	fs.BoolVar(&files.FailureTimes, "csv-failure-times", false, "add First Seen and Last Seen to PREFIX_failures.csv")
	fs.StringVar(&files.HTML, "html", "", "write the HTML report to this file")
	fs.StringVar(&files.JSON, "json", "", "write the run file again (normalized) to this file")
	baseline := fs.String("baseline", "", "compare the run with this earlier run file; exit status 1 on a regression")
	limits := fs.String("max-regression", "", "regression limits for -baseline (default latency=10%,floor=1ms,rps=10%,failures=1)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/report -in run.json [-csv PREFIX] [-html FILE] [-json FILE] [-baseline old.json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("-in is required and no arguments are taken")
	}
	lim, err := compare.ParseLimits(*limits)
	if err != nil {
		return fmt.Errorf("-max-regression %w", err)
	}
	r, err := runfile.ReadFile(*in)
	if err != nil {
		return err
	}
	if err := files.Check(); err != nil {
		return err
	}
	var regressed bool
	if *baseline != "" {
		base, err := runfile.ReadFile(*baseline)
		if err != nil {
			return fmt.Errorf("-baseline: %w", err)
		}
		res := compare.Compare(base.Stats, r.Stats, lim)
		res.Baseline = filepath.Base(*baseline)
		r.Baseline = &res
		for _, row := range res.Regressions() {
			r.Verdict.Pass = false
			r.Verdict.Reasons = append(r.Verdict.Reasons, "regression: "+row.Message())
		}
		if err := report.WriteComparison(stdout, res); err != nil {
			return err
		}
		regressed = len(res.Regressions()) > 0
	}
	if len(files.Paths()) == 0 && *baseline == "" {
		if err := report.WriteConsole(stdout, r.Stats); err != nil {
			return err
		}
		if err := report.WriteGrades(stdout, r.Checks, r.Alerts); err != nil {
			return err
		}
	}
	if err := files.Write(r); err != nil {
		return err
	}
	for _, p := range files.Paths() {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if regressed {
		return errRegressed
	}
	return nil
}
