package harness

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/outfile"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/shape"
	"github.com/xagent/perfharness/internal/target"
)

// Load is a closed-model load: users started at a spawn rate, for a duration.
type Load struct {
	Users     int
	SpawnRate float64
	Duration  time.Duration
}

// Scenario is one load test with its defaults; the flags override them.
type Scenario struct {
	// Name names the run (the test's name).
	Name string
	// Load is the default load; Short the one -short runs (zero: the same).
	Load
	Short Load
	// Classes are the user classes -classes picks from; Only the names that
	// run by default (empty: all of Classes).
	Classes []scenario.Class
	Only    []string
	// Gate lists the metrics that fail the test (default judge.DefaultGate).
	Gate []string
	// Shape is the default load shape file; empty runs Load.
	Shape string
	// Max runs one path (-path) with no wait instead of Classes, like wrk.
	Max bool
}

// Env is what the caller's environment adds to the flags.
type Env struct {
	Short   bool      // -short: the scenario's Short load, shapes scaled down
	Verbose bool      // -v: progress lines
	Out     io.Writer // where the tables and notes go (default os.Stdout)
	// Deadline is when the caller must be done (the test binary's -timeout);
	// zero for none. Timeout names it in the error of a run that cannot fit.
	Deadline time.Time
	Timeout  string
}

// The load models.
const (
	ModelUsers    = "users"    // Locust's closed model: users loop task, wait, task
	ModelArrivals = "arrivals" // the open model: iterations start on a schedule
)

// shortShape scales a shape for -short: a twentieth of the time, a fifth of the users.
const (
	shortShapeTime  = 1.0 / 20
	shortShapeUsers = 1.0 / 5
)

// Model is how a plan generates load.
type Model struct {
	Kind        string
	Arrivals    runner.Arrivals // open model
	Rate        float64         // constant -rate; 0 with a rate shape
	MaxInFlight int
	Shape       runner.Shape // user model shape
	ShapeDesc   string       // the shape file and its stages, for the start line and the reports
	Clock       string       // the clock targets are graded on
	Thresholds  saturation.Thresholds
}

// Outputs are the report flags resolved for one run.
type Outputs struct {
	Files        report.Files
	EntryHistory bool
	Baseline     *runfile.Run // nil without -baseline
	BaselinePath string
	Limits       compare.Limits
}

// Plan is everything one run needs, validated: Run takes it as it is.
type Plan struct {
	Env
	Name      string
	Users     int
	SpawnRate float64
	Duration  time.Duration
	// UntilShapeEnds: the shape, not Duration, ends the run.
	UntilShapeEnds bool
	Grace          time.Duration
	Classes        []scenario.Class
	Seed           uint64
	Gate           target.Gate
	Table          target.Table
	Host           string // empty: the embedded fake
	Model          Model
	Engine         string // the HTTP engine, -client
	SharedPool     bool
	Insecure       bool
	Timeout        time.Duration // of one request
	Segment        runner.Segment
	StartAt        time.Time // zero: at once
	Outputs        Outputs
	Progress       time.Duration // 0: no progress lines
	HealthEvery    time.Duration // negative: off
	MetricsEvery   time.Duration // negative: off
	Web            string        // the web UI's address, empty: none
	// Interrupts, when set, stops the run (and aborts it) on SIGINT.
	Interrupts *Interrupts
	// UI, when set, is the web UI that watches and steers the run (TestLoadWeb's).
	UI *UI
}

