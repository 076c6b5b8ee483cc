package perf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
)

// stressArgs make a short run with enough requests per entry for the
// comparison to judge p50 and p95.
var stressArgs = []string{"-test.run", "^TestLoadLight$", "-classes", "XAgentStressUser", "-users", "20", "-spawn-rate", "100", "-duration", "4s"}

func TestCLIWritesEveryReportAndTheJSONReproducesTheCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "out", "run_{u}u")
	out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-duration", "3s", "-csv", prefix,
		"-html", filepath.Join(dir, "out", "run.html"), "-json-file", filepath.Join(dir, "out", "run.json"))
	if err != nil {
		t.Fatalf("the light run failed: %v\n%s", err, out)
	}
	base := filepath.Join(dir, "out", "run_10u")
	files := report.Files{CSV: base, HTML: filepath.Join(dir, "out", "run.html"), JSON: filepath.Join(dir, "out", "run.json")}
	for _, p := range files.Paths() {
		fi, err := os.Stat(p)
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", p, err)
		}
	}
	if !strings.Contains(out, "reports: ") || !strings.Contains(out, "run_10u_stats.csv") {
		t.Errorf("the output does not list the reports:\n%s", out)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "out", ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	run, err := runfile.ReadFile(files.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Verdict.Pass || run.Meta.Scenario != "TestLoadLight" || run.Meta.Users != 10 || len(run.Checks) == 0 {
		t.Errorf("the run file's verdict or metadata is off: %+v %+v", run.Verdict, run.Meta)
	}
	// Re-render the CSV files from the JSON and compare them byte for byte.
	again := report.Files{CSV: filepath.Join(dir, "again", "run")}
	if err := again.Write(run); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{report.StatsSuffix, report.HistorySuffix, report.FailuresSuffix, report.ExceptionsSuffix} {
		want, _ := os.ReadFile(base + suffix)
		got, _ := os.ReadFile(again.CSV + suffix)
		if !bytes.Equal(want, got) {
			t.Errorf("%s re-rendered from the JSON differs:\n--- run\n%s\n--- re-rendered\n%s", suffix, want, got)
		}
	}
	stats, _ := os.ReadFile(base + report.StatsSuffix)
	if !strings.HasPrefix(string(stats), "Type,Name,Request Count,Failure Count,Median Response Time,") || !strings.Contains(string(stats), ",Aggregated,") {
		t.Errorf("stats.csv:\n%s", stats)
	}
}

func TestCLIBaselineComparison(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	baseline := filepath.Join(dir, "base.json")
	out, err := runSelf(t, t.Context(), append(stressArgs, "-json-file", baseline)...)
	if err != nil {
		t.Fatalf("the baseline run failed: %v\n%s", err, out)
	}

	t.Run("against itself", func(t *testing.T) {
		t.Parallel()
		out, err := runSelf(t, t.Context(), append(stressArgs, "-baseline", baseline)...)
		if err != nil {
			t.Fatalf("a run compared with a run of the same build must pass: %v\n%s", err, out)
		}
		for _, want := range []string{"Compared with baseline base.json", "--- PASS: TestLoadLight/baseline/GET_/status_(stress)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("slower server", func(t *testing.T) {
		t.Parallel()
		slow := fakeapi.DefaultOptions()
		slow.Latency = map[string]fakeapi.LatencySpec{"/status": {Kind: fakeapi.LatencyFixed, Fixed: 5 * time.Millisecond}}
		html := filepath.Join(dir, "slow.html")
		jsonOut := filepath.Join(dir, "slow.json")
		out, err := runSelf(t, t.Context(), append(stressArgs, "-host", misbehaving(t, slow), "-baseline", baseline,
			"-html", html, "-json", jsonOut)...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("a regression must fail the run, got %v:\n%s", err, out)
		}
		for _, want := range []string{
			"--- FAIL: TestLoadLight/baseline/GET_/status_(stress)",
			"--- PASS: TestLoadLight/baseline/GET_/healthz_(stress)",
			"GET /status (stress) p50_ms: ", "over the 10% limit",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		run, err := runfile.ReadFile(jsonOut)
		if err != nil {
			t.Fatalf("the failing run's JSON: %v", err)
		}
		if run.Verdict.Pass || run.Baseline == nil || len(run.Baseline.Regressions()) == 0 {
			t.Errorf("the run file must record the failed verdict and the regressions: %+v", run.Verdict)
		}
		page, _ := os.ReadFile(html)
		if !strings.Contains(string(page), "GET /status (stress)") || !strings.Contains(string(page), "base.json") {
			t.Errorf("the HTML report lacks the comparison")
		}
	})
}

func TestCLIRefusesBadReportFlagsBeforeTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	broken := filepath.Join(dir, "broken.json")
	for name, content := range map[string]string{file: "x", broken: `{"format": "xagent-perf-run", "version": 1, "stats": {"entries": [`} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"html under a file", []string{"-html", filepath.Join(file, "r.html")}, []string{"report files:", "cannot create directory"}},
		{"json is a directory", []string{"-json", dir}, []string{"report files:", "is a directory"}},
		{"missing baseline", []string{"-baseline", filepath.Join(dir, "nope.json")}, []string{"-baseline:", "nope.json"}},
		{"broken baseline", []string{"-baseline", broken}, []string{"-baseline:", "broken.json"}},
		{"bad limits", []string{"-baseline", broken, "-max-regression", "fast"}, []string{"-max-regression"}},
		{"limits without baseline", []string{"-max-regression", "5%"}, []string{"needs -baseline"}},
		{"full history nowhere", []string{"-csv-full-history"}, []string{"needs -csv or -json"}},
		// What go test passes on from `go test ./perf -json out/run.json`: its -json eats the flag.
		{"stray argument", []string{"out/run.json", "-csv-full-history"}, []string{`unexpected argument "out/run.json"`, "-json-file FILE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			out, err := runSelf(t, ctx, append([]string{"-test.run", "^TestLoadLight$"}, c.args...)...)
			if err == nil {
				t.Fatalf("the run passed; want a refusal:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "Aggregated") {
				t.Errorf("bad report flags must be refused before any load is sent:\n%s", out)
			}
		})
	}
}
