package perf

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
	"github.com/xagent/perfharness/internal/xagent"
)

// startHint tells a user how to start the API the harness could not reach.
const startHint = "start X-Agent first (uvicorn xagent.api.rest:app --host 0.0.0.0 --port 8000), or leave -host empty to use the embedded fake"

// loadScenario is one TestLoad* scenario with the seed's defaults.
type loadScenario struct {
	Users     int
	SpawnRate float64
	Duration  time.Duration
	Classes   []string // empty: all of X-Agent's classes
	// Gate lists the metrics that fail the test; RPS only where the offered load can reach it.
	Gate []string
	// Shape is the default load shape file (TestLoadShape); empty runs Users.
	Shape string
	// Max runs the max-throughput class on -path instead of X-Agent's classes (TestLoadMax).
	Max bool
	// Short is the scaled-down version run with -short.
	Short struct {
		Users     int
		SpawnRate float64
		Duration  time.Duration
	}
}

// defaultGate gates latency and failure rate: RPS depends on the offered load.
var defaultGate = []string{"median_ms", "p95_ms", "failure_rate_pct"}

// plan is a scenario resolved against the flags.
type plan struct {
	Name      string
	Users     int
	SpawnRate float64
	Duration  time.Duration
	Grace     time.Duration
	Classes   []scenario.Class
	Seed      uint64
	Gate      target.Gate
	Table     target.Table
	Host      string
	Model     model
	Engine    string // the HTTP engine, -client
	Segment   runner.Segment
	StartAt   time.Time // zero: at once
	Outputs   outputs
}

// resolve applies -short and the flags to a scenario's defaults.
func resolve(name string, sc loadScenario) (plan, error) {
	if err := validateFlags(); err != nil {
		return plan{}, err
	}
	p := plan{Name: name, Users: sc.Users, SpawnRate: sc.SpawnRate, Duration: sc.Duration, Host: *flagHost}
	if testing.Short() && sc.Short.Users > 0 {
		p.Users, p.SpawnRate, p.Duration = sc.Short.Users, sc.Short.SpawnRate, sc.Short.Duration
	}
	if *flagUsers > 0 {
		p.Users = *flagUsers
	}
	if *flagSpawnRate > 0 {
		p.SpawnRate = *flagSpawnRate
	}
	p.Duration = flagDuration.orDefault(p.Duration)
	p.Grace = flagGrace.orDefault(10 * time.Second)
	if sc.Max {
		if *flagClasses != "" {
			return plan{}, fmt.Errorf("-classes: %s runs one path with no wait (-path), not X-Agent's classes", name)
		}
		c, err := scenario.MaxClass(*flagPath)
		if err != nil {
			return plan{}, fmt.Errorf("-path: %w", err)
		}
		p.Classes = []scenario.Class{c}
	} else {
		names := sc.Classes
		if *flagClasses != "" {
			names = scenario.ParseNames(*flagClasses)
		}
		classes, err := scenario.Select(xagent.Classes(), names)
		if err != nil {
			return plan{}, fmt.Errorf("-classes: %w", err)
		}
		p.Classes = classes
	}
	p.Seed = *flagSeed
	if p.Seed == 0 {
		p.Seed = uint64(time.Now().UnixNano())
	}
	minGrade, err := target.ParseGrade(*flagMinGrade)
	if err != nil {
		return plan{}, fmt.Errorf("-min-grade: %w", err)
	}
	gate := sc.Gate
	if gate == nil {
		gate = defaultGate
	}
	p.Gate = target.Gate{Metrics: gate, MinGrade: minGrade}
	if p.Table, err = loadTargets(); err != nil {
		return plan{}, fmt.Errorf("-targets: %w", err)
	}
	if p.Host != "" {
		if _, err := client.ParseHost(p.Host); err != nil {
			return plan{}, fmt.Errorf("-host: %w", err)
		}
	}
	if err := resolveModel(&p, sc); err != nil {
		return plan{}, err
	}
	if p.Engine, err = client.ParseEngine(*flagClient); err != nil {
		return plan{}, fmt.Errorf("-client: %w", err)
	}
	if *flagSegment != "" {
		if p.Segment, err = runner.ParseSegment(*flagSegment); err != nil {
			return plan{}, fmt.Errorf("-segment: %w", err)
		}
	}
	if p.Segment.Count > 1 && *flagSeed == 0 {
		// All segments must draw the same schedule: one seed for all of them.
		if *flagStartAt == "" {
			return plan{}, fmt.Errorf("-segment %s: give -seed N (the same in every segment) or -start-at, from which the segments derive one seed", *flagSegment)
		}
	}
	if *flagStartAt != "" {
		if p.StartAt, err = time.Parse(time.RFC3339Nano, *flagStartAt); err != nil {
			return plan{}, fmt.Errorf("-start-at %q: want an RFC 3339 time such as 2026-11-28T10:00:00Z", *flagStartAt)
		}
		if ahead := time.Until(p.StartAt); ahead > time.Hour {
			return plan{}, fmt.Errorf("-start-at %s is %v away: more than an hour; check the date and the time zone", *flagStartAt, ahead.Round(time.Second))
		}
		if p.Segment.Count > 1 && *flagSeed == 0 {
			p.Seed = uint64(p.StartAt.UnixNano())
		}
	}
	if p.Outputs, err = resolveOutputs(p); err != nil {
		return plan{}, err
	}
	return p, nil
}

