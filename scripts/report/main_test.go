package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/outfile"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
)

// writeRun writes a run file of n requests of latency lat to GET /status.
func writeRun(t *testing.T, path string, n int, lat time.Duration) {
	t.Helper()
	rec := stats.NewRecorder()
	for range n {
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Latency: lat, Status: 200})
	}
	snap := rec.Close()
	snap.Start = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	snap.End = snap.Start.Add(time.Minute)
	run := runfile.Run{Meta: runfile.Meta{Scenario: "TestLoadLight", Start: snap.Start, End: snap.End}, Stats: snap,
		Verdict: runfile.Verdict{Pass: true}}
	require.NoError(t, outfile.Write(path, func(w io.Writer) error { return runfile.Encode(w, run) }))
}

func TestRerendersEveryReport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "run.json")
	writeRun(t, in, 200, time.Millisecond)
	var out bytes.Buffer
	files := report.Files{CSV: filepath.Join(dir, "csv", "run"), HTML: filepath.Join(dir, "run.html"), JSON: filepath.Join(dir, "again.json")}
	require.NoError(t, run([]string{"-in", in, "-csv", files.CSV, "-html", files.HTML, "-json", files.JSON}, &out, &out))
	for _, p := range files.Paths() {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Positive(t, fi.Size(), p)
		assert.Contains(t, out.String(), "wrote "+p)
	}
	a, _ := os.ReadFile(in)
	b, _ := os.ReadFile(files.JSON)
	assert.Equal(t, string(a), string(b), "a run file re-encodes to the same bytes")

	out.Reset()
	require.NoError(t, run([]string{"-in", in}, &out, &out))
	assert.Contains(t, out.String(), "Aggregated", "without outputs it prints the tables")
}

func TestComparesTwoRunFiles(t *testing.T) {
	dir := t.TempDir()
	base, same, slow := filepath.Join(dir, "base.json"), filepath.Join(dir, "same.json"), filepath.Join(dir, "slow.json")
	writeRun(t, base, 1000, time.Millisecond)
	writeRun(t, same, 1000, time.Millisecond)
	writeRun(t, slow, 1000, 3*time.Millisecond)
	var out bytes.Buffer
	require.NoError(t, run([]string{"-in", same, "-baseline", base}, &out, &out))
	assert.Contains(t, out.String(), "Compared with baseline base.json")

	out.Reset()
	html := filepath.Join(dir, "slow.html")
	err := run([]string{"-in", slow, "-baseline", base, "-html", html}, &out, &out)
	require.ErrorIs(t, err, errRegressed)
	assert.Contains(t, out.String(), "REGRESSED")
	page, _ := os.ReadFile(html)
	assert.Contains(t, string(page), "regression: GET /status p50_ms", "the report's verdict lists the regression")

	out.Reset()
	err = run([]string{"-in", slow, "-baseline", base, "-max-regression", "latency=500%"}, &out, &out)
	require.NoError(t, err, "a looser limit passes")
}

func TestRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	require.NoError(t, os.WriteFile(broken, []byte(`{"format": "something else"}`), 0o644))
	good := filepath.Join(dir, "good.json")
	writeRun(t, good, 10, time.Millisecond)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "-in is required"},
		{[]string{"-in", filepath.Join(dir, "nope.json")}, "nope.json"},
		{[]string{"-in", broken}, "broken.json"},
		{[]string{"-in", good, "-baseline", broken}, "-baseline: "},
		{[]string{"-in", good, "-max-regression", "fast"}, "-max-regression"},
		{[]string{"-in", good, "-html", dir}, "is a directory"},
		{[]string{"-in", good, "stray"}, "no arguments"},
	} {
		var out bytes.Buffer
		err := run(c.args, &out, &out)
		require.Error(t, err, c.args)
		assert.False(t, errors.Is(err, errRegressed))
		assert.Contains(t, err.Error()+out.String(), c.want, strings.Join(c.args, " "))
	}
}
