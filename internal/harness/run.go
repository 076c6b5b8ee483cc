package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
)

// StartHint tells a user how to start the API the harness could not reach.
const StartHint = "start the API first (X-Agent: uvicorn xagent.api.rest:app --host 0.0.0.0 --port 8000), or leave -host empty to use the embedded fake"

// Result is a finished run: the run as its files record it, and the findings
// its verdict was judged on.
type Result struct {
	Run      runfile.Run
	Findings []judge.Finding
	// Problems are what went wrong around a run that still ran: a table or
	// a report that could not be written. The caller fails on them.
	Problems []string
}

// Run runs a plan: the load, the server watch, the grading and the reports.
// It returns an error when the run could not happen (an unreachable host, a
// bad class, interrupted before -start-at); a run that happened, passed or
// not, is in Result, its reports written.
func Run(ctx context.Context, p Plan) (Result, error) {
	host := p.Host
	if host == "" {
		url, stop, err := StartFake()
		if err != nil {
			return Result{}, err
		}
		defer stop()
		host = url
	}
	ui := p.UI
	if ui == nil && p.Web != "" {
		var err error
		if ui, err = ServeWeb(p.Web, false, "", nil, p.Out); err != nil {
			return Result{}, err
		}
		defer ui.Close()
	}
	defer ui.end()
	// Stop a little before the caller's deadline, so the report is written.
	if !p.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, p.Deadline.Add(-5*time.Second))
		defer cancel()
	}
	if err := CheckReachable(ctx, host, p.Insecure); err != nil {
		return Result{}, err
	}

	rec := stats.NewRecorder(recorderOptions(p)...)
	var interrupt <-chan struct{}
	if p.Interrupts != nil {
		interrupt = p.Interrupts.Stop
	}
	stop := ui.begin(p, host, rec, interrupt) // installed before the start line, which tells a watcher it may interrupt
	filter := &stopFilter{rec: rec, stop: stop}
	conns := p.Users // one connection a user; the open model needs one per iteration in flight
	if p.Model.Kind == ModelArrivals {
		conns = p.Model.MaxInFlight
	}
	cl, err := client.New(host, filter, client.Options{Timeout: p.Timeout, Insecure: p.Insecure,
		MaxIdlePerHost: conns, Engine: p.Engine, SharedPool: p.SharedPool})
	if err != nil {
		return Result{}, err
	}
	defer cl.CloseIdle()
	fmt.Fprintf(p.Out, "%s: %s against %s; classes %s; seed %d\n",
		p.Name, p.describe(), host, strings.Join(classNames(p), ", "), p.Seed)

	lag := saturation.NewLag()
	duration := p.Duration
	if p.UntilShapeEnds {
		duration = 0
	}
	r, err := runner.New(runner.Config{
		Classes: p.Classes, Users: p.Users, SpawnRate: p.SpawnRate, Duration: duration, Grace: p.Grace,
		Seed: p.Seed, Client: cl, Recorder: rec, Stop: stop,
		Arrivals: p.Model.Arrivals, MaxInFlight: p.Model.MaxInFlight, Shape: p.Model.Shape, Lag: lag, Segment: p.Segment,
	})
	if err != nil {
		return Result{}, err
	}
	ui.attach(r, lag)
	late, ok := waitStart(p, stop)
	if !ok {
		return Result{}, fmt.Errorf("%s: interrupted while waiting for -start-at %s", p.Name, p.StartAt.Format(time.RFC3339))
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
	p.Interrupts.onAbort(func() {
		// A second SIGINT: what was recorded, ungraded, and nothing waited for.
		run := finalRun(runner.Summary{Started: loadStart, Stopped: time.Now(), Reason: runner.StopAborted}, rec.Snapshot())
		run.Verdict.Reasons = []string{p.Name + ": aborted by a second interrupt; the results are partial and not graded"}
		reports.write(func() {
			if err := writeReports(p, run); err != nil {
				fmt.Fprintln(p.Out, err)
			}
		})
	})
	history, err := streamHistory(p, rec)
	if err != nil {
		return Result{}, err
	}
	stopProgress := progress(rec, p, r)
	stopWatching := watch(ctx, p, host)
	sampler := saturation.StartSampler()
	sum, err := r.Run(ctx)
	rt := sampler.Stop()
	stopProgress()
	history()
	snap := rec.Close()
	if err != nil {
		return Result{}, err
	}
	run := finalRun(sum, snap)
	run.Generator = judgeGenerator(p, sum, lag, rt)
	run.Server = stopWatching(run.Stats, sum.Reason == runner.StopRequested)
	res := evaluate(p, &run)
	ui.finish(run)
	reports.write(func() {
		if err := writeReports(p, run); err != nil {
			res.Problems = append(res.Problems, err.Error())
		}
	})
	res.Run = run
	return res, nil
}

