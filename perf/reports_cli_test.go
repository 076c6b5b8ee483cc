package perf

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

// noisyMachine are regression limits for two race-built runs on a shared CI
// machine, whose load differs between them by milliseconds.
const noisyMachine = "latency=10%,floor=5ms"

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
		out, err := runSelf(t, t.Context(), append(stressArgs, "-baseline", baseline, "-max-regression", noisyMachine)...)
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
		slow.Latency = map[string]fakeapi.LatencySpec{"/status": {Kind: fakeapi.LatencyFixed, Fixed: 20 * time.Millisecond}}
		html := filepath.Join(dir, "slow.html")
		jsonOut := filepath.Join(dir, "slow.json")
		out, err := runSelf(t, t.Context(), append(stressArgs, "-host", misbehaving(t, slow), "-baseline", baseline,
			"-max-regression", noisyMachine, "-html", html, "-json", jsonOut)...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("a regression must fail the run, got %v:\n%s", err, out)
		}
		for _, want := range []string{
			"--- FAIL: TestLoadLight/baseline/GET_/status_(stress)",
			"--- PASS: TestLoadLight/baseline/GET_/healthz_(stress)",
			"GET /status (stress) p50_ms: ", "over the 10% limit (floor 5 ms)",
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
		{"negative rate", []string{"-rate", "-1"}, []string{"-rate -1: must be a positive number"}},
		{"rate with users", []string{"-rate", "10", "-users", "5"}, []string{"-rate runs the open model", "-max-inflight"}},
		{"rate with shape", []string{"-rate", "10", "-shape", "../fixtures/shapes/ramp.json"}, []string{"-rate and -shape both set the load"}},
		{"no in-flight", []string{"-rate", "10", "-max-inflight", "0"}, []string{"-max-inflight 0: must be 1 to 1000000"}},
		{"unknown clock", []string{"-clock", "wall"}, []string{`-clock "wall": want auto, service or response`}},
		{"missing shape", []string{"-shape", filepath.Join(dir, "nope.json")}, []string{"-shape:", "nope.json"}},
		{"broken shape", []string{"-shape", broken}, []string{"-shape:", "broken.json"}},
		{"unknown client", []string{"-client", "slow"}, []string{"-client: ", "must be net", "or fast"}},
		{"bad max path", []string{"-test.run", "^TestLoadMax$", "-path", "status"}, []string{"-path: path \"status\": want an absolute path"}},
		{"max with classes", []string{"-test.run", "^TestLoadMax$", "-classes", "XAgentAPIUser"}, []string{"runs one path with no wait"}},
		{"bad segment", []string{"-segment", "3/2"}, []string{"-segment: segment \"3/2\": want 1 <= i <= n"}},
		{"segment without a common seed", []string{"-segment", "1/2"}, []string{"give -seed N (the same in every segment) or -start-at"}},
		{"bad start time", []string{"-start-at", "tomorrow"}, []string{`-start-at "tomorrow": want an RFC 3339 time`}},
		{"start far ahead", []string{"-start-at", "2099-01-01T00:00:00Z"}, []string{"more than an hour; check the date"}},
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

func TestCLIShapeFollowsItsStages(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shape.json")
	out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadShape$", "-json-file", path)
	if err != nil {
		t.Fatalf("TestLoadShape -short failed: %v\n%s", err, out)
	}
	run, err := runfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if run.Meta.Stopped != "shape ended" {
		t.Errorf("the run must end with its shape, stopped: %q", run.Meta.Stopped)
	}
	// -short: 2, 10 and 20 users, 3 s each. The users in each stage's last
	// second show the stage was reached; no stage runs more than its users.
	want := []int{2, 10, 20}
	start := run.Stats.Start
	seen := make([]int, len(want))
	for _, pt := range run.Stats.Series {
		stage := int(pt.Time.Sub(start) / (3 * time.Second))
		if stage >= len(want) {
			continue
		}
		if pt.Users > want[stage] {
			t.Errorf("at %v: %d users, stage %d allows %d", pt.Time.Sub(start), pt.Users, stage, want[stage])
		}
		seen[stage] = max(seen[stage], pt.Users)
	}
	for i, w := range want {
		if seen[i] != w {
			t.Errorf("stage %d peaked at %d users, want %d (series %+v)", i, seen[i], w, run.Stats.Series)
		}
	}
	if !strings.Contains(out, "user shape ../fixtures/shapes/ramp.json") {
		t.Errorf("the start line does not name the shape:\n%s", out)
	}
}

func TestCLIOpenModel(t *testing.T) {
	t.Parallel()
	t.Run("keeps its rate", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "open.json")
		out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-rate", "40", "-duration", "2s", "-json-file", path)
		if err != nil {
			t.Fatalf("an open-model run at 40/s failed: %v\n%s", err, out)
		}
		for _, want := range []string{"40 iterations/s (open model, at most 1000 in flight)", "Generator: arrivals model, graded on response time",
			"requested 40.0 iterations/s", "0 dropped", "--- PASS: TestLoadLight/generator"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		run, err := runfile.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if g := run.Generator; g.Model != "arrivals" || g.Arrivals < 70 || g.Iterations != g.Arrivals || g.Clock != "response" {
			t.Errorf("the run file's generator: %+v", g)
		}
	})
	t.Run("saturated", func(t *testing.T) {
		t.Parallel()
		slow := fakeapi.DefaultOptions()
		slow.Latency = map[string]fakeapi.LatencySpec{"*": {Kind: fakeapi.LatencyFixed, Fixed: 50 * time.Millisecond}}
		out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", misbehaving(t, slow),
			"-rate", "200", "-max-inflight", "2", "-duration", "2s")
		if err == nil {
			t.Fatalf("a generator dropping most of its arrivals must fail the run:\n%s", out)
		}
		for _, want := range []string{"--- FAIL: TestLoadLight/generator", "describe the load generator, not the server", "dropped"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestCLIWatchesTheServer(t *testing.T) {
	t.Parallel()
	t.Run("health flapping", func(t *testing.T) {
		t.Parallel()
		flap := fakeapi.DefaultOptions()
		flap.HealthFlap = 700 * time.Millisecond
		path := filepath.Join(t.TempDir(), "flap.json")
		html := filepath.Join(t.TempDir(), "flap.html")
		out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", misbehaving(t, flap), "-duration", "3s",
			"-health-every", "100ms", "-metrics-every", "1s", "-classes", "XAgentStressUser", "-json-file", path, "-html", html)
		if err != nil {
			t.Fatalf("health flapping is watched, not failed: %v\n%s", err, out)
		}
		for _, want := range []string{"Server view: /health and /ready every 100ms", "health unhealthy (503)", "health healthy (200)",
			"Server vs client per route", "/status "} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		run, err := runfile.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sv := run.Server
		if sv == nil || len(sv.Report.Periods) == 0 || len(sv.Report.Transitions) < 4 {
			t.Fatalf("the run file lacks the health timeline: %+v", sv)
		}
		// The final scrape at the stop makes the server's count exact.
		for _, row := range sv.Rows {
			if row.ClientRequests > 0 && int64(row.ServerRequests) != row.ClientRequests {
				t.Errorf("%s %s: the server counted %v requests, the client %d", row.Method, row.Route, row.ServerRequests, row.ClientRequests)
			}
		}
		page, _ := os.ReadFile(html)
		if !strings.Contains(string(page), "<h2>Server view</h2>") || !strings.Contains(string(page), `"bands":[{`) {
			t.Errorf("the HTML report lacks the server view or the shaded periods")
		}
	})
	t.Run("garbage metrics", func(t *testing.T) {
		t.Parallel()
		fake, err := fakeapi.New(fakeapi.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				_, _ = w.Write([]byte("this is not {{ prometheus"))
				return
			}
			fake.ServeHTTP(w, r)
		}))
		t.Cleanup(func() { srv.Close(); fake.Close() })
		out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", srv.URL, "-duration", "2s")
		if err != nil {
			t.Fatalf("garbage at /metrics must not fail the run: %v\n%s", err, out)
		}
		if !strings.Contains(out, "note: GET /metrics") || !strings.Contains(out, "server-side figures unavailable") {
			t.Errorf("output lacks the note on /metrics:\n%s", out)
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-duration", "1s", "-health-every", "0", "-metrics-every", "0")
		if err != nil || strings.Contains(out, "Server view") {
			t.Errorf("with both off, no server view (err %v):\n%s", err, out)
		}
	})
}

func TestCLIMaxThroughputOnBothEngines(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"net", "fast"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "max.json")
			out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadMax$", "-client", engine, "-users", "10", "-duration", "2s",
				"-path", "/healthz", "-json-file", path)
			if err != nil {
				t.Fatalf("TestLoadMax -client %s: %v\n%s", engine, err, out)
			}
			run, err := runfile.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := run.Stats.Entry("GET", "GET /healthz")
			if !ok || e.Requests < 100 || e.Failures != 0 || len(run.Stats.Entries) != 1 {
				t.Errorf("-client %s: want only GET /healthz, many requests, no failures: %+v", engine, run.Stats.Entries)
			}
		})
	}
}
