// Package runner executes a scenario in one of two models.
//
// The user (closed) model is Locust's: users start at the spawn rate up to the
// target count and each loops: pick a weighted task, run it, wait. The arrival
// (open) model is k6's arrival-rate executors and wrk2's: iterations start on a
// schedule (a constant rate, or stages) whatever the server's latency, each on
// an idle virtual user, up to a cap of iterations in flight; an arrival that
// finds the cap reached is dropped and counted.
//
// A load shape can drive either model (users and spawn rate, or the arrival
// rate) and ends the run when it ends. Both models stop in two steps as k6
// does: at the duration (or a stop request) no new task starts; after the grace
// period the requests still running are cancelled. Every user then runs its
// OnStop hook. The runner records how late it started each task against its own
// schedule, so a run can tell an overloaded generator from a slow server.
package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/scenario"
	"github.com/xagent/perfharness/internal/shape"
	"github.com/xagent/perfharness/internal/stats"
)

// Arrivals schedules the open model: ArrivalTime is when the k-th iteration
// (from 0) is due after the start, false when the schedule has ended.
type Arrivals interface {
	ArrivalTime(k float64) (time.Duration, bool)
}

// ConstantRate is an open-model schedule of r iterations per second.
type ConstantRate float64

// ArrivalTime is k/r seconds.
func (r ConstantRate) ArrivalTime(k float64) (time.Duration, bool) {
	return time.Duration(k / float64(r) * float64(time.Second)), true
}

// Shape drives the user model once a second (Locust's LoadTestShape); a false
// return ends the run.
type Shape interface {
	Tick(elapsed time.Duration) (shape.Step, bool)
}

// Config is one run of a scenario.
type Config struct {
	Classes   []scenario.Class
	Users     int           // target number of users
	SpawnRate float64       // users started (or stopped) per second
	Duration  time.Duration // 0: until Stop or the context ends
	// Grace is how long running tasks may go on after the duration before their
	// requests are cancelled.
	Grace    time.Duration
	Seed     uint64
	Client   *client.Client
	Recorder *stats.Recorder
	// Stop, when closed, stops the run at once (SIGINT, a UI button): no new
	// task starts and the requests in flight are cancelled without waiting for
	// Grace, so the results are reported whatever the server is doing.
	Stop <-chan struct{}

	// Arrivals, when set, runs the open model on this schedule instead of
	// looping users; Users and SpawnRate are then unused and the classes'
	// waits are ignored (the schedule sets the pace).
	Arrivals Arrivals
	// MaxInFlight caps the open model's concurrent iterations (its virtual users).
	MaxInFlight int
	// Shape, when set, sets the user model's users and spawn rate every second.
	// The run ends when the shape (or the Arrivals schedule) ends, or at Duration
	// when that is set too.
	Shape Shape
	// Lag, when set, records how late each task started against the schedule:
	// an arrival's due time, a pacing schedule, or a wait's planned end.
	Lag *saturation.Lag
	// Segment runs only this process's share of Users, SpawnRate, the Shape's
	// users and the Arrivals; zero runs the whole.
	Segment Segment
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Users < 0 {
		errs = append(errs, fmt.Errorf("users %d: must not be negative", c.Users))
	}
	if c.Users > 1_000_000 {
		errs = append(errs, fmt.Errorf("users %d: more than 1,000,000 in one process", c.Users))
	}
	if c.Arrivals == nil && (!(c.SpawnRate > 0) || math.IsInf(c.SpawnRate, 0)) {
		errs = append(errs, fmt.Errorf("spawn rate %v: must be a positive number of users per second", c.SpawnRate))
	}
	if c.Arrivals != nil && (c.MaxInFlight < 1 || c.MaxInFlight > 1_000_000) {
		errs = append(errs, fmt.Errorf("max in-flight %d: the open model needs 1 to 1,000,000", c.MaxInFlight))
	}
	if c.Arrivals != nil && c.Shape != nil {
		errs = append(errs, errors.New("a user-model shape cannot drive the open model; give the rate stages as Arrivals"))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration %v: must not be negative", c.Duration))
	}
	if c.Grace < 0 {
		errs = append(errs, fmt.Errorf("grace %v: must not be negative", c.Grace))
	}
	if c.Client == nil || c.Recorder == nil {
		errs = append(errs, errors.New("runner needs a client and a recorder"))
	}
	if err := c.Segment.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := scenario.Validate(c.Classes); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// StopReason says why a run stopped.
type StopReason string

// The reasons a run stops.
const (
	StopDuration  StopReason = "duration reached"
	StopRequested StopReason = "stop requested"
	StopCancelled StopReason = "context cancelled"
	StopShape     StopReason = "shape ended"
	// StopAborted is the reason of a run a second interrupt ended: the
	// harness wrote what was recorded without waiting for the runner.
	StopAborted StopReason = "aborted by a second interrupt"
	// StopRunning is the reason of a run still going (the live web UI's view).
	StopRunning StopReason = "running"
)

// Early reports whether a run with this reason ended before its duration or
// shape: its results are partial. A run still going, or one with no reason
// recorded (an old run file), is not early.
func (r StopReason) Early() bool {
	switch r {
	case StopDuration, StopShape, StopRunning, "":
		return false
	}
	return true
}

// Summary describes how a run went (its statistics are in the Recorder).
type Summary struct {
	Started  time.Time
	Stopped  time.Time // when no new task could start any more
	Finished time.Time // when the last user ended
	Reason   StopReason
	Spawned  int // users started in all
	// Cancelled counts tasks and hooks cut short at the grace deadline.
	Cancelled int
	// The open model's iterations: due by the stop (Arrivals), started, and
	// dropped because MaxInFlight iterations were running.
	Arrivals   int64
	Iterations int64
	Dropped    int64
}

// Interrupted reports whether the run ended before its duration or shape.
func (s Summary) Interrupted() bool { return s.Reason.Early() }

// Runner is one run in progress.
type Runner struct {
	cfg      Config
	scale    chan scaleReq
	stopping chan struct{}
	running  atomic.Int64
	order    []int // class index of the k-th running user
	spawned  int   // owned by the spawn goroutine until it returns

	cancelled atomic.Int64
	// the open model's counters
	arrivals   atomic.Int64
	iterations atomic.Int64
	dropped    atomic.Int64
	shapeEnded chan struct{} // closed when the shape or the arrival schedule ends
}

type scaleReq struct {
	users int
	rate  float64
}

type user struct {
	stop chan struct{}
	done chan struct{}
}

// New validates the configuration and prepares a run.
func New(cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg, scale: make(chan scaleReq, 1), stopping: make(chan struct{}), shapeEnded: make(chan struct{})}, nil
}