// evaluate prints the results, compares them with the baseline and judges
// the run.
func evaluate(p Plan, run *runfile.Run) Result {
	var res Result
	problem := func(what string, err error) {
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("writing %s: %v", what, err))
		}
	}
	snap := run.Stats
	problem("the results table", report.WriteConsoleGraded(p.Out, snap, p.Model.Clock))
	problem("the server view", report.WriteServer(p.Out, run.Server))
	if n, total := rateLimited(snap); n > 0 && float64(n) >= 0.5*float64(total) {
		fmt.Fprintf(p.Out, "NOTE: the server is rate limiting the generator: %d of %d failures are 429 Too Many Requests. "+
			"X-Agent limits each client IP to 60 requests/min; disable its rate limiter for load tests or spread the load over several addresses.\n\n", n, total)
	}
	if n := run.Meta.Cancelled; n > 0 {
		fmt.Fprintf(p.Out, "interrupted: %d requests in flight were cancelled by the stop; they count neither as requests nor as failures\n", n)
	}
	fmt.Fprintln(p.Out, generatorLine(run.Generator, snap.Duration()))
	fmt.Fprintln(p.Out)
	base := p.Outputs.Baseline
	if base != nil && snap.Total.Requests > 0 {
		cmp := compare.Compare(base.Stats, snap, p.Outputs.Limits)
		cmp.Baseline = filepath.Base(p.Outputs.BaselinePath)
		run.Baseline = &cmp
	}
	res.Findings = judge.Judge(run, p.Table, p.Gate)
	if len(run.Checks) > 0 {
		problem("the grades", report.WriteGrades(p.Out, run.Checks, run.Alerts))
	}
	if run.Baseline != nil {
		if base.Meta.Scenario != run.Meta.Scenario {
			fmt.Fprintf(p.Out, "note: the baseline ran %s, this run is %s\n", base.Meta.Scenario, run.Meta.Scenario)
		}
		problem("the comparison", report.WriteComparison(p.Out, *run.Baseline))
	}
	return res
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

// StartFake serves the in-process X-Agent fake until stop is called.
func StartFake() (url string, stop func(), err error) {
	fake, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		return "", nil, fmt.Errorf("embedded fake: %w", err)
	}
	srv := httptest.NewServer(fake)
	return srv.URL, func() { srv.Close(); fake.Close() }, nil
}

// CheckReachable fails fast when nothing answers at host. Any HTTP answer
// will do, and so will a connection the server resets: it is there, and the
// run records how it misbehaves.
func CheckReachable(ctx context.Context, host string, insecure bool) error {
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
	return fmt.Errorf("host %s is not reachable: %s; %s", host, resp.Failure, StartHint)
}

type discard struct{}

func (discard) Record(stats.Result) {}

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

// waitStart waits for -start-at, or returns at once how late the process is;
// false when interrupted while waiting.
func waitStart(p Plan, stop <-chan struct{}) (late time.Duration, ok bool) {
	if p.StartAt.IsZero() {
		return 0, true
	}
	wait := time.Until(p.StartAt)
	if wait <= 0 {
		fmt.Fprintf(p.Out, "%s: started %v after -start-at %s\n", p.Name, (-wait).Round(time.Millisecond), p.StartAt.Format(time.RFC3339Nano))
		return -wait, true
	}
	fmt.Fprintf(p.Out, "%s: waiting %v for -start-at %s\n", p.Name, wait.Round(time.Millisecond), p.StartAt.Format(time.RFC3339Nano))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return 0, true
	case <-stop:
		return 0, false
	}
}

