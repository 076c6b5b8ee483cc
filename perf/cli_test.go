package perf

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/runfile"
)

// These tests run this test binary as a user would run `go test ./perf -run …`,
// to check what a user sees: refused flags, failing targets, interruption.

// runSelf runs the test binary with args and returns its output and exit error.
func runSelf(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.short", "-test.v", "-test.count=1"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestCLIRefusesBadInputClearly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "targets.json")
	if err := os.WriteFile(broken, []byte(`{"metrics": {"p95_ms": {"target": 500, "acceptable": "fast"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"negative users", []string{"-users", "-5"}, []string{"-users -5: must be 1 to 1000000"}},
		{"zero users", []string{"-users", "0"}, []string{"-users 0: must be 1 to 1000000", "leave it out for the scenario's default"}},
		{"zero spawn rate", []string{"-spawn-rate", "0"}, []string{"-spawn-rate 0: must be a positive number of users per second"}},
		{"negative spawn rate", []string{"-spawn-rate", "-2"}, []string{"-spawn-rate -2: must be a positive number"}},
		{"zero rate", []string{"-rate", "0"}, []string{"-rate 0: must be a positive number of iterations per second"}},
		{"zero in flight", []string{"-max-inflight", "0"}, []string{"-max-inflight 0: must be 1 to 1000000"}},
		{"zero request timeout", []string{"-timeout-req", "0"}, []string{"-timeout-req 0: a request needs a positive timeout"}},
		{"negative grace", []string{"-grace", "-1s"}, []string{"invalid value \"-1s\" for flag -grace", "must not be negative"}},
		{"bad duration", []string{"-duration", "soon"}, []string{"invalid value \"soon\" for flag -duration"}},
		{"unknown class", []string{"-classes", "XAgentAPIUser,Nobody"}, []string{"-classes: unknown user class Nobody", "known: XAgentAPIUser, XAgentAuthenticatedUser, XAgentStressUser"}},
		{"bad host", []string{"-host", "localhost:8000"}, []string{"-host: host \"localhost:8000\": scheme must be http or https"}},
		{"broken targets", []string{"-targets", broken}, []string{"-targets:", broken, "acceptable"}},
		{"missing targets", []string{"-targets", filepath.Join(dir, "nope.json")}, []string{"-targets:", "nope.json"}},
		{"bad grade", []string{"-min-grade", "great"}, []string{"-min-grade:"}},
		{"unreachable host", []string{"-host", "http://" + closed}, []string{"is not reachable", "ConnectionRefusedError", "uvicorn xagent.api.rest:app"}},
		{"duration past timeout", []string{"-duration", "10m", "-test.timeout", "2m"}, []string{"-duration 10m0s plus -grace 10s does not fit", "-timeout (2m0s)", "raise -timeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			start := time.Now()
			out, err := runSelf(t, ctx, append([]string{"-test.run", "^TestLoadLight$"}, c.args...)...)
			if err == nil {
				t.Fatalf("the run passed; want a refusal. Output:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "Aggregated") {
				t.Errorf("bad input must be refused before any load is sent:\n%s", out)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("refusal took %v", d)
			}
		})
	}
}

func TestCLIFailingTargetFailsItsOwnSubtest(t *testing.T) {
	t.Parallel()
	// Targets no real server meets on latency, lenient on failures.
	strict := filepath.Join(t.TempDir(), "strict.json")
	err := os.WriteFile(strict, []byte(`{
  "metrics": {
    "median_ms": {"target": 1000, "acceptable": 2000, "poor": 5000},
    "p95_ms": {"target": 0.001, "acceptable": 0.002, "poor": 0.003},
    "failure_rate_pct": {"target": 50, "acceptable": 60, "poor": 70}
  }
}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-duration", "2s", "-targets", strict)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("want a failing exit, got %v:\n%s", err, out)
	}
	for _, want := range []string{
		"--- FAIL: TestLoadLight/targets/p95 ",
		"--- PASS: TestLoadLight/targets/median ",
		"--- PASS: TestLoadLight/targets/failure_rate ",
		"p95_ms = ", "Poor",
		"Aggregated", "Performance targets",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCLIInterruptStopsGracefullyAndReports(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "int")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.short", "-test.v", "-test.count=1",
		"-test.run", "^TestLoadLight$", "-duration", "60s", "-csv", prefix, "-json-file", prefix+".json")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The start line is printed once the run listens for SIGINT.
	if _, ok := out.waitForText(time.Minute, "TestLoadLight: 10 users"); !ok {
		t.Fatalf("the run did not start:\n%s", out.String())
	}
	// Interrupt once the history file has its first second: it is written as
	// the run goes. A file gives no notice of a write: this one is polled.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for rows(t, prefix+"_stats_history.csv") < 2 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no history row was flushed during the run:\n%s", out.String())
		}
	}
	stopped, err := interruptChild(t, cmd)
	text := out.String()
	if err == nil {
		t.Errorf("an interrupted run must not pass:\n%s", text)
	}
	for _, want := range []string{"interrupt: stopping the run, cancelling the requests in flight", "Aggregated", "run interrupted (stop requested)", "the results are partial"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// The process ends (results printed, reports written) well within a
	// second of SIGINT; 5 s allows for a loaded CI machine.
	t.Logf("SIGINT to exit: %v", stopped)
	if stopped > 5*time.Second {
		t.Errorf("stopping took %v", stopped)
	}
	// The reports of an interrupted run are written, and say it was interrupted.
	if rows(t, prefix+"_stats.csv") < 2 {
		t.Errorf("the interrupted run's stats.csv has no entries")
	}
	run, err := runfile.ReadFile(prefix + ".json")
	if err != nil {
		t.Fatalf("the interrupted run's JSON: %v", err)
	}
	if run.Verdict.Pass || run.Meta.Stopped != "stop requested" || !strings.Contains(strings.Join(run.Verdict.Reasons, "\n"), "interrupted") {
		t.Errorf("the run file must say the run was interrupted: %+v, stopped %q", run.Verdict, run.Meta.Stopped)
	}
}