// Run executes a scenario and returns when every user has ended.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	r, err := New(cfg)
	if err != nil {
		return Summary{}, err
	}
	return r.Run(ctx)
}

// Scale changes the target user count and spawn rate of a running run (of
// the whole run: a segment takes its share).
func (r *Runner) Scale(users int, rate float64) error {
	if users < 0 || !(rate > 0) {
		return fmt.Errorf("scale to %d users at %v/s: need users >= 0 and a positive rate", users, rate)
	}
	select {
	case <-r.scale: // replace a request not yet taken
	default:
	}
	r.scale <- scaleReq{r.cfg.Segment.Share(users), r.cfg.Segment.Rate(rate)}
	return nil
}

// Users is the number of users running now.
func (r *Runner) Users() int { return int(r.running.Load()) }

// Counts are the open model's iterations so far: due, started, and dropped at
// the MaxInFlight cap.
func (r *Runner) Counts() (arrivals, iterations, dropped int64) {
	return r.arrivals.Load(), r.iterations.Load(), r.dropped.Load()
}

// Run executes the run; call it once.
func (r *Runner) Run(ctx context.Context) (Summary, error) {
	cfg := r.cfg
	// reqCtx is cancelled at the grace deadline or when ctx ends.
	reqCtx, cancelReqs := context.WithCancel(ctx)
	defer cancelReqs()
	sum := Summary{Started: time.Now()}

	var deadline <-chan time.Time
	if cfg.Duration > 0 {
		t := time.NewTimer(cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	spawnDone := make(chan []*user, 1)
	if cfg.Arrivals != nil {
		go func() { spawnDone <- r.arrive(reqCtx, sum.Started) }()
	} else {
		if cfg.Shape != nil {
			go r.follow(cfg.Shape, sum.Started)
		}
		go func() { spawnDone <- r.spawn(reqCtx) }()
	}

	select {
	case <-deadline:
		sum.Reason = StopDuration
	case <-r.shapeEnded:
		sum.Reason = StopShape
	case <-cfg.Stop:
		sum.Reason = StopRequested
	case <-ctx.Done():
		sum.Reason = StopCancelled
	}
	sum.Stopped = time.Now()
	close(r.stopping)
	users := <-spawnDone // every user has been told to stop: none starts another task
	if sum.Reason == StopRequested {
		cancelReqs() // an interrupt does not wait for a slow server
	}
	sum.Spawned = r.spawned
	sum.Arrivals, sum.Iterations, sum.Dropped = r.arrivals.Load(), r.iterations.Load(), r.dropped.Load()

	// Let running tasks and OnStop hooks finish within the grace period, then
	// cancel their requests.
	allIdle := make(chan struct{})
	go func() {
		for _, u := range users {
			<-u.done
		}
		close(allIdle)
	}()
	// reqCtx derives from ctx: a cancelled ctx has cancelled the requests already.
	grace := time.NewTimer(cfg.Grace)
	select {
	case <-allIdle:
	case <-grace.C:
		cancelReqs()
	}
	grace.Stop()
	<-allIdle
	sum.Cancelled = int(r.cancelled.Load())
	sum.Finished = time.Now()
	cfg.Recorder.SetUsers(0)
	return sum, nil
}

// spawn starts and stops users to follow the target until the run stops, and
// returns every user it started, so that Run can wait for all of them.
func (r *Runner) spawn(ctx context.Context) []*user {
	cfg := r.cfg
	target, rate := cfg.Segment.Share(cfg.Users), cfg.Segment.Rate(cfg.SpawnRate)
	var users, retired []*user
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := time.Duration(-1) // block until scaled or stopped
		if len(users) != target {
			wait = max(time.Until(next), 0)
		}
		var tick <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-r.stopping:
			for _, u := range users {
				close(u.stop)
			}
			return append(retired, users...)
		case s := <-r.scale:
			target, rate = s.users, s.rate
		case <-tick:
			if len(users) < target {
				users = append(users, r.startUser(ctx, len(users)))
			} else if len(users) > target {
				u := users[len(users)-1]
				users = users[:len(users)-1]
				close(u.stop) // it finishes its task and runs OnStop
				retired = append(retired, u)
			}
			next = time.Now().Add(time.Duration(float64(time.Second) / rate))
		}
	}
}

