package perf

import (
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/xagent/perfharness/internal/scenario"
)

// timespan is a flag that reads Locust's durations (60s, 5m, 1h30m, bare seconds).
type timespan struct {
	d   time.Duration
	set bool
}

func (t *timespan) String() string {
	if t == nil || !t.set {
		return ""
	}
	return t.d.String()
}

func (t *timespan) Set(s string) error {
	d, err := scenario.ParseTimespan(s)
	if err != nil {
		return err
	}
	t.d, t.set = d, true
	return nil
}

// defaultTargets is the target table, relative to perf/ where go test runs the tests.
const defaultTargets = "../fixtures/targets.json"

// The flags of every TestLoad* and Benchmark*. Zero values mean "the scenario's default".
var (
	flagUsers      = flag.Int("users", 0, "number of concurrent users, 1 to 1000000 (default: the scenario's)")
	flagSpawnRate  = flag.Float64("spawn-rate", 0, "users started per second, more than 0 (default: the scenario's)")
	flagDuration   timespan
	flagHost       = flag.String("host", "", "base URL of the X-Agent API, e.g. http://localhost:8000 (default: an in-process fake)")
	flagClasses    = flag.String("classes", "", "comma-separated user classes to run (default: the scenario's), e.g. XAgentAPIUser")
	flagTargets    = flag.String("targets", defaultTargets, "performance target table file")
	flagGrace      timespan
	flagSeed       = flag.Uint64("seed", 0, "random seed for task choices, waits and class assignment (0: from the clock; printed)")
	flagTimeoutReq timespan
	flagInsecure   = flag.Bool("insecure", false, "accept any TLS certificate of -host")
	flagMinGrade   = flag.String("min-grade", "acceptable", "lowest passing grade of a gated target: target, acceptable, needs-investigation or poor")
	flagProgress   timespan

	flagCSV          = flag.String("csv", "", "write Locust's CSV files PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and PREFIX_exceptions.csv ({u}, {r}, {t} placeholders)")
	flagCSVFull      = flag.Bool("csv-full-history", false, "add a row per entry to PREFIX_stats_history.csv each second, not only the aggregate's")
	flagCSVFailTimes = flag.Bool("csv-failure-times", false, "add First Seen and Last Seen columns to PREFIX_failures.csv")
	flagHTML         = flag.String("html", "", "write a self-contained HTML report to FILE ({u}, {r}, {t} placeholders)")
	flagJSON         = flag.String("json-file", "", "write the whole run as a JSON run file to FILE, for scripts/report and -baseline ({u}, {r}, {t} placeholders)")
	flagBaseline     = flag.String("baseline", "", "compare the run with an earlier run's -json FILE and fail on regressions")
	flagRate         = flag.Float64("rate", 0, "open model: start this many iterations per second, whatever the latency (instead of -users)")
	flagMaxInFlight  = flag.Int("max-inflight", 1000, "open model: most iterations running at once; an arrival beyond it is dropped and counted")
	flagShape        = flag.String("shape", "", "load shape file: user stages or arrival-rate stages (default: the scenario's; TestLoadShape: ../fixtures/shapes/ramp.json)")
	flagClock        = flag.String("clock", "auto", "clock the latency targets are graded on: service (sent → last byte), response (intended start → last byte) or auto (response where a schedule exists)")
	flagClient       = flag.String("client", "net", "HTTP engine: net (net/http: HTTP/2, proxies) or fast (fasthttp: HTTP/1.1, fewer allocations; Locust's FastHttpUser)")
	flagSharedPool   = flag.Bool("shared-pool", false, "share one connection pool among all users (fewer connections than users) instead of one connection per user, as Locust and k6 do")
	flagPath         = flag.String("path", "/status", "the path TestLoadMax gets, with no wait, like wrk or hey")
	flagWeb          = flag.String("web", "", "serve the live web UI on this address during the run, e.g. 127.0.0.1:8089 (loopback unless another host is named)")
	flagSegment      = flag.String("segment", "", "run only this process's share i/n of the load (1-based: 1/2 and 2/2), for distributed runs merged with scripts/merge")
	flagStartAt      = flag.String("start-at", "", "start the load at this RFC 3339 time (all segments together); a process that starts late begins at once and records how late")
	flagMaxLag       timespan
	flagHealthEvery  timespan
	flagMetricsEvery timespan

	flagMaxRegress = flag.String("max-regression", "", "regression limits for -baseline: a latency percentage (10%) or latency=10%,floor=1ms,rps=10%,failures=1 (default)")
)

