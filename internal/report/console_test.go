package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a deterministic snapshot: known latencies, failures and an exception.
func sample() stats.Snapshot {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	rec := stats.NewRecorder(stats.WithClock(func() time.Time { return t0 }), stats.WithInterval(time.Hour))
	for i := range 100 {
		lat := time.Duration(10+i) * time.Millisecond
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: t0, Latency: lat, Bytes: 34, Status: 200})
		if i%10 == 0 {
			rec.Record(stats.Result{Method: "GET", Name: "GET /health", Start: t0, Latency: lat * 2, Bytes: 200, Status: 503, Error: "Got status code 503"})
		}
	}
	rec.Record(stats.Result{Method: "POST", Name: "POST /goals", Start: t0, Intended: t0.Add(-time.Second), Latency: 1500 * time.Microsecond, Status: 200})
	rec.Exception("XAgentAPIUser.create_goal: panic: boom", "trace")
	s := rec.Close()
	s.Start, s.End = t0, t0.Add(10*time.Second)
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/report -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestConsoleGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteConsole(&buf, sample()))
	golden(t, "console.txt", buf.Bytes())
	out := buf.String()
	// The layout of the seed's examples, and the facts that matter.
	assert.Contains(t, out, "# requests")
	assert.Contains(t, out, "Aggregated")
	assert.Contains(t, out, "10 (9.01%)", "aggregate failures with their percentage")
	assert.Contains(t, out, "Got status code 503")
	assert.Contains(t, out, "from the intended start", "the second clock is shown when it differs")
}

func TestGradesTable(t *testing.T) {
	table := target.Default()
	table.Endpoints = map[string]map[string]target.Bounds{"GET /slow": {"p95_ms": {Target: 1, Acceptable: 2, Poor: 3}}}
	checks := table.Evaluate(target.Values{"median_ms": 50, "p95_ms": 1500},
		map[string]target.Values{"GET /slow": {"p95_ms": 10, "median_ms": 5}, "GET /fast": {"p95_ms": 0.5}},
		target.Gate{Metrics: []string{"p95_ms"}})
	var buf bytes.Buffer
	require.NoError(t, WriteGrades(&buf, checks, table.CheckAlerts(6, 100)))
	golden(t, "grades.txt", buf.Bytes())
	out := buf.String()
	assert.Contains(t, out, "info median_ms = 50 ms is Target")
	assert.Contains(t, out, "FAIL p95_ms = 1500 ms is Needs investigation")
	assert.Contains(t, out, "FAIL alert: failure rate 6%")
	assert.Contains(t, out, "FAIL 10 ms Poor", "the overridden endpoint target is gated")
	assert.Contains(t, out, "0.5 ms Target", "inherited endpoint grades are shown")
	assert.NotContains(t, out, "PASS 0.5 ms", "inherited endpoint grades are not gated")
}

func TestMS(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1.234: "1.23", 42.46: "42.5", 1234.4: "1234"} {
		assert.Equal(t, want, MS(v))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrorsAreReturned(t *testing.T) {
	require.ErrorIs(t, WriteConsole(failWriter{}, sample()), os.ErrClosed)
}

// The open model grades the intended-start clock: its table is printed even
// where the two clocks agree, and the graded table says it is the graded one.
func TestConsolePrintsTheGradedClock(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	rec := stats.NewRecorder(stats.WithClock(func() time.Time { return t0 }), stats.WithInterval(time.Hour))
	rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: t0, Latency: time.Millisecond, Status: 200})
	s := rec.Close()
	var plain, resp, svc bytes.Buffer
	require.NoError(t, WriteConsole(&plain, s))
	assert.NotContains(t, plain.String(), "from the intended start", "the clocks agree: one table")
	require.NoError(t, WriteConsoleGraded(&resp, s, ClockResponse))
	assert.Contains(t, resp.String(), "from the intended start (ms; includes time the schedule ran late); the targets are graded on this clock")
	require.NoError(t, WriteConsoleGraded(&svc, s, "service"))
	assert.Contains(t, svc.String(), "service time (ms, not rounded); the targets are graded on this clock")
	assert.NotContains(t, svc.String(), "from the intended start")
}
