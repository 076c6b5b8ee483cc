package perf

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/runfile"
)

// holdingServer serves the fake, but holds GET /status and GET /goals until
// the client gives up (or 30 s pass), as a stalled server does; held reports
// each request it starts holding. Once three are held, it holds everything
// (the monitor's /health, /ready and /metrics too).
func holdingServer(t *testing.T) (url string, held <-chan struct{}) {
	t.Helper()
	f, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 1024)
	var holding atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		load := r.Method == http.MethodGet && (r.URL.Path == "/status" || r.URL.Path == "/goals")
		if load || holding.Load() >= 3 {
			if load && holding.Add(1) <= 3 {
				ch <- struct{}{}
			}
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close(); f.Close() })
	return srv.URL, ch
}

// startInterruptible starts a 60 s light run against url and returns once
// three requests are held by the server, so SIGINT finds them in flight.
func startInterruptible(t *testing.T, url, prefix string, held <-chan struct{}) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.short", "-test.v", "-test.count=1",
		"-test.run", "^TestLoadLight$", "-host", url, "-duration", "60s", "-metrics-every", "1s",
		"-csv", prefix, "-json-file", prefix+".json")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(time.Minute)
	for range 3 {
		select {
		case <-held:
		case <-timeout:
			_ = cmd.Process.Kill()
			t.Fatalf("no request reached the server:\n%s", out.String())
		}
	}
	return cmd, out
}

// The first Ctrl-C does not wait for the server: the requests in flight are
// cancelled, counted apart from the server's failures, and every report is
// written at once. (Before, the run waited out -grace: 10 s here.)
func TestCLIInterruptDoesNotWaitForASlowServer(t *testing.T) {
	t.Parallel()
	url, held := holdingServer(t)
	prefix := filepath.Join(t.TempDir(), "slow")
	cmd, out := startInterruptible(t, url, prefix, held)
	stopped, err := interruptChild(t, cmd)
	text := out.String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("an interrupted run fails its test (exit 1), got %v:\n%s", err, text)
	}
	t.Logf("SIGINT to exit against a stalled server: %v", stopped)
	// The claim is 500 ms; 3 s holds on a loaded machine under -race and is
	// far below the 10 s grace the old stop waited.
	if stopped > 3*time.Second {
		t.Errorf("stopping took %v with requests in flight", stopped)
	}
	run, err := runfile.ReadFile(prefix + ".json")
	if err != nil {
		t.Fatalf("the interrupted run's JSON: %v\n%s", err, text)
	}
	if run.Meta.Stopped != "stop requested" {
		t.Errorf("stopped = %q", run.Meta.Stopped)
	}
	if run.Meta.Cancelled < 3 {
		t.Errorf("cancelled_in_flight = %d, want the 3 or more requests held", run.Meta.Cancelled)
	}
	for _, f := range run.Stats.Failures {
		if client.FailureKind(f.Error) == client.FailCancelled {
			t.Errorf("a request the stop cancelled is counted as a failure: %+v", f)
		}
	}
	if !strings.Contains(text, "requests in flight were cancelled by the stop") {
		t.Errorf("the console does not say requests were cancelled:\n%s", text)
	}
	for _, suffix := range []string{"_stats.csv", "_failures.csv", "_exceptions.csv", "_stats_history.csv"} {
		if rows(t, prefix+suffix) < 1 {
			t.Errorf("%s was not written", suffix)
		}
	}
}
