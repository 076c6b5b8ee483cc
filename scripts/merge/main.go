// Command merge merges the run files of a distributed run's segments (each
// process ran -segment i/n of one scenario) into one run, exactly: counts add
// and HDR histograms merge bucket by bucket, so the merged percentiles are
// those one process would have measured. It then grades the merged run on the
// target table as the test did and exits 1 when it fails.
//
//	go run ./scripts/merge -o out/merged.json -html out/merged.html out/seg-*.json
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/merge"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/target"
)

// errFailed is the exit status 1 of a merged run that fails its targets.
var errFailed = errors.New("the merged run failed")

// defaultTargets is the shipped table, from the repository root.
const defaultTargets = "fixtures/targets.json"

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errFailed):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "merge:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files report.Files
	fs.StringVar(&files.JSON, "o", "", "write the merged run file here")
	fs.StringVar(&files.CSV, "csv", "", "write Locust's CSV files of the merged run with this prefix")
	fs.StringVar(&files.HTML, "html", "", "write the HTML report of the merged run")
	targets := fs.String("targets", defaultTargets, "the target table to grade the merged run on")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/merge [-o merged.json] [-csv PREFIX] [-html FILE] [-targets FILE] seg-1.json seg-2.json …")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no run files given")
	}
	table, err := loadTable(*targets, stdout)
	if err != nil {
		return fmt.Errorf("-targets: %w", err)
	}
	if err := files.Check(); err != nil {
		return err
	}
	var named []merge.Named
	for _, path := range fs.Args() {
		r, err := runfile.ReadFile(path)
		if err != nil {
			return err
		}
		named = append(named, merge.Named{Name: path, Run: r})
	}
	merged, warnings, err := merge.Files(named)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	grade(&merged, table)

	fmt.Fprintf(stdout, "%s: %d segments merged (%s), %d users, %d requests\n\n", merged.Meta.Scenario, len(named), merged.Meta.Segment,
		merged.Meta.Users, merged.Stats.Total.Requests)
	if err := report.WriteConsole(stdout, merged.Stats); err != nil {
		return err
	}
	if err := report.WriteGrades(stdout, merged.Checks, merged.Alerts); err != nil {
		return err
	}
	if err := files.Write(merged); err != nil {
		return err
	}
	for _, p := range files.Paths() {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if !merged.Verdict.Pass {
		fmt.Fprintf(stdout, "FAIL: %s\n", strings.Join(merged.Verdict.Reasons, "\n      "))
		return errFailed
	}
	fmt.Fprintln(stdout, "PASS")
	return nil
}

// grade grades the merged run as the segments' test did: its gate, grade and
// clock come from the run files, and the one judge decides.
func grade(r *runfile.Run, table target.Table) {
	judge.Judge(r, table, judge.Gate(r.Meta))
}

// loadTable reads the target table; the shipped default falls back to the
// built-in copy when run outside the repository root.
func loadTable(path string, stdout io.Writer) (target.Table, error) {
	t, builtIn, err := target.LoadOrDefault(path, defaultTargets)
	if builtIn {
		fmt.Fprintf(stdout, "note: %s not found; grading on the built-in target table (the seed's values)\n", path)
	}
	return t, err
}