// Plan applies env and the flags to a scenario's defaults and checks
// everything a run will need (report paths, the baseline, the target table)
// before any load is sent.
func (f *Flags) Plan(sc Scenario, env Env) (Plan, error) {
	if err := f.validate(); err != nil {
		return Plan{}, err
	}
	if env.Out == nil {
		env.Out = os.Stdout
	}
	p := Plan{Env: env, Name: sc.Name, Users: sc.Users, SpawnRate: sc.SpawnRate, Duration: sc.Duration, Host: f.Host,
		Insecure: f.Insecure, SharedPool: f.SharedPool, Web: f.Web, Timeout: f.TimeoutReq.Or(30 * time.Second)}
	if env.Short && sc.Short.Users > 0 {
		p.Users, p.SpawnRate, p.Duration = sc.Short.Users, sc.Short.SpawnRate, sc.Short.Duration
	}
	if f.Users > 0 {
		p.Users = f.Users
	}
	if f.SpawnRate > 0 {
		p.SpawnRate = f.SpawnRate
	}
	p.Duration = f.Duration.Or(p.Duration)
	p.Grace = f.Grace.Or(10 * time.Second)
	if env.Verbose {
		p.Progress = f.Progress.Or(5 * time.Second)
	}
	p.HealthEvery = orOff(f.HealthEvery.Or(defaultHealthEvery))
	p.MetricsEvery = orOff(f.MetricsEvery.Or(defaultMetricsEvery))
	if sc.Max {
		if f.Classes != "" {
			return Plan{}, fmt.Errorf("-classes: %s runs one path with no wait (-path), not the scenario's classes", sc.Name)
		}
		c, err := scenario.MaxClass(f.Path)
		if err != nil {
			return Plan{}, fmt.Errorf("-path: %w", err)
		}
		p.Classes = []scenario.Class{c}
	} else {
		names := sc.Only
		if f.Classes != "" {
			names = scenario.ParseNames(f.Classes)
		}
		classes, err := scenario.Select(sc.Classes, names)
		if err != nil {
			return Plan{}, fmt.Errorf("-classes: %w", err)
		}
		p.Classes = classes
	}
	p.Seed = f.Seed
	if p.Seed == 0 {
		p.Seed = uint64(time.Now().UnixNano())
	}
	minGrade, err := target.ParseGrade(f.MinGrade)
	if err != nil {
		return Plan{}, fmt.Errorf("-min-grade: %w", err)
	}
	gate := sc.Gate
	if gate == nil {
		gate = judge.DefaultGate
	}
	p.Gate = target.Gate{Metrics: gate, MinGrade: minGrade}
	if p.Table, err = f.loadTargets(env.Out); err != nil {
		return Plan{}, fmt.Errorf("-targets: %w", err)
	}
	if p.Host != "" {
		if _, err := client.ParseHost(p.Host); err != nil {
			return Plan{}, fmt.Errorf("-host: %w", err)
		}
	}
	if err := f.model(&p, sc); err != nil {
		return Plan{}, err
	}
	if p.Engine, err = client.ParseEngine(f.Client); err != nil {
		return Plan{}, fmt.Errorf("-client: %w", err)
	}
	if f.Segment != "" {
		if p.Segment, err = runner.ParseSegment(f.Segment); err != nil {
			return Plan{}, fmt.Errorf("-segment: %w", err)
		}
	}
	if p.Segment.Count > 1 && f.Seed == 0 && f.StartAt == "" {
		// All segments must draw the same schedule: one seed for all of them.
		return Plan{}, fmt.Errorf("-segment %s: give -seed N (the same in every segment) or -start-at, from which the segments derive one seed", f.Segment)
	}
	if f.StartAt != "" {
		if p.StartAt, err = time.Parse(time.RFC3339Nano, f.StartAt); err != nil {
			return Plan{}, fmt.Errorf("-start-at %q: want an RFC 3339 time such as 2026-11-28T10:00:00Z", f.StartAt)
		}
		if ahead := time.Until(p.StartAt); ahead > time.Hour {
			return Plan{}, fmt.Errorf("-start-at %s is %v away: more than an hour; check the date and the time zone", f.StartAt, ahead.Round(time.Second))
		}
		if p.Segment.Count > 1 && f.Seed == 0 {
			p.Seed = uint64(p.StartAt.UnixNano())
		}
	}
	if p.Outputs, err = f.outputs(p); err != nil {
		return Plan{}, err
	}
	if err := p.fits(); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// fits refuses a run that cannot finish before the caller's deadline.
func (p Plan) fits() error {
	if p.Deadline.IsZero() {
		return nil
	}
	need := p.Duration + p.Grace + 15*time.Second
	if left := time.Until(p.Deadline); need > left {
		timeout := "the test binary's -timeout"
		if p.Env.Timeout != "" {
			timeout += " (" + p.Env.Timeout + ")"
		}
		return fmt.Errorf("-duration %v plus -grace %v does not fit in %s: raise -timeout (e.g. -timeout %v, or -timeout 0 for none) or lower -duration",
			p.Duration, p.Grace, timeout, (need + time.Minute).Truncate(time.Minute))
	}
	return nil
}

// loadTargets reads -targets. A test binary run outside perf/ (go test -c) has
// no ../fixtures: with -targets left at its default it grades on the built-in
// copy of the same table.
func (f *Flags) loadTargets(out io.Writer) (target.Table, error) {
	t, builtIn, err := target.LoadOrDefault(f.Targets, DefaultTargets)
	if builtIn {
		fmt.Fprintf(out, "note: %s not found; grading on the built-in target table (the seed's values)\n", DefaultTargets)
	}
	return t, err
}

// model applies -rate, -max-inflight, -shape, -clock and -max-lag to p,
// whose Table and Gate must be set: the generator's time limits are fractions
// of the tightest latency bound they grade the run on.
func (f *Flags) model(p *Plan, sc Scenario) error {
	m := Model{Kind: ModelUsers, MaxInFlight: f.MaxInFlight, Thresholds: GeneratorThresholds(p.Table, p.Gate, f.MaxLag)}
	if sc.Max {
		// A max-throughput run uses all the CPU it gets by design: a busy
		// generator is its measurement, not a fault. Lag and drops still count.
		m.Thresholds.MaxCPUPct = 0
	}
	path := sc.Shape
	if f.Shape != "" {
		path = f.Shape
	}
	if f.Rate != 0 {
		if !(f.Rate > 0) || math.IsInf(f.Rate, 0) {
			return fmt.Errorf("-rate %v: must be a positive number of iterations per second", f.Rate)
		}
		if f.Users > 0 || f.SpawnRate > 0 {
			return fmt.Errorf("-rate runs the open model, where -users and -spawn-rate have no meaning; cap concurrency with -max-inflight")
		}
		if f.Shape != "" {
			return fmt.Errorf("-rate and -shape both set the load: give one")
		}
		m.Kind, m.Rate, m.Arrivals = ModelArrivals, f.Rate, runner.ConstantRate(f.Rate)
		path = ""
	}
	if path != "" {
		st, err := shape.Load(path)
		if err != nil {
			return fmt.Errorf("-shape: %w", err)
		}
		if p.Short {
			st = st.Scale(shortShapeTime, shortShapeUsers)
		}
		m.ShapeDesc = path + ": " + st.String()
		if !f.Duration.Given {
			p.Duration, p.UntilShapeEnds = st.Total(), true
		}
		first, _ := st.Tick(0)
		switch st.Kind {
		case "rate":
			if f.Users > 0 || f.SpawnRate > 0 {
				return fmt.Errorf("-shape %s is an arrival-rate shape, where -users and -spawn-rate have no meaning", path)
			}
			m.Kind, m.Arrivals = ModelArrivals, st
		default:
			m.Shape = st
			p.Users, p.SpawnRate = first.Users, first.SpawnRate
		}
	}
	switch f.Clock {
	case "", "auto":
		m.Clock = judge.ClockService
		if m.Kind == ModelArrivals || schedules(p.Classes) {
			m.Clock = judge.ClockResponse
		}
	case judge.ClockService, judge.ClockResponse:
		m.Clock = f.Clock
	default:
		return fmt.Errorf("-clock %q: want auto, service or response", f.Clock)
	}
	p.Model = m
	return nil
}

// GeneratorThresholds are the generator verdict's limits for a run graded on
// table and gate: the lag and scheduler limits are fractions of the tightest
// gated latency bound (saturation.ThresholdsFor); maxLag (-max-lag), when
// set, overrides the lag limit (0 turns the lag check off).
func GeneratorThresholds(table target.Table, gate target.Gate, maxLag Timespan) saturation.Thresholds {
	th := saturation.ThresholdsFor(saturation.TightestBound(table, gate))
	if maxLag.Given {
		th.MaxLagP99, th.LagBasis = maxLag.D, "-max-lag"
	}
	return th
}

// schedules reports whether any class's wait sets a schedule (pacing, throughput).
func schedules(classes []scenario.Class) bool {
	for _, c := range classes {
		if c.Wait.Schedules() {
			return true
		}
	}
	return false
}

// outputs expands the report paths, proves them writable and reads the
// baseline, all before any load is sent.
func (f *Flags) outputs(p Plan) (Outputs, error) {
	expand := func(path string) string {
		if path == "" {
			return ""
		}
		return outfile.Expand(path, p.Users, p.SpawnRate, p.Duration)
	}
	o := Outputs{
		Files: report.Files{CSV: expand(f.CSV), HTML: expand(f.HTML), JSON: expand(f.JSON),
			FailureTimes: f.CSVFailTimes},
		EntryHistory: f.CSVFull,
	}
	if f.CSVFull && o.Files.CSV == "" && o.Files.JSON == "" {
		return o, fmt.Errorf("-csv-full-history: needs -csv or -json-file to write the history to")
	}
	if err := o.Files.Check(); err != nil {
		return o, fmt.Errorf("report files: %w", err)
	}
	if f.MaxRegress != "" && f.Baseline == "" {
		return o, fmt.Errorf("-max-regression %q: needs -baseline", f.MaxRegress)
	}
	var err error
	if o.Limits, err = compare.ParseLimits(f.MaxRegress); err != nil {
		return o, fmt.Errorf("-max-regression %w", err)
	}
	if f.Baseline != "" {
		base, err := runfile.ReadFile(f.Baseline)
		if err != nil {
			return o, fmt.Errorf("-baseline: %w", err)
		}
		o.Baseline, o.BaselinePath = &base, f.Baseline
	}
	return o, nil
}

// describe is the start line's account of the load.
func (p Plan) describe() string {
	switch {
	case p.Model.Kind == ModelArrivals && p.Model.Rate > 0:
		return fmt.Sprintf("%v iterations/s (open model, at most %d in flight) for %v", p.Model.Rate, p.Model.MaxInFlight, p.Duration)
	case p.Model.Kind == ModelArrivals:
		return fmt.Sprintf("arrival-rate shape %s (open model, at most %d in flight)", p.Model.ShapeDesc, p.Model.MaxInFlight)
	case p.Model.Shape != nil:
		return "user shape " + p.Model.ShapeDesc
	}
	if p.Segment.Count > 1 {
		return fmt.Sprintf("segment %s: %d of %d users at %v/s for %v", p.Segment, p.Segment.Share(p.Users), p.Users, p.Segment.Rate(p.SpawnRate), p.Duration)
	}
	return fmt.Sprintf("%d users at %v/s for %v", p.Users, p.SpawnRate, p.Duration)
}
