package runner

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/xagent/perfharness/internal/scenario"
)

// vu is a virtual user of the open model: a session, a random source and
// state of one class, reused by one iteration at a time.
type vu struct {
	cls    int
	user   *scenario.User
	picker scenario.Picker
	fresh  bool // OnStart has yet to run, before its first task
}

// pool holds the open model's idle virtual users by class and counts the
// iterations in flight.
type pool struct {
	mu       sync.Mutex
	idle     [][]*vu
	all      []*vu
	inFlight int
	wg       sync.WaitGroup
}

// arrive runs the open model: it starts iteration k at start+ArrivalTime(k)
// until the run stops or the schedule ends, dropping an arrival that finds
// MaxInFlight iterations running. It returns once every iteration and every
// virtual user's OnStop hook is done, as a single user that Run waits for.
func (r *Runner) arrive(ctx context.Context, start time.Time) []*user {
	cfg := r.cfg
	p := &pool{idle: make([][]*vu, len(cfg.Classes))}
	done := &user{stop: make(chan struct{}), done: make(chan struct{})}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for local := 0; ; local++ {
		k := cfg.Segment.Global(local) // this segment's arrivals are every Count-th
		due, ok := cfg.Arrivals.ArrivalTime(float64(k))
		if !ok {
			close(r.shapeEnded)
			<-r.stopping
			break
		}
		if cfg.Duration > 0 && due >= cfg.Duration {
			<-r.stopping // due at or after the end: rate × duration arrivals in all
			break
		}
		at := start.Add(due)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-r.stopping:
				timer.Stop()
				go r.drain(ctx, p, done)
				return []*user{done}
			case <-timer.C:
			}
		} else {
			select {
			case <-r.stopping:
				go r.drain(ctx, p, done)
				return []*user{done}
			default:
			}
		}
		r.arrivals.Add(1)
		v := r.take(p, r.classOf(k))
		if v == nil {
			r.dropped.Add(1)
			continue
		}
		r.iterations.Add(1)
		p.wg.Add(1)
		go r.iterate(ctx, p, v, at)
	}
	go r.drain(ctx, p, done)
	return []*user{done}
}

// take returns an idle virtual user of class c, making one when none is idle
// (its OnStart runs before its first task), or nil when MaxInFlight
// iterations are running.
func (r *Runner) take(p *pool, c int) *vu {
	p.mu.Lock()
	if p.inFlight >= r.cfg.MaxInFlight {
		p.mu.Unlock()
		return nil
	}
	p.inFlight++
	r.cfg.Recorder.SetUsers(p.inFlight)
	if n := len(p.idle[c]); n > 0 {
		v := p.idle[c][n-1]
		p.idle[c] = p.idle[c][:n-1]
		p.mu.Unlock()
		return v
	}
	id := r.cfg.Segment.Global(len(p.all))
	cls := r.cfg.Classes[c]
	su := &scenario.User{ID: id, Class: cls.Name, HTTP: r.cfg.Client.NewSession(), Rand: rand.New(rand.NewPCG(r.cfg.Seed, uint64(id)))}
	if cls.NewState != nil {
		su.State = cls.NewState()
	}
	v := &vu{cls: c, user: su, picker: cls.TaskPicker(), fresh: true}
	p.all = append(p.all, v)
	r.spawned++
	p.mu.Unlock()
	return v
}

// iterate runs one task of v, due at at, and returns v to the pool.
func (r *Runner) iterate(ctx context.Context, p *pool, v *vu, at time.Time) {
	defer p.wg.Done()
	cls := r.cfg.Classes[v.cls]
	r.late(time.Since(at))
	if v.fresh {
		v.fresh = false
		if cls.OnStart != nil {
			r.call(ctx, cls, "on_start", v.user, cls.OnStart)
		}
	}
	task := cls.Tasks[v.picker.Pick(v.user.Rand)]
	v.user.Intended = at
	r.call(ctx, cls, task.Name, v.user, task.Run)
	p.mu.Lock()
	p.idle[v.cls] = append(p.idle[v.cls], v)
	p.inFlight--
	r.cfg.Recorder.SetUsers(p.inFlight)
	p.mu.Unlock()
}

// drain waits for the running iterations, then runs every virtual user's
// OnStop hook and closes its session.
func (r *Runner) drain(ctx context.Context, p *pool, done *user) {
	defer close(done.done)
	p.wg.Wait()
	p.mu.Lock()
	all := p.all
	p.mu.Unlock()
	for _, v := range all {
		r.onStop(ctx, r.cfg.Classes[v.cls], v.user)
		v.user.HTTP.Close()
	}
}