// loadTargets reads -targets. A test binary run outside perf/ (go test -c) has
// no ../fixtures: with -targets left at its default it grades on the built-in
// copy of the same table.
func loadTargets() (target.Table, error) {
	t, builtIn, err := target.LoadOrDefault(*flagTargets, defaultTargets)
	if builtIn {
		fmt.Printf("note: %s not found; grading on the built-in target table (the seed's values)\n", defaultTargets)
	}
	return t, err
}

// checkTimeout refuses a run that cannot finish before the test binary's -timeout.
func checkTimeout(t testing.TB, p plan) error {
	deadline, ok := t.(interface{ Deadline() (time.Time, bool) }).Deadline()
	if !ok {
		return nil
	}
	need := p.Duration + p.Grace + 15*time.Second
	if left := time.Until(deadline); need > left {
		timeout := "the test binary's -timeout"
		if f := flag.Lookup("test.timeout"); f != nil {
			timeout += " (" + f.Value.String() + ")"
		}
		return fmt.Errorf("-duration %v plus -grace %v does not fit in %s: raise -timeout (e.g. -timeout %v, or -timeout 0 for none) or lower -duration",
			p.Duration, p.Grace, timeout, (need + time.Minute).Truncate(time.Minute))
	}
	return nil
}

// startFake serves the in-process X-Agent fake until the test ends.
func startFake(t testing.TB) string {
	t.Helper()
	fake, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		t.Fatalf("embedded fake: %v", err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	return srv.URL
}

// checkReachable fails fast when nothing answers at host. Any HTTP answer will
// do, and so will a connection the server resets: it is there, and the run
// records how it misbehaves.
func checkReachable(ctx context.Context, host string, insecure bool) error {
	c, err := client.New(host, discard{}, client.Options{Timeout: 5 * time.Second, Insecure: insecure})
	if err != nil {
		return err
	}
	defer c.CloseIdle()
	resp := c.NewSession().Do(ctx, client.Request{Method: "GET", Path: "/healthz"}, time.Time{})
	if resp.Err == nil {
		return nil
	}
	switch client.FailureKind(resp.Failure) {
	case client.FailTimeout:
		return fmt.Errorf("host %s did not answer GET /healthz within 5s: %s; the server accepts connections but is stalled or overloaded", host, resp.Failure)
	case client.FailReset, client.FailDisconnected:
		return nil
	case client.FailSSL:
		return fmt.Errorf("host %s: %s", host, resp.Failure)
	}
	return fmt.Errorf("host %s is not reachable: %s; %s", host, resp.Failure, startHint)
}

type discard struct{}

func (discard) Record(stats.Result) {}

// interrupts turns SIGINT into the run's stop. The first closes Stop: the
// runner cancels the requests in flight and the run reports at once. The
// second writes what was recorded (the abort set with onAbort) and exits
// with status 130 without waiting for anything else.
type interrupts struct {
	Stop  chan struct{}
	mu    sync.Mutex
	abort func()
}

// onAbort sets what a second SIGINT writes before the process exits.
func (in *interrupts) onAbort(fn func()) {
	in.mu.Lock()
	in.abort = fn
	in.mu.Unlock()
}

// interrupt listens for SIGINT until the test ends.
func interrupt(t testing.TB) *interrupts {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt)
	t.Cleanup(func() { signal.Stop(sig) })
	return listen(t, sig, os.Exit)
}