func init() {
	// go test owns -json (a bool) and never passes it on; the test binary takes
	// it after -args or when run directly, as the same flag as -json-file.
	flag.StringVar(flagJSON, "json", "", "same as -json-file, for a prebuilt perf.test or after go test's -args")
	flag.Var(&flagDuration, "duration", "run time, Locust's -t forms (60s, 5m, 1h30m) or Go's (default: the scenario's)")
	flag.Var(&flagGrace, "grace", "how long running tasks may finish after the duration before their requests are cancelled (default 10s)")
	flag.Var(&flagTimeoutReq, "timeout-req", "timeout of one request, headers and body (default 30s)")
	flag.Var(&flagMaxLag, "max-lag", "the generator is saturated (the run inconclusive) when its start lag p99, host pauses taken off, is above this (default: 10% of the tightest gated latency bound, 20ms with the seed's table; 0 turns the check off)")
	flag.Var(&flagHealthEvery, "health-every", "poll the server's /health and /ready this often during the run (default 1s; 0 turns it off)")
	flag.Var(&flagMetricsEvery, "metrics-every", "scrape the server's /metrics this often during the run (default 5s; 0 turns it off)")
	flag.Var(&flagProgress, "progress", "interval of the progress line printed with -v (default 5s; 0 turns it off)")
}

// orDefault returns the flag's value when set, else def.
func (t *timespan) orDefault(def time.Duration) time.Duration {
	if t.set {
		return t.d
	}
	return def
}

// maxUsers is the most users one process runs (the runner's bound).
const maxUsers = 1_000_000

// setFlags are the flags given on the command line: a zero value a user typed
// is refused, where the same zero left unset means "the scenario's default".
func setFlags() map[string]bool {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// validateFlags reports flag values no scenario can use, naming the flag and
// its valid range.
func validateFlags() error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the flags after it were not read. "+
			"(go test's own -json flag takes no value: write the run file with -json-file FILE)", flag.Arg(0))
	}
	set := setFlags()
	positive := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) } // false for NaN
	switch {
	case set["users"] && (*flagUsers < 1 || *flagUsers > maxUsers):
		return fmt.Errorf("-users %d: must be 1 to %d (leave it out for the scenario's default; the open model takes -rate instead)", *flagUsers, maxUsers)
	case set["spawn-rate"] && !positive(*flagSpawnRate):
		return fmt.Errorf("-spawn-rate %v: must be a positive number of users per second, e.g. 0.5 or 10 (leave it out for the scenario's default)", *flagSpawnRate)
	case set["rate"] && !positive(*flagRate):
		return fmt.Errorf("-rate %v: must be a positive number of iterations per second (leave it out for the closed model of -users)", *flagRate)
	case set["max-inflight"] && (*flagMaxInFlight < 1 || *flagMaxInFlight > maxUsers):
		return fmt.Errorf("-max-inflight %d: must be 1 to %d", *flagMaxInFlight, maxUsers)
	case flagDuration.set && flagDuration.d == 0:
		return fmt.Errorf("-duration 0: a load test needs a positive duration, e.g. 60s or 5m")
	case flagTimeoutReq.set && flagTimeoutReq.d == 0:
		return fmt.Errorf("-timeout-req 0: a request needs a positive timeout, e.g. 30s")
	}
	// -grace 0 cancels the requests in flight at the duration; -max-lag,
	// -health-every, -metrics-every and -progress 0 turn their check off.
	// ParseTimespan refuses negative durations for all of them.
	return nil
}
