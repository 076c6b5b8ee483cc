package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/runner"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/web"
)

// UI is the web UI and what it controls: the swarm of one run, or in idle
// mode the swarms the page starts (TestLoadWeb). It implements web.Controller.
type UI struct {
	srv     *http.Server
	classes []string // idle mode: the classes a swarm can pick
	idle    bool
	defHost string         // idle mode: the host a swarm targets unless the page names another
	start   chan web.Swarm // idle mode: swarms asked for
	quit    chan struct{}  // idle mode: closed by Quit
	quitO   sync.Once

	mu      sync.Mutex
	state   string
	p       Plan
	host    string
	started time.Time
	rec     *stats.Recorder
	r       *runner.Runner
	lag     *saturation.Lag
	target  int
	rate    float64
	stop    chan struct{}
	stopO   *sync.Once
	last    *runfile.Run
	errMsg  string
}

// ServeWeb serves the web UI on addr until Close. In idle mode (TestLoadWeb)
// the page starts swarms against defHost unless it names another host,
// picking among classes.
func ServeWeb(addr string, idle bool, defHost string, classes []scenario.Class, out io.Writer) (*UI, error) {
	w := &UI{idle: idle, defHost: defHost, state: "idle", start: make(chan web.Swarm), quit: make(chan struct{})}
	for _, c := range classes {
		w.classes = append(w.classes, c.Name)
	}
	ln, url, err := web.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("-web %s: %w", addr, err)
	}
	w.srv = &http.Server{Handler: web.New(w), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()
	fmt.Fprintf(out, "web UI: %s\n", url)
	return w, nil
}

// Close stops serving, letting an answer in flight (the page's Quit) reach the page.
func (w *UI) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if w.srv.Shutdown(ctx) != nil {
		_ = w.srv.Close()
	}
}

// Swarms are the swarms the page asks for, in idle mode.
func (w *UI) Swarms() <-chan web.Swarm { return w.start }

// Quitting is closed when the page quits, in idle mode.
func (w *UI) Quitting() <-chan struct{} { return w.quit }

// begin attaches a run about to start and returns its stop channel: closed by
// the page's Stop or by SIGINT (the other channel).
func (w *UI) begin(p Plan, host string, rec *stats.Recorder, interrupt <-chan struct{}) <-chan struct{} {
	if w == nil {
		return interrupt
	}
	stop := make(chan struct{})
	once := &sync.Once{}
	go func() {
		select {
		case <-interrupt:
			once.Do(func() { close(stop) })
		case <-stop:
		}
	}()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state, w.p, w.host, w.rec, w.r, w.started = "spawning", p, host, rec, nil, time.Now()
	w.target, w.rate, w.stop, w.stopO, w.errMsg = p.Segment.Share(p.Users), p.SpawnRate, stop, once, ""
	return stop
}

// attach gives the UI the runner, for Scale.
func (w *UI) attach(r *runner.Runner, lag *saturation.Lag) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.r, w.lag, w.state = r, lag, "running"
	w.mu.Unlock()
}

// finish keeps the graded run for the page and the downloads.
func (w *UI) finish(run runfile.Run) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.state, w.rec, w.r, w.last = "stopped", nil, nil, &run
	w.mu.Unlock()
}

// end marks a run that ended without finish (a fatal error) as stopped.
func (w *UI) end() {
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.rec != nil {
		w.state, w.rec, w.r = "stopped", nil, nil
	}
	w.mu.Unlock()
}

// Fail records why a swarm could not start.
func (w *UI) Fail(err error) {
	w.mu.Lock()
	w.errMsg, w.state = err.Error(), "stopped"
	w.mu.Unlock()
}

// Status implements web.Controller.
func (w *UI) Status() web.Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := web.Status{State: w.state, Scenario: w.p.Name, Host: w.host, TargetUsers: w.target, SpawnRate: w.rate, Idle: w.idle, Error: w.errMsg}
	if s.Host == "" {
		s.Host = w.defHost
	}
	if s.SpawnRate == 0 {
		s.SpawnRate = 1
	}
	if w.r != nil {
		s.Users = w.r.Users()
		if s.Users >= w.target {
			s.State = "running"
		}
	}
	if w.idle && w.rec == nil {
		s.Classes = append(s.Classes, w.classes...) // what the next swarm can pick
		return s
	}
	for _, c := range w.p.Classes { // what runs, or ran
		s.Classes = append(s.Classes, c.Name)
	}
	return s
}

// Run implements web.Controller: the running swarm graded as it stands, or the last.
func (w *UI) Run() (runfile.Run, bool) {
	w.mu.Lock()
	rec, p, host, started, last, r, lag := w.rec, w.p, w.host, w.started, w.last, w.r, w.lag
	w.mu.Unlock()
	if rec == nil {
		if last == nil {
			return runfile.Run{}, false
		}
		return *last, true
	}
	snap := rec.Snapshot()
	sum := runner.Summary{Started: started, Stopped: time.Now(), Reason: runner.StopRunning}
	if r != nil {
		sum.Arrivals, sum.Iterations, sum.Dropped = r.Counts()
	}
	loadPeriod(&snap, sum)
	run := newRun(p, host, sum, snap)
	// The final verdict's computation on what is known so far: the start lag
	// and the open model's counts (the Go runtime's figures and the host's
	// pauses are read once, at the end of the run).
	run.Generator = judgeGenerator(p, sum, lag, saturation.Runtime{})
	judge.Judge(&run, p.Table, p.Gate)
	return run, true
}

var errNoRun = errors.New("no swarm is running")

// Stop implements web.Controller.
func (w *UI) Stop() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop == nil || w.rec == nil {
		return errNoRun
	}
	w.state = "stopping"
	stop := w.stop
	w.stopO.Do(func() { close(stop) })
	return nil
}

// Scale implements web.Controller.
func (w *UI) Scale(users int, rate float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.r == nil {
		return errNoRun
	}
	if w.p.Model.Kind != ModelUsers {
		return errors.New("the open model has no users to scale: it runs at -rate")
	}
	if err := w.r.Scale(users, rate); err != nil {
		return err
	}
	w.target, w.rate = w.p.Segment.Share(users), rate
	return nil
}

// Reset implements web.Controller.
func (w *UI) Reset() error {
	w.mu.Lock()
	rec := w.rec
	w.mu.Unlock()
	if rec == nil {
		return errNoRun
	}
	rec.ResetStats() // Locust's: the history keeps its rows, the final figures count from now
	return nil
}

// Start implements web.Controller: idle mode only.
func (w *UI) Start(s web.Swarm) error {
	if !w.idle {
		return errors.New("not in idle mode: start TestLoadWeb to pick swarms from the page")
	}
	w.mu.Lock()
	busy := w.rec != nil
	w.mu.Unlock()
	if busy {
		return errors.New("a swarm is running: stop it first")
	}
	select {
	case w.start <- s:
		return nil
	case <-w.quit:
		return errors.New("the test is quitting")
	case <-time.After(5 * time.Second):
		return errors.New("the test did not take the swarm")
	}
}

// Quit implements web.Controller: idle mode only; a running swarm is stopped.
func (w *UI) Quit() error {
	if !w.idle {
		return errors.New("not in idle mode: stop the run instead")
	}
	_ = w.Stop()
	w.quitO.Do(func() { close(w.quit) })
	return nil
}
