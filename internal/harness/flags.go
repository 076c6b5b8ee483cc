package harness

import (
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/xagent/perfharness/internal/scenario"
)

// Timespan is a flag that reads Locust's durations (60s, 5m, 1h30m, bare
// seconds) and remembers whether it was given.
type Timespan struct {
	D     time.Duration
	Given bool
}

func (t *Timespan) String() string {
	if t == nil || !t.Given {
		return ""
	}
	return t.D.String()
}

// Set implements flag.Value.
func (t *Timespan) Set(s string) error {
	d, err := scenario.ParseTimespan(s)
	if err != nil {
		return err
	}
	t.D, t.Given = d, true
	return nil
}

// Or returns the flag's value when given, else def.
func (t Timespan) Or(def time.Duration) time.Duration {
	if t.Given {
		return t.D
	}
	return def
}

// DefaultTargets is the target table, relative to perf/ where go test runs
// the tests; a binary run elsewhere falls back to the built-in copy.
const DefaultTargets = "../fixtures/targets.json"

// MaxUsers is the most users one process runs (the runner's bound).
const MaxUsers = 1_000_000

// Flags are the command-line flags of every TestLoad* and Benchmark*. Zero
// values mean "the scenario's default"; Plan turns them into a Plan.
type Flags struct {
	fs *flag.FlagSet

	Users        int
	SpawnRate    float64
	Duration     Timespan
	Host         string
	Classes      string
	Targets      string
	Grace        Timespan
	Seed         uint64
	TimeoutReq   Timespan
	Insecure     bool
	MinGrade     string
	Progress     Timespan
	CSV          string
	CSVFull      bool
	CSVFailTimes bool
	HTML         string
	JSON         string
	Baseline     string
	MaxRegress   string
	Rate         float64
	MaxInFlight  int
	Shape        string
	Clock        string
	Client       string
	SharedPool   bool
	Path         string
	Web          string
	Segment      string
	StartAt      string
	MaxLag       Timespan
	HealthEvery  Timespan
	MetricsEvery Timespan
}

