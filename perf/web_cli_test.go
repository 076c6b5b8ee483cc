package perf

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/runfile"
)

// startWeb starts the test binary with args and -web on a free loopback port
// and returns the UI's base URL, the process and its output.
func startWeb(t *testing.T, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], append([]string{"-test.short", "-test.v", "-test.count=1", "-web", "127.0.0.1:0"}, args...)...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	re := regexp.MustCompile(`web UI: (http://127\.0\.0\.1:\d+)/`)
	text, ok := out.waitFor(time.Minute, re.MatchString)
	if !ok {
		t.Fatalf("the web UI did not start:\n%s", text)
	}
	return re.FindStringSubmatch(text)[1], cmd, out
}

// uiState is the part of /api/state the tests read.
type uiState struct {
	Status struct {
		State       string   `json:"state"`
		Users       int      `json:"users"`
		TargetUsers int      `json:"target_users"`
		Idle        bool     `json:"idle"`
		Classes     []string `json:"classes"`
	} `json:"status"`
	Run *struct {
		Generator struct {
			LagMaxMS float64 `json:"lag_max_ms"`
		} `json:"generator"`
		Entries []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"entries"`
	} `json:"run"`
}

func (s uiState) requests() int64 {
	if s.Run == nil {
		return 0
	}
	var n int64
	for _, e := range s.Run.Entries {
		if e.Name == "Aggregated" {
			n = e.Requests
		}
	}
	return n
}

func getState(t *testing.T, base string) uiState {
	t.Helper()
	resp, err := http.Get(base + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s uiState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("/api/state: %v", err)
	}
	return s
}

// post sends a control request as the page does, from origin (empty: none).
func post(t *testing.T, base, path, body, origin string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCLIWebUISteersARun(t *testing.T) {
	t.Parallel()
	base, cmd, out := startWeb(t, "-test.run", "^TestLoadLight$", "-duration", "60s", "-users", "2", "-spawn-rate", "20")
	waitFor(t, "requests in /api/state", func() bool { return getState(t, base).requests() > 0 })

	if code := post(t, base, "/api/scale", `{"users": 5, "spawn_rate": 50}`, "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("a cross-origin scale got %d, want 403", code)
	}
	if code := post(t, base, "/api/scale", `{"users": 5, "spawn_rate": 50}`, base); code != http.StatusOK {
		t.Fatalf("scale: %d", code)
	}
	waitFor(t, "5 users", func() bool { s := getState(t, base); return s.Status.Users == 5 && s.Status.TargetUsers == 5 })
	// The live panel's start lag is the final verdict's computation on the
	// starts so far, not a zero.
	waitFor(t, "a start lag in /api/state", func() bool { s := getState(t, base); return s.Run != nil && s.Run.Generator.LagMaxMS > 0 })
	if got := getState(t, base).Status.Classes; strings.Join(got, ",") != "XAgentAPIUser,XAgentAuthenticatedUser,XAgentStressUser" {
		t.Errorf("/api/state classes = %q, want the classes that run", got)
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(metrics.String(), "perfharness_users 5") {
		t.Errorf("/metrics lacks perfharness_users 5:\n%.2000s", metrics.String())
	}
	resp, err = http.Get(base + "/reports/run.json")
	if err != nil {
		t.Fatal(err)
	}
	run, err := runfile.Decode(resp.Body)
	resp.Body.Close()
	if err != nil || run.Stats.Total.Requests == 0 {
		t.Errorf("/reports/run.json: %v, %d requests", err, run.Stats.Total.Requests)
	}

	if code := post(t, base, "/api/stop", `{}`, base); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	err = cmd.Wait()
	if err == nil || !strings.Contains(out.String(), "run interrupted (stop requested)") {
		t.Errorf("a run stopped from the page ends as interrupted (err %v):\n%s", err, out.String())
	}
}

func TestCLIWebUIIdleMode(t *testing.T) {
	t.Parallel()
	base, cmd, out := startWeb(t, "-test.run", "^TestLoadWeb$")
	s := getState(t, base)
	if s.Status.State != "idle" || !s.Status.Idle || s.Run != nil {
		t.Fatalf("idle mode starts with no load: %+v", s)
	}
	if code := post(t, base, "/api/start", `{"users": 3, "spawn_rate": 30, "classes": ["XAgentStressUser"], "duration": "2s"}`, base); code != http.StatusOK {
		t.Fatalf("start: %d\n%s", code, out.String())
	}
	waitFor(t, "the swarm to end", func() bool { s := getState(t, base); return s.Status.State == "stopped" && s.requests() > 0 })
	if code := post(t, base, "/api/quit", `{}`, base); code != http.StatusOK {
		t.Fatalf("quit: %d", code)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("idle mode must end cleanly after quit: %v\n%s", err, out.String())
	}
	for _, want := range []string{"--- PASS: TestLoadWeb/swarm1", "3 users at 30/s for 2s", "XAgentStressUser"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
