package perf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/xagent"
)

// flagSoak turns TestSoak on: go test ./perf -run TestSoak -soak 2m -v -count=1
// (add -timeout 0 beyond a few minutes).
var flagSoak = flag.Duration("soak", 0, "run TestSoak for this long (0: skip)")

// Peak RSS bounds of the 10,000-user run (the child test binary, which holds the
// generator and the embedded fake: 10,000 users and up to 10,000 connections on
// each side). Measured on a 2-core, 24 GB Linux box, Go 1.26: about 340 MB
// without -race and about 1 GB with it (the race detector's shadow memory); the
// bounds are twice that.
const (
	tenKRSSBound     = 700 << 20
	tenKRSSBoundRace = 2 << 30
)

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// childPeakRSS is a finished process's peak resident set size in bytes, where the
// platform reports it (Linux in KB, macOS in bytes). Read by reflection so this
// file builds where syscall.Rusage does not exist.
func childPeakRSS(ps *os.ProcessState) (int64, bool) {
	v := reflect.ValueOf(ps.SysUsage())
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, false
	}
	f := v.Elem().FieldByName("Maxrss")
	if !f.IsValid() || !f.CanInt() {
		return 0, false
	}
	switch runtime.GOOS {
	case "linux":
		return f.Int() << 10, true
	case "darwin":
		return f.Int(), true
	}
	return 0, false
}

// openFilesLimit is the hard limit on open files (Go raises the soft limit to
// it at start), or 0 when unknown.
func openFilesLimit() int {
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				n, _ := strconv.Atoi(f[1]) // "unlimited" reads as 0: unknown
				return n
			}
		}
	}
	return 0
}

// allowedFail are the subtests a 10,000-user run on a small machine may fail:
// its numbers are the generator's (saturated), and a -race build is slow.
var allowedFail = regexp.MustCompile(`^--- FAIL: TestLoadLight(/(generator|targets|alerts)(/\S+)?)? \(`)

// TestCLITenThousandUsers starts 10,000 users at once as a user would, in a
// child test binary against the embedded fake, and checks that the run
// completes and reports and that the child's peak RSS stays bounded. On this
// 2-core box it takes about 3.5 s (7 s under -race). The generator cannot keep
// 10,000 users on schedule on 2 cores, so the generator, target and alert
// subtests may fail; nothing else may.
func TestCLITenThousandUsers(t *testing.T) {
	// Not parallel: it takes the machine's CPUs and a gigabyte under -race, and
	// would skew the timing of the tests running beside it.
	users := 10_000
	// Each user may hold a connection, and the embedded fake holds its end too
	// (in practice fewer: users waiting share idle connections, so 20,000 does).
	if limit := openFilesLimit(); limit > 0 && limit < 2*users {
		users = (limit - 512) / 2
		if users < 1000 {
			t.Skipf("the open-files limit (%d) allows only %d users", limit, users)
		}
		t.Logf("the open-files limit (%d) allows %d users; running those", limit, users)
	}
	n := strconv.Itoa(users)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.short", "-test.v", "-test.count=1", "-test.timeout", "2m",
		"-test.run", "^TestLoadLight$", "-users", n, "-spawn-rate", n, "-duration", "3s",
		"-classes", xagent.StressUser, "-progress", "0")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	out := buf.String()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("the run did not run: %v\n%s", err, out)
	}
	if strings.Contains(out, "panic:") || strings.Contains(out, "fatal error:") {
		t.Fatalf("the harness crashed:\n%s", out)
	}
	for _, want := range []string{"TestLoadLight: " + n + " users at ", "Aggregated"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "--- FAIL:") && !allowedFail.MatchString(line) {
			t.Errorf("unexpected failure %q:\n%s", line, out)
		}
	}
	if took > 60*time.Second {
		t.Errorf("the run took %v", took)
	}
	rss, ok := childPeakRSS(cmd.ProcessState)
	if !ok {
		t.Logf("%d users in %v; peak RSS not reported on %s", users, took.Round(time.Millisecond), runtime.GOOS)
		return
	}
	bound, build := int64(tenKRSSBound), "no -race"
	if raceEnabled() {
		bound, build = tenKRSSBoundRace, "-race"
	}
	t.Logf("%d users in %v: child peak RSS %d MB (bound %d MB, %s)", users, took.Round(time.Millisecond), rss>>20, bound>>20, build)
	if rss > bound {
		t.Errorf("the %d-user run's peak RSS is %d MB, above the %d MB bound (%s)", users, rss>>20, bound>>20, build)
	}
}

// soakSample is one reading of the soak's memory.
type soakSample struct {
	at         time.Duration
	rss, heap  uint64 // bytes
	goroutines int
	requests   int64
}

// rssBytes is this process's resident set size, from /proc/self/status.
func rssBytes() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("/proc/self/status has no VmRSS line")
}

