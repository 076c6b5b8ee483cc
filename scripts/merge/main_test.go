package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
)

// TestDistributedRunMergesExactly runs scripts/distributed.sh: two processes,
// each half of TestLoadLight's short form, against one fake; the merged run
// holds exactly the sum of the segments and passes the targets.
func TestDistributedRunMergesExactly(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed to run scripts/distributed.sh")
	}
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "../distributed.sh", "-n", "2", "-o", out, "-run", "^TestLoadLight$", "-short", "-duration", "3s")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Run(), "distributed.sh failed:\n%s", log.String())
	assert.Contains(t, log.String(), "2 segments merged (1,2/2), 10 users")
	assert.Contains(t, log.String(), "PASS")

	merged, err := runfile.ReadFile(filepath.Join(out, "merged.json"))
	require.NoError(t, err)
	var want stats.Entry
	users := 0
	for _, seg := range []string{"seg-1.json", "seg-2.json"} {
		r, err := runfile.ReadFile(filepath.Join(out, seg))
		require.NoError(t, err)
		assert.Equal(t, 5, r.Meta.Users, "%s runs half of the 10 users", seg)
		users += r.Meta.Users
		if want.Service == nil {
			want = r.Stats.Total.Clone()
		} else {
			want.Merge(r.Stats.Total)
		}
	}
	assert.Equal(t, 10, users)
	got := merged.Stats.Total
	assert.Positive(t, got.Requests)
	assert.Equal(t, want.Requests, got.Requests, "merged requests are the segments' sum")
	assert.Equal(t, want.Failures, got.Failures)
	assert.True(t, want.Service.Equals(got.Service), "the merged histogram is exactly the segments' merged")
	assert.True(t, merged.Verdict.Pass, "the merged run passes its targets: %v", merged.Verdict.Reasons)
	assert.NotEmpty(t, merged.Checks)
	for _, f := range []string{"merged_stats.csv", "merged.html"} {
		_, err := os.Stat(filepath.Join(out, f))
		assert.NoError(t, err, f)
	}
}

func TestMergeGradesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	strict := filepath.Join(dir, "strict.json")
	require.NoError(t, os.WriteFile(strict, []byte(`{"metrics": {"p95_ms": {"target": 0.001, "acceptable": 0.002, "poor": 0.003}}}`), 0o644))
	seg := func(name, scenario, segment string) string {
		rec := stats.NewRecorder()
		for range 50 {
			rec.Record(stats.Result{Method: "GET", Name: "GET /status", Latency: 2_000_000, Status: 200})
		}
		s := rec.Close()
		s.End = s.Start.Add(10_000_000_000)
		r := runfile.Run{Meta: runfile.Meta{Scenario: scenario, Host: "http://h", Segment: segment, Gate: []string{"p95_ms"}, MinGrade: "Acceptable"},
			Stats: s, Generator: runfile.Generator{Model: "users", Clock: "service"}}
		path := filepath.Join(dir, name)
		var buf bytes.Buffer
		require.NoError(t, runfile.Encode(&buf, r))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return path
	}
	a, b := seg("a.json", "TestLoadLight", "1/2"), seg("b.json", "TestLoadLight", "2/2")
	var out bytes.Buffer
	err := run([]string{"-targets", strict, "-o", filepath.Join(dir, "m.json"), a, b}, &out, &out)
	require.ErrorIs(t, err, errFailed, "a merged p95 of 2 ms fails a 0.002 ms target")
	assert.Contains(t, out.String(), "FAIL: target: p95_ms = 2")
	assert.Contains(t, out.String(), "100 requests")

	out.Reset()
	other := seg("c.json", "TestLoadMedium", "2/2")
	err = run([]string{a, other}, &out, &out)
	require.Error(t, err)
	assert.False(t, strings.Contains(err.Error(), "failed"), "a refusal, not a failed grade")
	assert.Contains(t, err.Error(), "TestLoadMedium")

	err = run([]string{a, a}, &out, &out)
	require.Error(t, err, "the same segment twice overlaps")
	err = run(nil, &out, &out)
	require.ErrorContains(t, err, "no run files given")
}

// TestMergePrintsTheUsersThatRan: two segments of 50 users each whose ramps
// reached 25 print 50 users, not the 100 they asked for.
func TestMergePrintsTheUsersThatRan(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seg := func(segment string) string {
		var series []stats.Point
		for i, users := range []int{10, 20, 25} {
			series = append(series, stats.Point{Time: t0.Add(time.Duration(i+1) * time.Second), Users: users})
		}
		s := stats.Snapshot{Start: t0, End: t0.Add(3 * time.Second), Total: stats.Entry{Name: stats.TotalName}, Series: series}
		r := runfile.Run{Meta: runfile.Meta{Scenario: "TestLoadLight", Host: "http://h", Segment: segment, Users: 50},
			Stats: s, Generator: runfile.Generator{Model: "users", Clock: "service"}}
		path := filepath.Join(dir, strings.ReplaceAll(segment, "/", "of")+".json")
		var buf bytes.Buffer
		require.NoError(t, runfile.Encode(&buf, r))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return path
	}
	var out bytes.Buffer
	err := run([]string{"-o", filepath.Join(dir, "m.json"), seg("1/2"), seg("2/2")}, &out, &out)
	require.ErrorIs(t, err, errFailed, "no request: nothing to grade")
	assert.Contains(t, out.String(), "TestLoadLight: 2 segments merged (1,2/2), 50 users, 0 requests")
	merged, err := runfile.ReadFile(filepath.Join(dir, "m.json"))
	require.NoError(t, err)
	assert.Equal(t, 50, merged.Meta.Users)
}