// classOf returns the class index of the k-th running user, extending the
// Locust spawn order as needed.
func (r *Runner) classOf(k int) int {
	if k >= len(r.order) {
		r.order = scenario.SpawnOrder(r.cfg.Classes, max(2*k, 64))
	}
	return r.order[k]
}

func (r *Runner) startUser(ctx context.Context, slot int) *user {
	seg := r.cfg.Segment
	cls := r.cfg.Classes[r.classOf(seg.Global(slot))]
	id := seg.Global(r.spawned)
	r.spawned++
	u := &user{stop: make(chan struct{}), done: make(chan struct{})}
	su := &scenario.User{
		ID:    id,
		Class: cls.Name,
		HTTP:  r.cfg.Client.NewSession(),
		Rand:  rand.New(rand.NewPCG(r.cfg.Seed, uint64(id))),
	}
	if cls.NewState != nil {
		su.State = cls.NewState()
	}
	n := r.running.Add(1)
	r.cfg.Recorder.SetUsers(int(n))
	go func() {
		defer close(u.done)
		defer func() { r.cfg.Recorder.SetUsers(int(r.running.Add(-1))) }()
		defer su.HTTP.Close()
		r.userLoop(ctx, cls, su, u.stop)
	}()
	return u
}

func (r *Runner) userLoop(ctx context.Context, cls scenario.Class, u *scenario.User, stop <-chan struct{}) {
	if cls.OnStart != nil {
		r.call(ctx, cls, "on_start", u, cls.OnStart)
	}
	picker := cls.TaskPicker()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	intended := time.Now()
	for {
		select {
		case <-stop:
			r.onStop(ctx, cls, u)
			return
		default:
		}
		task := cls.Tasks[picker.Pick(u.Rand)]
		started := time.Now()
		if cls.Wait.Schedules() {
			u.Intended = intended
		} else {
			u.Intended, intended = started, started
		}
		r.call(ctx, cls, task.Name, u, task.Run)
		took := time.Since(started)
		wait := cls.Wait.Next(u.Rand, took)
		if cls.Wait.Schedules() {
			intended = intended.Add(cls.Wait.Period())
			wait = max(time.Until(intended), 0)
		}
		if wait <= 0 {
			continue // the loop's head checks for a stop without a timer
		}
		timer.Reset(wait)
		planned := time.Now().Add(wait)
		select {
		case <-stop:
			timer.Stop()
			r.onStop(ctx, cls, u)
			return
		case <-timer.C:
			// Only a timer's lateness is the generator's: a schedule that slipped
			// because the previous task ran long is the server's doing, and the
			// response clock already shows it.
			r.late(time.Since(planned))
		}
	}
}

// late records how late the generator started work against its schedule.
func (r *Runner) late(d time.Duration) {
	if r.cfg.Lag != nil {
		r.cfg.Lag.Record(d)
	}
}

// follow applies the shape every second until it ends or the run stops.
func (r *Runner) follow(sh Shape, start time.Time) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		step, ok := sh.Tick(time.Since(start))
		if !ok {
			close(r.shapeEnded)
			return
		}
		if step.Users >= 0 && step.SpawnRate > 0 {
			_ = r.Scale(step.Users, step.SpawnRate)
		}
		select {
		case <-r.stopping:
			return
		case <-tick.C:
		}
	}
}

func (r *Runner) onStop(ctx context.Context, cls scenario.Class, u *scenario.User) {
	if cls.OnStop != nil {
		r.call(ctx, cls, "on_stop", u, cls.OnStop)
	}
}

// call runs a task or hook, turning a returned error or a panic into an
// exception; the user carries on.
func (r *Runner) call(ctx context.Context, cls scenario.Class, what string, u *scenario.User, f func(context.Context, *scenario.User) error) {
	if ctx.Err() == nil {
		defer func() {
			if ctx.Err() != nil {
				r.cancelled.Add(1) // cut short at the grace deadline
			}
		}()
	}
	defer func() {
		if p := recover(); p != nil {
			r.cfg.Recorder.Exception(fmt.Sprintf("%s.%s: panic: %v", cls.Name, what, p), string(debug.Stack()))
		}
	}()
	if err := f(ctx, u); err != nil && ctx.Err() == nil {
		r.cfg.Recorder.Exception(fmt.Sprintf("%s.%s: %v", cls.Name, what, err), "")
	}
}