// listen is interrupt on any signal channel and exit function (tests).
func listen(t testing.TB, sig <-chan os.Signal, exit func(int)) *interrupts {
	in := &interrupts{Stop: make(chan struct{})}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case <-sig:
			fmt.Println("\ninterrupt: stopping the run, cancelling the requests in flight (press Ctrl-C again to write what was recorded and exit at once)")
			close(in.Stop)
		case <-done:
			return
		}
		select {
		case <-sig:
			fmt.Println("\nsecond interrupt: writing what was recorded and exiting")
			in.mu.Lock()
			abort := in.abort
			in.mu.Unlock()
			if abort != nil {
				abort()
			}
			exit(130)
		case <-done:
		}
	}()
	t.Cleanup(func() { close(done); <-ended })
	return in
}

// onceWriter writes a run's reports once: at the end of the run, or earlier
// from a second SIGINT, whichever comes first; the other call waits for the
// writing to end and writes nothing.
type onceWriter struct {
	mu   sync.Mutex
	done bool
}

func (o *onceWriter) write(fn func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.done {
		o.done = true
		fn()
	}
}

// stopFilter passes results to the recorder, except those of requests a stop
// request cancelled in flight: those were interrupted, not failed by the
// server, and are only counted. (A request cut at the grace deadline after
// the duration still counts as a failure: it outlived the grace.)
type stopFilter struct {
	rec       *stats.Recorder
	stop      <-chan struct{}
	cancelled atomic.Int64
}

func (f *stopFilter) Record(r stats.Result) {
	if r.Error != "" && client.FailureKind(r.Error) == client.FailCancelled {
		select {
		case <-f.stop:
			f.cancelled.Add(1)
			return
		default:
		}
	}
	f.rec.Record(r)
}

// runLoad runs one load scenario as a test: it resolves the flags, runs the
// users, prints the results and grades, and fails one subtest per failing target.
func runLoad(t *testing.T, sc loadScenario) {
	p, err := resolve(t.Name(), sc)
	if err != nil {
		t.Fatal(err)
	}
	var ui *webRun
	if *flagWeb != "" {
		ui = serveWeb(t, false, "")
	}
	execute(t, p, ui)
}

// execute runs a resolved plan: the load, the grading and the reports; ui,
// when not nil, is the web UI watching and steering it.
func execute(t *testing.T, p plan, ui *webRun) {
	defer ui.end()
	if err := checkTimeout(t, p); err != nil {
		t.Fatal(err)
	}
	host := p.Host
	if host == "" {
		host = startFake(t)
	}
	ctx := t.Context()
	// Stop a little before the test binary's deadline, so the report is written.
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-5*time.Second))
		defer cancel()
	}
	if err := checkReachable(ctx, host, *flagInsecure); err != nil {
		t.Fatal(err)
	}

	rec := stats.NewRecorder(recorderOptions(p)...)
	in := interrupt(t)
	stop := ui.begin(p, host, rec, in.Stop) // installed before the start line, which tells a watcher it may interrupt
	filter := &stopFilter{rec: rec, stop: stop}
	conns := p.Users // one connection a user; the open model needs one per iteration in flight
	if p.Model.Kind == modelArrivals {
		conns = p.Model.MaxInFlight
	}
	cl, err := client.New(host, filter, client.Options{Timeout: flagTimeoutReq.orDefault(30 * time.Second), Insecure: *flagInsecure,
		MaxIdlePerHost: conns, Engine: p.Engine, SharedPool: *flagSharedPool})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.CloseIdle()
	classNames := make([]string, len(p.Classes))
	for i, c := range p.Classes {
		classNames[i] = c.Name
	}
	fmt.Printf("%s: %s against %s; classes %s; seed %d\n",
		p.Name, describeLoad(p), host, strings.Join(classNames, ", "), p.Seed)

	lag := saturation.NewLag()
	duration := p.Duration
	if p.Model.ShapeDesc != "" && !flagDuration.set {
		duration = 0 // the shape ends the run
	}
	r, err := runner.New(runner.Config{
		Classes: p.Classes, Users: p.Users, SpawnRate: p.SpawnRate, Duration: duration, Grace: p.Grace,
		Seed: p.Seed, Client: cl, Recorder: rec, Stop: stop,
		Arrivals: p.Model.Arrivals, MaxInFlight: p.Model.MaxInFlight, Shape: p.Model.Shape, Lag: lag, Segment: p.Segment,
	})
	if err != nil {
		t.Fatal(err)
	}
	ui.attach(r, lag)
	late, ok := waitStart(p, stop)
	if !ok {
		t.Fatalf("%s: interrupted while waiting for -start-at %s", p.Name, p.StartAt.Format(time.RFC3339))
	}
	rec.Reset() // the run's statistics start with the load
	var reports onceWriter
	loadStart := time.Now()
	// finalRun wraps statistics that cover the load period with the plan's
	// and the run's metadata: at the end of the run, or on a second SIGINT.
	finalRun := func(sum runner.Summary, snap stats.Snapshot) runfile.Run {
		loadPeriod(&snap, sum)
		run := newRun(p, host, sum, snap)
		run.Meta.StartLate, run.Meta.Cancelled = late, filter.cancelled.Load()
		return run
	}
	in.onAbort(func() {
		// A second SIGINT: what was recorded, ungraded, and nothing waited for.
		run := finalRun(runner.Summary{Started: loadStart, Stopped: time.Now(), Reason: stopAborted}, rec.Snapshot())
		run.Verdict.Reasons = []string{p.Name + ": aborted by a second interrupt; the results are partial and not graded"}
		reports.write(func() {
			if err := writeReports(p.Outputs.Files, run); err != nil {
				fmt.Println(err)
			}
		})
	})
	stopProgress := progress(rec, p, r)
	stopHistory := streamHistory(t, p.Outputs.Files, rec)
	stopWatching := watch(ctx, host)
	sampler := saturation.StartSampler()
	sum, err := r.Run(ctx)
	rt := sampler.Stop()
	stopProgress()
	stopHistory()
	snap := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	run := finalRun(sum, snap)
	run.Generator = judgeGenerator(p, sum, lag, rt)
	run.Server = stopWatching(run.Stats, sum.Reason == runner.StopRequested)
	evaluate(t, p, sum, &run)
	ui.finish(run)
	reports.write(func() {
		if err := writeReports(p.Outputs.Files, run); err != nil {
			t.Error(err)
		}
	})
}

