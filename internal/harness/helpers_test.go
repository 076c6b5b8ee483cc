package harness

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/xagent"
)

// These helpers run the harness in process, as perf.Run does, with the
// command line a user would type: the tests then check the Result (the run,
// its findings) and what was printed, without a child process.

// xagentScenario is TestLoadLight's scenario on X-Agent's classes, with a
// load for tests: 5 users at 50/s for 1 s.
func xagentScenario() Scenario {
	return Scenario{Name: "TestLoadLight", Load: Load{Users: 5, SpawnRate: 50, Duration: time.Second}, Classes: xagent.Classes()}
}

// plan parses args as the command line and plans sc with -short's env,
// printing to out.
func plan(t *testing.T, sc Scenario, out io.Writer, args ...string) (Plan, error) {
	t.Helper()
	fs := flag.NewFlagSet("perf.test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := Register(fs)
	if err := fs.Parse(args); err != nil {
		return Plan{}, err
	}
	return f.Plan(sc, Env{Short: true, Out: out})
}

// runArgs plans sc with args as the command line and runs it; out is what it
// printed. err is a planning or run error (a bad flag, an unreachable host).
func runArgs(t *testing.T, ctx context.Context, sc Scenario, args ...string) (Result, string, error) {
	t.Helper()
	var out syncBuffer
	res, err := runArgsTo(t, ctx, &out, sc, args...)
	return res, out.String(), err
}

// runArgsTo is runArgs printing to out, which a test may watch while it runs.
func runArgsTo(t *testing.T, ctx context.Context, out io.Writer, sc Scenario, args ...string) (Result, error) {
	t.Helper()
	p, err := plan(t, sc, out, args...)
	if err != nil {
		return Result{}, err
	}
	return Run(ctx, p)
}

// failed lists the failing findings as group/name: message.
func failed(res Result) []string {
	var fs []string
	for _, f := range res.Findings {
		if !f.Pass {
			fs = append(fs, f.Group+"/"+f.Name+": "+f.Message)
		}
	}
	return fs
}

// finding is res's finding of group and name, and whether there is one.
func finding(res Result, group, name string) (judge.Finding, bool) {
	for _, f := range res.Findings {
		if f.Group == group && f.Name == name {
			return f, true
		}
	}
	return judge.Finding{}, false
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test
// reading, which a test can wait on for what the process prints.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed by the next write; nil until someone waits
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor blocks until the output so far satisfies ok, woken by each write,
// and returns it; false when timeout passed first.
func (b *syncBuffer) waitFor(timeout time.Duration, ok func(out string) bool) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		out := b.buf.String()
		if ok(out) {
			b.mu.Unlock()
			return out, true
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return b.String(), false
		}
	}
}

// waitForText is waitFor of a substring.
func (b *syncBuffer) waitForText(timeout time.Duration, text string) (string, bool) {
	return b.waitFor(timeout, func(out string) bool { return strings.Contains(out, text) })
}

func TestRunInProcess(t *testing.T) {
	t.Parallel()
	res, out, err := runArgs(t, t.Context(), xagentScenario(), "-seed", "7")
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Stats.Total.Requests == 0 || !res.Run.Verdict.Pass {
		t.Fatalf("the run made %d requests, verdict %+v:\n%s", res.Run.Stats.Total.Requests, res.Run.Verdict, out)
	}
	if f, ok := finding(res, judge.GroupTargets, "median"); !ok || !f.Pass {
		t.Errorf("no passing median finding: %+v", res.Findings)
	}
	for _, want := range []string{"TestLoadLight: 5 users at 50/s for 1s against http://127.0.0.1:", "seed 7", "Performance targets"} {
		if !strings.Contains(out, want) {
			t.Errorf("the console lacks %q:\n%s", want, out)
		}
	}
	if _, err := plan(t, xagentScenario(), io.Discard, "-users", "0"); err == nil || !strings.Contains(err.Error(), "-users 0: must be 1 to 1000000") {
		t.Errorf("-users 0: %v", err)
	}
}