// Register defines the harness's flags on fs and returns where they land.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.IntVar(&f.Users, "users", 0, "number of concurrent users, 1 to 1000000 (default: the scenario's)")
	fs.Float64Var(&f.SpawnRate, "spawn-rate", 0, "users started per second, more than 0 (default: the scenario's)")
	fs.Var(&f.Duration, "duration", "run time, Locust's -t forms (60s, 5m, 1h30m) or Go's (default: the scenario's)")
	fs.StringVar(&f.Host, "host", "", "base URL of the API under test, e.g. http://localhost:8000 (default: an in-process fake of X-Agent)")
	fs.StringVar(&f.Classes, "classes", "", "comma-separated user classes to run (default: the scenario's), e.g. XAgentAPIUser")
	fs.StringVar(&f.Targets, "targets", DefaultTargets, "performance target table file")
	fs.Var(&f.Grace, "grace", "how long running tasks may finish after the duration before their requests are cancelled (default 10s)")
	fs.Uint64Var(&f.Seed, "seed", 0, "random seed for task choices, waits and class assignment (0: from the clock; printed)")
	fs.Var(&f.TimeoutReq, "timeout-req", "timeout of one request, headers and body (default 30s)")
	fs.BoolVar(&f.Insecure, "insecure", false, "accept any TLS certificate of -host")
	fs.StringVar(&f.MinGrade, "min-grade", "acceptable", "lowest passing grade of a gated target: target, acceptable, needs-investigation or poor")
	fs.Var(&f.Progress, "progress", "interval of the progress line printed with -v (default 5s; 0 turns it off)")
	fs.StringVar(&f.CSV, "csv", "", "write Locust's CSV files PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and PREFIX_exceptions.csv ({u}, {r}, {t} placeholders)")
	fs.BoolVar(&f.CSVFull, "csv-full-history", false, "add a row per entry to PREFIX_stats_history.csv each second, not only the aggregate's")
	fs.BoolVar(&f.CSVFailTimes, "csv-failure-times", false, "add First Seen and Last Seen columns to PREFIX_failures.csv")
	fs.StringVar(&f.HTML, "html", "", "write a self-contained HTML report to FILE ({u}, {r}, {t} placeholders)")
	fs.StringVar(&f.JSON, "json-file", "", "write the whole run as a JSON run file to FILE, for scripts/report and -baseline ({u}, {r}, {t} placeholders)")
	// go test owns -json (a bool) and never passes it on; the test binary takes
	// it after -args or when run directly, as the same flag as -json-file.
	fs.StringVar(&f.JSON, "json", "", "same as -json-file, for a prebuilt perf.test or after go test's -args")
	fs.StringVar(&f.Baseline, "baseline", "", "compare the run with an earlier run's -json FILE and fail on regressions")
	fs.StringVar(&f.MaxRegress, "max-regression", "", "regression limits for -baseline: a latency percentage (10%) or latency=10%,floor=1ms,rps=10%,failures=1 (default)")
	fs.Float64Var(&f.Rate, "rate", 0, "open model: start this many iterations per second, whatever the latency (instead of -users)")
	fs.IntVar(&f.MaxInFlight, "max-inflight", 1000, "open model: most iterations running at once; an arrival beyond it is dropped and counted")
	fs.StringVar(&f.Shape, "shape", "", "load shape file: user stages or arrival-rate stages (default: the scenario's; TestLoadShape: ../fixtures/shapes/ramp.json)")
	fs.StringVar(&f.Clock, "clock", "auto", "clock the latency targets are graded on: service (sent → last byte), response (intended start → last byte) or auto (response where a schedule exists)")
	fs.StringVar(&f.Client, "client", "net", "HTTP engine: net (net/http: HTTP/2, proxies) or fast (fasthttp: HTTP/1.1, fewer allocations; Locust's FastHttpUser)")
	fs.BoolVar(&f.SharedPool, "shared-pool", false, "share one connection pool among all users (fewer connections than users) instead of one connection per user, as Locust and k6 do")
	fs.StringVar(&f.Path, "path", "/status", "the path TestLoadMax gets, with no wait, like wrk or hey")
	fs.StringVar(&f.Web, "web", "", "serve the live web UI on this address during the run, e.g. 127.0.0.1:8089 (loopback unless another host is named)")
	fs.StringVar(&f.Segment, "segment", "", "run only this process's share i/n of the load (1-based: 1/2 and 2/2), for distributed runs merged with scripts/merge")
	fs.StringVar(&f.StartAt, "start-at", "", "start the load at this RFC 3339 time (all segments together); a process that starts late begins at once and records how late")
	fs.Var(&f.MaxLag, "max-lag", "the generator is saturated (the run inconclusive) when its start lag p99, host pauses taken off, is above this (default: 10% of the tightest gated latency bound, 20ms with the seed's table; 0 turns the check off)")
	fs.Var(&f.HealthEvery, "health-every", "poll the server's /health and /ready this often during the run (default 1s; 0 turns it off)")
	fs.Var(&f.MetricsEvery, "metrics-every", "scrape the server's /metrics this often during the run (default 5s; 0 turns it off)")
	return f
}

// given are the flags set on the command line: a zero value a user typed is
// refused, where the same zero left unset means "the scenario's default".
func (f *Flags) given() map[string]bool {
	set := map[string]bool{}
	if f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	}
	return set
}

// validate reports flag values no scenario can use, naming the flag and its
// valid range.
func (f *Flags) validate() error {
	if f.fs != nil && f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the flags after it were not read. "+
			"(go test's own -json flag takes no value: write the run file with -json-file FILE)", f.fs.Arg(0))
	}
	set := f.given()
	positive := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) } // false for NaN
	switch {
	case set["users"] && (f.Users < 1 || f.Users > MaxUsers):
		return fmt.Errorf("-users %d: must be 1 to %d (leave it out for the scenario's default; the open model takes -rate instead)", f.Users, MaxUsers)
	case set["spawn-rate"] && !positive(f.SpawnRate):
		return fmt.Errorf("-spawn-rate %v: must be a positive number of users per second, e.g. 0.5 or 10 (leave it out for the scenario's default)", f.SpawnRate)
	case set["rate"] && !positive(f.Rate):
		return fmt.Errorf("-rate %v: must be a positive number of iterations per second (leave it out for the closed model of -users)", f.Rate)
	case f.MaxInFlight < 1 || f.MaxInFlight > MaxUsers:
		return fmt.Errorf("-max-inflight %d: must be 1 to %d", f.MaxInFlight, MaxUsers)
	case f.Duration.Given && f.Duration.D == 0:
		return fmt.Errorf("-duration 0: a load test needs a positive duration, e.g. 60s or 5m")
	case f.TimeoutReq.Given && f.TimeoutReq.D == 0:
		return fmt.Errorf("-timeout-req 0: a request needs a positive timeout, e.g. 30s")
	}
	// -grace 0 cancels the requests in flight at the duration; -max-lag,
	// -health-every, -metrics-every and -progress 0 turn their check off.
	// ParseTimespan refuses negative durations for all of them.
	return nil
}