// soakInterval is the sampling interval of a soak of duration d: 10 s, or a
// twelfth of d when that is shorter, but at least 1 s.
func soakInterval(d time.Duration) time.Duration {
	return min(10*time.Second, max(d/12, time.Second))
}

// TestSoak runs the light scenario's classes (all three) with 50 users for
// -soak against the embedded fake, in this process, sampling its RSS, the Go
// heap in use and the goroutine count, and fails on growth that looks like a
// leak. The rule, against the second sample (the first is taken while the
// users, connection pools and histograms are still warming up):
//
//   - RSS at the end may exceed it by at most 50 % + 20 MB;
//   - goroutines at the end may exceed it by at most 50 % + 100.
//
// The fake's goal store is capped at 1,000 goals (X-Agent's default is
// 100,000), so the fake reaches its steady state within the first minute and
// growth is the harness's. Everything else the harness keeps grows by design
// only with the per-second time series (a few hundred bytes a second).
func TestSoak(t *testing.T) {
	d := *flagSoak
	if d == 0 {
		t.Skip("a soak test; run it with -soak DURATION, e.g. go test ./perf -run TestSoak -soak 2m -v -count=1")
	}
	every := soakInterval(d)
	if d < 3*every {
		t.Fatalf("-soak %v: too short for three samples; give at least 3s", d)
	}
	const grace = 5 * time.Second
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) < d+grace+30*time.Second {
		t.Fatalf("-soak %v does not fit in the test binary's -timeout: raise -timeout (or -timeout 0)", d)
	}
	if _, err := rssBytes(); err != nil {
		t.Skipf("no RSS reading on this system: %v", err)
	}

	opts := fakeapi.DefaultOptions()
	opts.MaxGoals = 1000
	fake, err := fakeapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	rec := stats.NewRecorder()
	cl, err := client.New(srv.URL, rec, client.Options{Timeout: 10 * time.Second, MaxIdlePerHost: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.CloseIdle()

	type result struct {
		sum runner.Summary
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		sum, err := runner.Run(t.Context(), runner.Config{
			Classes: xagent.Classes(), Users: 50, SpawnRate: 10, Duration: d, Grace: grace,
			Seed: 1, Client: cl, Recorder: rec,
		})
		done <- result{sum, err}
	}()

	sample := func() soakSample {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, err := rssBytes()
		if err != nil {
			t.Fatal(err)
		}
		return soakSample{at: time.Since(start), rss: rss, heap: ms.HeapInuse,
			goroutines: runtime.NumGoroutine(), requests: rec.Snapshot().Total.Requests}
	}
	var samples []soakSample
	tick := time.NewTicker(every)
	var res result
wait:
	for {
		select {
		case <-tick.C:
			samples = append(samples, sample())
		case res = <-done:
			break wait
		}
	}
	tick.Stop()
	end := sample() // the users have stopped; what the run left behind
	snap := rec.Close()
	if res.err != nil {
		t.Fatal(res.err)
	}

	var table strings.Builder
	fmt.Fprintf(&table, "soak: 50 users, %v, sampled every %v\n%8s %8s %8s %10s %10s\n", d, every, "t", "RSS MB", "heap MB", "goroutines", "requests")
	row := func(label string, s soakSample) {
		fmt.Fprintf(&table, "%8s %8.1f %8.1f %10d %10d\n", label, mb(s.rss), mb(s.heap), s.goroutines, s.requests)
	}
	for _, s := range samples {
		row(s.at.Round(time.Second).String(), s)
	}
	row("end", end)
	t.Log("\n" + table.String())

	if snap.Total.Requests == 0 || snap.Total.Failures > 0 {
		t.Errorf("the soak's load: %d requests, %d failures; want requests and no failures against the fake", snap.Total.Requests, snap.Total.Failures)
	}
	if res.sum.Interrupted() {
		t.Errorf("the soak stopped early: %s", res.sum.Reason)
	}
	if len(samples) < 2 {
		t.Fatalf("only %d samples", len(samples))
	}
	ref := samples[1]
	if limit := ref.rss + ref.rss/2 + 20<<20; end.rss > limit {
		t.Errorf("RSS grew from %.1f MB (at %v) to %.1f MB at the end: above the %.1f MB limit (+50%% + 20 MB); a leak?",
			mb(ref.rss), ref.at.Round(time.Second), mb(end.rss), mb(limit))
	}
	last := samples[len(samples)-1]
	if limit := ref.goroutines + ref.goroutines/2 + 100; last.goroutines > limit {
		t.Errorf("goroutines grew from %d (at %v) to %d at %v: above %d (+50%% + 100); a leak?",
			ref.goroutines, ref.at.Round(time.Second), last.goroutines, last.at.Round(time.Second), limit)
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