// progress prints a line every p.Progress until stopped. The open model's
// line shows the iterations in flight and the achieved against the requested
// rate, where the user model's shows its users.
func progress(rec *stats.Recorder, p Plan, r *runner.Runner) (stop func()) {
	if p.Progress <= 0 {
		return func() {}
	}
	start := time.Now()
	return periodically(p.Progress, func() bool {
		s := rec.Snapshot()
		load := fmt.Sprintf("users %d", s.Users)
		if p.Model.Kind == ModelArrivals {
			arrivals, iterations, dropped := r.Counts()
			secs := time.Since(start).Seconds()
			requested := p.Segment.Rate(p.Model.Rate) // a rate shape has no one rate: what fell due
			if requested == 0 {
				requested = float64(arrivals) / secs
			}
			load = fmt.Sprintf("in flight %d, %.1f iterations/s of %.1f/s requested, %d dropped",
				s.Users, float64(iterations)/secs, requested, dropped)
		}
		fmt.Fprintf(p.Out, "[%s/%s] %s, %.1f req/s, %.2f%% failures, p95 %s ms, %d requests\n",
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

// recorderOptions are the recorder's options for a plan.
func recorderOptions(p Plan) []stats.Option {
	if p.Outputs.EntryHistory {
		return []stats.Option{stats.WithEntryHistory()}
	}
	return nil
}

// streamHistory appends the run's history CSV every second until stopped, so
// a killed run keeps what it had.
func streamHistory(p Plan, rec *stats.Recorder) (stop func(), err error) {
	h, err := p.Outputs.Files.StartHistory()
	if err != nil {
		return nil, err
	}
	if h == nil {
		return func() {}, nil
	}
	stopAppending := periodically(time.Second, func() bool {
		if err := h.Append(rec.Ticks(h.Written())); err != nil {
			fmt.Fprintf(p.Out, "warning: %v; the history is written in full at the end\n", err)
			return false
		}
		return true
	})
	return func() {
		stopAppending()
		if err := h.Close(); err != nil {
			fmt.Fprintf(p.Out, "warning: %v\n", err)
		}
	}, nil
}

func classNames(p Plan) []string {
	names := make([]string, len(p.Classes))
	for i, c := range p.Classes {
		names[i] = c.Name
	}
	return names
}

// newRun wraps a run's statistics with the plan's metadata.
func newRun(p Plan, host string, sum runner.Summary, snap stats.Snapshot) runfile.Run {
	return runfile.Run{
		Meta: runfile.Meta{
			Scenario: p.Name, Host: host, Fake: p.Host == "", Users: p.Segment.Share(p.Users), SpawnRate: p.Segment.Rate(p.SpawnRate),
			Duration: p.Duration, Start: snap.Start, End: snap.End, Classes: classNames(p), Seed: p.Seed,
			Stopped: string(sum.Reason), Harness: runfile.HarnessVersion, GoVersion: runtime.Version(),
			EntryHistory: p.Outputs.EntryHistory, Segment: p.Segment.String(), Gate: p.Gate.Metrics, MinGrade: p.Gate.MinGrade.String(),
		},
		Stats: snap,
	}
}

// writeReports writes the report files and lists them with their absolute
// paths (go test runs in perf/, so relative paths surprise).
func writeReports(p Plan, run runfile.Run) error {
	files := p.Outputs.Files
	paths := files.Paths()
	if len(paths) == 0 {
		return nil
	}
	err := files.Write(run)
	abs := make([]string, len(paths))
	for i, path := range paths {
		abs[i], _ = filepath.Abs(path)
	}
	fmt.Fprintf(p.Out, "reports: %s\n", strings.Join(abs, ", "))
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}
