package perf

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/harness"
	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/scenario"
)

// flags are the harness's flags (-users, -host, -duration, ...), defined on
// the test binary's command line when a test package imports perf.
var flags = harness.Register(flag.CommandLine)

// The scenario API: a load test describes its user classes with these and
// calls Run. See the README, "Writing your own scenario".
type (
	// Scenario is one load test: its default load, its classes, its gate.
	Scenario = harness.Scenario
	// Load is a closed-model load: users, spawn rate, duration.
	Load = harness.Load
	// Class is a kind of user, like a Locust User class: a weight, a wait,
	// weighted tasks, and hooks run when a user starts and stops.
	Class = scenario.Class
	// Task is one weighted action of a class.
	Task = scenario.Task
	// Hook runs on a user's start or stop (e.g. a login).
	Hook = scenario.Hook
	// User is one simulated user: its session, random source and state.
	User = scenario.User
	// Wait is the time a user waits between tasks.
	Wait = scenario.Wait
	// Request is one named HTTP request with its success rules.
	Request = client.Request
	// Response is what a task learns of one request.
	Response = client.Response
	// Result is a finished run and the findings it was judged on.
	Result = harness.Result
)

// The waits between a user's tasks, as Locust's wait_time functions.
var (
	Between            = scenario.Between            // uniformly random in [min, max]
	Constant           = scenario.Constant           // always the same
	ConstantPacing     = scenario.ConstantPacing     // a task starts every period, however long the last took
	ConstantThroughput = scenario.ConstantThroughput // tasks per second per user
)

// Run runs sc as the load test t with the flags the user passed: the load,
// the server watch, the reports; it fails t on every failing target, alert,
// regression and an inconclusive generator, each in its own subtest
// (targets/…, alerts/…, baseline/…, generator). Without -host it runs
// against the embedded fake of the X-Agent API. sc.Name defaults to t's name.
func Run(t *testing.T, sc Scenario) Result {
	t.Helper()
	if sc.Name == "" {
		sc.Name = t.Name()
	}
	p, err := flags.Plan(sc, env(t))
	if err != nil {
		t.Fatal(err)
	}
	return runPlan(t, p)
}

// env is what the test adds to the flags: -short, -v and its deadline.
func env(t testing.TB) harness.Env {
	e := harness.Env{Short: testing.Short(), Verbose: testing.Verbose(), Out: os.Stdout}
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }).Deadline(); ok {
		e.Deadline = d
		if f := flag.Lookup("test.timeout"); f != nil {
			e.Timeout = f.Value.String()
		}
	}
	return e
}

// runPlan runs p with SIGINT as its stop and reports its findings as subtests.
func runPlan(t *testing.T, p harness.Plan) Result {
	t.Helper()
	in := harness.Interrupt(p.Out)
	defer in.Close()
	p.Interrupts = in
	res, err := harness.Run(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	Report(t, res)
	return res
}

// Report fails t on res's failing findings: a run-level finding (interrupted,
// nothing graded) on t itself, the others in a subtest per group and, within
// targets, alerts and baseline, one per finding.
func Report(t *testing.T, res Result) {
	t.Helper()
	for _, p := range res.Problems {
		t.Error(p)
	}
	var groups []string
	byGroup := map[string][]judge.Finding{}
	for _, f := range res.Findings {
		if f.Group == judge.GroupRun {
			if !f.Pass {
				t.Error(f.Message)
			}
			continue
		}
		if byGroup[f.Group] == nil {
			groups = append(groups, f.Group)
		}
		byGroup[f.Group] = append(byGroup[f.Group], f)
	}
	for _, g := range groups {
		t.Run(g, func(t *testing.T) {
			for _, f := range byGroup[g] {
				if f.Name == "" {
					if !f.Pass {
						t.Error(f.Message)
					}
					continue
				}
				t.Run(f.Name, func(t *testing.T) {
					if !f.Pass {
						t.Error(f.Message)
					}
				})
			}
		})
	}
}
