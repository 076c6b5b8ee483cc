package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/stats"
)

func benchServer(b *testing.B, engine ...string) (*client.Client, *stats.Recorder) {
	b.Helper()
	body := []byte(`{"status":"unknown","uptime":null}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	b.Cleanup(srv.Close)
	rec := stats.NewRecorder()
	opts := client.Options{}
	if len(engine) > 0 {
		opts.Engine = engine[0]
	}
	c, err := client.New(srv.URL, rec, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdle)
	return c, rec
}

var statusReq = client.Request{Method: "GET", Path: "/status", Name: "GET /status"}

// BenchmarkPlainLoop is the baseline: one session sending requests in a loop.
func BenchmarkPlainLoop(b *testing.B) {
	c, rec := benchServer(b)
	s := c.NewSession()
	b.ReportAllocs()
	for b.Loop() {
		s.Do(b.Context(), statusReq, time.Time{})
	}
	b.StopTimer()
	rec.Close()
}

// BenchmarkRunnerLoop sends the same requests through the runner: one user, no
// wait, one task. The difference to BenchmarkPlainLoop is the runner's
// per-request overhead (task pick, timers, bookkeeping). One full request
// through the runner, on each HTTP engine.
func BenchmarkRunnerLoop(b *testing.B) {
	for _, engine := range []string{client.EngineNet, client.EngineFast} {
		b.Run(engine, func(b *testing.B) { runnerLoop(b, engine) })
	}
}

func runnerLoop(b *testing.B, engine string) {
	c, rec := benchServer(b, engine)
	stop := make(chan struct{})
	var n atomic.Int64
	target := int64(b.N)
	cls := scenario.Class{Name: "Bench", Weight: 1, Wait: scenario.Constant(0), Tasks: []scenario.Task{{Name: "status", Weight: 1,
		Run: func(ctx context.Context, u *scenario.User) error {
			u.Do(ctx, statusReq)
			if n.Add(1) == target {
				close(stop)
			}
			return nil
		}}}}
	b.ReportAllocs()
	b.ResetTimer()
	_, err := Run(b.Context(), Config{Classes: []scenario.Class{cls}, Users: 1, SpawnRate: 1000, Grace: time.Minute,
		Client: c, Recorder: rec, Stop: stop})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	rec.Close()
}

// BenchmarkRunnerIteration is the runner's own cost of one task iteration
// (pick, wait timer, bookkeeping) with a task that does nothing.
func BenchmarkRunnerIteration(b *testing.B) {
	c, rec := benchServer(b)
	stop := make(chan struct{})
	var n atomic.Int64
	target := int64(b.N)
	noop := func(context.Context, *scenario.User) error {
		if n.Add(1) == target {
			close(stop)
		}
		return nil
	}
	cls := scenario.Class{Name: "Bench", Weight: 1, Wait: scenario.Constant(0), Tasks: []scenario.Task{
		{Name: "a", Weight: 3, Run: noop}, {Name: "b", Weight: 1, Run: noop}}}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := Run(b.Context(), Config{Classes: []scenario.Class{cls}, Users: 1, SpawnRate: 1000, Grace: time.Minute,
		Client: c, Recorder: rec, Stop: stop}); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	rec.Close()
}