// interruptChild sends the child one SIGINT and waits for it to exit:
// how long it took from the signal, and its exit error.
func interruptChild(t *testing.T, cmd *exec.Cmd) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	return time.Since(start), err
}

// rows counts the lines of a file, 0 when it does not exist yet.
func rows(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// misbehaving serves the fake with opts until the test ends and returns its URL.
func misbehaving(t *testing.T, opts fakeapi.Options) string {
	t.Helper()
	f, err := fakeapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(func() { f.Close(); srv.Close() })
	return srv.URL
}

func TestCLIMisbehavingServers(t *testing.T) {
	t.Parallel()
	rateLimited := fakeapi.DefaultOptions()
	rateLimited.RateLimit = true
	resets := fakeapi.DefaultOptions()
	resets.ResetRate = 0.3
	stalls := fakeapi.DefaultOptions()
	stalls.StallAt, stalls.StallFor = time.Second, time.Minute
	erroring := fakeapi.DefaultOptions()
	erroring.ErrorRate, erroring.ErrorStatus = 0.5, 503

	cases := []struct {
		name string
		opts fakeapi.Options
		args []string
		want []string
	}{
		{"rate limited", rateLimited, []string{"-classes", "XAgentStressUser", "-users", "20", "-spawn-rate", "100"},
			[]string{"Got status code 429", "the server is rate limiting the generator", "--- FAIL: TestLoadLight/targets/failure_rate"}},
		{"connection resets", resets, nil,
			[]string{"ConnectionResetError", "--- FAIL: TestLoadLight/targets/failure_rate", "Aggregated"}},
		{"stalled past the request timeout", stalls, []string{"-timeout-req", "500ms", "-duration", "3s", "-grace", "1s"},
			[]string{"Timeout: no complete response within the request timeout", "Aggregated", "--- FAIL: TestLoadLight/alerts/max_failure_rate_pct"}},
		{"5xx storm", erroring, nil,
			[]string{"Got status code 503", "--- FAIL: TestLoadLight/alerts/max_failure_rate_pct"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			host := misbehaving(t, c.opts)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			start := time.Now()
			out, err := runSelf(t, ctx, append([]string{"-test.run", "^TestLoadLight$", "-host", host}, c.args...)...)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("want a failing run, got %v:\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "panic:") {
				t.Errorf("the harness panicked:\n%s", out)
			}
			if d := time.Since(start); d > time.Minute {
				t.Errorf("the run took %v", d)
			}
		})
	}
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

func TestCLISelfSignedTLS(t *testing.T) {
	t.Parallel()
	f, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(func() { f.Close(); srv.Close() })

	out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", srv.URL)
	if err == nil || !strings.Contains(out, "SSLError: certificate verification failed (use -insecure to accept it)") {
		t.Errorf("a self-signed certificate must be refused clearly (err %v):\n%s", err, out)
	}
	out, err = runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", srv.URL, "-insecure", "-duration", "2s")
	if err != nil || !strings.Contains(out, "--- PASS: TestLoadLight/targets/p95") {
		t.Errorf("-insecure must accept it (err %v):\n%s", err, out)
	}
}
