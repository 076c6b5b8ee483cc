package harness

import (
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/stats"
)

// After a Reset stats (the web UI's) the final figures count from the reset,
// where the run's start gave 1.73 req/s for a run at 18.4; the history keeps
// the rows from before it.
func TestResetStatsFinalFiguresCountFromTheReset(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	now := t0
	rec := stats.NewRecorder(stats.WithClock(func() time.Time { return now }), stats.WithInterval(time.Hour))
	for range 10 { // before the reset: 10 requests
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: now, Latency: time.Millisecond, Status: 200})
	}
	now = t0.Add(50 * time.Second)
	_ = rec.Snapshot() // every result above is in
	rec.ResetStats()
	for range 100 { // after it: 100 requests in 10 s
		rec.Record(stats.Result{Method: "GET", Name: "GET /status", Start: now, Latency: time.Millisecond, Status: 200})
	}
	now = t0.Add(60 * time.Second)
	snap := rec.Close()
	loadPeriod(&snap, runner.Summary{Started: t0, Stopped: now})
	if snap.Total.Requests != 100 {
		t.Errorf("requests = %d, want the 100 after the reset", snap.Total.Requests)
	}
	if got := snap.RPS(snap.Total); got < 9.99 || got > 10.01 {
		t.Errorf("RPS = %v, want 10: 100 requests over the 10 s since the reset", got)
	}
	if !snap.Start.Equal(t0.Add(50 * time.Second)) {
		t.Errorf("start = %v, want the reset", snap.Start)
	}
}