// loadPeriod sets the time the statistics cover: from the first spawn, or
// from a Reset stats during the run (the recorder's start then), to the stop.
// Wall-clock readings only: a re-render from the JSON run file then computes
// the same rates.
func loadPeriod(snap *stats.Snapshot, sum runner.Summary) {
	start := sum.Started
	if snap.Start.After(start) {
		start = snap.Start
	}
	end := sum.Stopped
	if end.Before(start) { // a reset during the grace
		end = start
	}
	snap.Start, snap.End = start.Round(0), end.Round(0)
}

// stopAborted is the stop reason of a run a second SIGINT ended.
const stopAborted runner.StopReason = "aborted by a second interrupt"

// waitStart waits for -start-at, or returns at once how late the process is;
// false when interrupted while waiting.
func waitStart(p plan, stop <-chan struct{}) (late time.Duration, ok bool) {
	if p.StartAt.IsZero() {
		return 0, true
	}
	wait := time.Until(p.StartAt)
	if wait <= 0 {
		fmt.Printf("%s: started %v after -start-at %s\n", p.Name, (-wait).Round(time.Millisecond), p.StartAt.Format(time.RFC3339Nano))
		return -wait, true
	}
	fmt.Printf("%s: waiting %v for -start-at %s\n", p.Name, wait.Round(time.Millisecond), p.StartAt.Format(time.RFC3339Nano))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return 0, true
	case <-stop:
		return 0, false
	}
}

// progress prints a line every -progress interval with -v, until stopped.
// The open model's line shows the iterations in flight and the achieved
// against the requested rate, where the user model's shows its users.
func progress(rec *stats.Recorder, p plan, r *runner.Runner) (stop func()) {
	every := flagProgress.orDefault(5 * time.Second)
	if !testing.Verbose() || every <= 0 {
		return func() {}
	}
	start := time.Now()
	return periodically(every, func() bool {
		s := rec.Snapshot()
		load := fmt.Sprintf("users %d", s.Users)
		if p.Model.Kind == modelArrivals {
			arrivals, iterations, dropped := r.Counts()
			secs := time.Since(start).Seconds()
			requested := p.Segment.Rate(p.Model.Rate) // a rate shape has no one rate: what fell due
			if requested == 0 {
				requested = float64(arrivals) / secs
			}
			load = fmt.Sprintf("in flight %d, %.1f iterations/s of %.1f/s requested, %d dropped",
				s.Users, float64(iterations)/secs, requested, dropped)
		}
		fmt.Printf("[%s/%s] %s, %.1f req/s, %.2f%% failures, p95 %s ms, %d requests\n",
			time.Since(start).Truncate(time.Second), p.Duration, load, recentRPS(s), 100*s.Total.FailRatio(),
			report.MS(s.Total.ServiceMS(95)), s.Total.Requests)
		return true
	})
}

// periodically calls fn every d until fn returns false or stop is called;
// stop returns once fn is no longer running.
func periodically(d time.Duration, fn func() bool) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if !fn() {
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// recentRPS is the request rate of the last few seconds of the time series.
func recentRPS(s stats.Snapshot) float64 {
	n := min(len(s.Series), 3)
	if n == 0 {
		return 0
	}
	var sum float64
	for _, pt := range s.Series[len(s.Series)-n:] {
		sum += pt.RPS
	}
	return sum / float64(n)
}

// subtestName shortens a metric name for a subtest: p95_ms → p95.
func subtestName(metric string) string {
	return strings.TrimSuffix(strings.TrimSuffix(metric, "_ms"), "_pct")
}

// evaluate prints the results and grades, fails the subtests of failing
// targets, alerts and regressions, and records all of it in run.
func evaluate(t *testing.T, p plan, sum runner.Summary, run *runfile.Run) {
	snap := run.Stats
	if err := report.WriteConsoleGraded(os.Stdout, snap, p.Model.Clock); err != nil {
		t.Errorf("writing the results table: %v", err)
	}
	if err := report.WriteServer(os.Stdout, run.Server); err != nil {
		t.Errorf("writing the server view: %v", err)
	}
	if n, total := rateLimited(snap); n > 0 && float64(n) >= 0.5*float64(total) {
		fmt.Printf("NOTE: the server is rate limiting the generator: %d of %d failures are 429 Too Many Requests. "+
			"X-Agent limits each client IP to 60 requests/min; disable its rate limiter for load tests or spread the load over several addresses.\n\n", n, total)
	}
	defer func() { run.Verdict.Pass = len(run.Verdict.Reasons) == 0 }()
	fail := func(msg string) {
		t.Error(msg)
		run.Verdict.Reasons = append(run.Verdict.Reasons, msg)
	}
	if sum.Interrupted() {
		fail(fmt.Sprintf("%s: run interrupted (%s) after %v of %v; the results are partial",
			p.Name, sum.Reason, sum.Stopped.Sub(sum.Started).Round(time.Second), p.Duration))
	}
	if n := run.Meta.Cancelled; n > 0 {
		fmt.Printf("interrupted: %d requests in flight were cancelled by the stop; they count neither as requests nor as failures\n", n)
	}
	fmt.Println(generatorLine(run.Generator, snap.Duration()))
	fmt.Println()
	if !judge.Grade(run, p.Table, p.Gate) {
		fail(fmt.Sprintf("%s: no request completed in %v; nothing to grade", p.Name, sum.Stopped.Sub(sum.Started).Round(time.Millisecond)))
		return
	}
	if err := report.WriteGrades(os.Stdout, run.Checks, run.Alerts); err != nil {
		t.Errorf("writing the grades: %v", err)
	}
	t.Run("targets", func(t *testing.T) {
		for _, c := range run.Checks {
			if !c.Gated {
				continue
			}
			name := subtestName(c.Metric)
			if c.Endpoint != "" {
				name = c.Endpoint + "/" + name
			}
			t.Run(name, func(t *testing.T) {
				if !c.Pass {
					t.Error(c.Message)
				}
			})
		}
	})
	t.Run("alerts", func(t *testing.T) {
		for _, a := range run.Alerts {
			t.Run(a.Name, func(t *testing.T) {
				if a.Fired {
					t.Error(a.Message)
				}
			})
		}
	})
	compareBaseline(t, p, run)
	t.Run("generator", func(t *testing.T) {
		if run.Generator.Saturated {
			t.Error(run.Generator.Advice)
		}
	})
	if run.Generator.Saturated {
		run.Verdict.Reasons = append(run.Verdict.Reasons, "inconclusive: the load generator fell behind: "+strings.Join(run.Generator.Reasons, "; "))
	}
}

// rateLimited counts failures answered 429 and all failures.
func rateLimited(s stats.Snapshot) (n, total int64) {
	for _, f := range s.Failures {
		total += f.Occurrences
		if f.Error == client.StatusFailure(http.StatusTooManyRequests) {
			n += f.Occurrences
		}
	}
	return n, total
}
