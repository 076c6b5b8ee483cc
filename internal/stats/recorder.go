package stats

import (
	"sync"
	"sync/atomic"
	"time"
)

// TotalName is the name of the aggregate entry.
const TotalName = "Aggregated"

// maxExceptions bounds the distinct exception messages kept; later ones are counted under the last.
const maxExceptions = 1000

// maxFailureGroups bounds the distinct failure groups kept, so a server that puts
// a unique id in every error cannot grow the table without limit.
const maxFailureGroups = 10_000

// Recorder collects Results. Record may be called from many goroutines; one
// aggregator goroutine owns all statistics. Close must be called once, after the
// last Record.
type Recorder struct {
	in      chan Result
	exc     chan Exception
	ctl     chan func(*state)
	done    chan struct{}
	users   atomic.Int64
	peak    atomic.Int64 // the most users running at once in the current interval
	closeMu sync.Once
	final   Snapshot
	now     func() time.Time
	tick    time.Duration
	history bool         // keep each entry's time series
	ticker  *time.Ticker // owned by the aggregator goroutine
}

// Option configures a Recorder.
type Option func(*Recorder)

// WithClock sets the clock used for snapshots and the time series (tests).
func WithClock(now func() time.Time) Option { return func(r *Recorder) { r.now = now } }

// WithInterval sets the time-series interval (default one second).
func WithInterval(d time.Duration) Option { return func(r *Recorder) { r.tick = d } }

// WithEntryHistory keeps a time series per entry as well as the aggregate's,
// for Locust's --csv-full-history. It costs a windowed histogram (about 1.5 MB)
// per entry and one more histogram write per result.
func WithEntryHistory() Option { return func(r *Recorder) { r.history = true } }

type state struct {
	start      time.Time // of the statistics: the run's start or the last ResetStats
	resetAt    time.Time // the last ResetStats; zero when there was none
	entries    map[Key]*Entry
	total      *Entry // the aggregate, kept live for the time series' cumulative columns
	failures   map[failKey]*Failure
	exceptions map[string]*Exception
	excOrder   []string
	agg        *track         // the aggregate's time series
	tracks     map[Key]*track // each entry's, with WithEntryHistory
	ivStart    time.Time      // start of the current interval
	lastSecs   float64        // length of the last closed interval, in seconds
}

type failKey struct{ method, name, err string }

// NewRecorder starts a Recorder whose run begins now.
func NewRecorder(opts ...Option) *Recorder {
	r := &Recorder{
		in:   make(chan Result, 8192),
		exc:  make(chan Exception, 64),
		ctl:  make(chan func(*state)),
		done: make(chan struct{}),
		now:  time.Now,
		tick: time.Second,
	}
	for _, o := range opts {
		o(r)
	}
	st := r.newState()
	r.ticker = time.NewTicker(r.tick)
	go r.loop(st)
	return r
}

func (r *Recorder) newState() *state {
	start := r.now()
	st := &state{
		start:      start,
		entries:    make(map[Key]*Entry),
		total:      newEntry("", TotalName),
		failures:   make(map[failKey]*Failure),
		exceptions: make(map[string]*Exception),
		agg:        newTrack(),
		ivStart:    start,
	}
	if r.history {
		st.tracks = make(map[Key]*track)
	}
	return st
}

// Record sends one result to the aggregator.
func (r *Recorder) Record(res Result) { r.in <- res }

// Exception records a harness-side error.
func (r *Recorder) Exception(message, traceback string) {
	r.exc <- Exception{Message: message, Traceback: traceback, Count: 1}
}

// SetUsers records the current number of running users. A time-series point
// shows the most users that ran at once in its interval, so the runner's
// SetUsers(0) after the last user ended does not erase the users of the
// interval it ends.
func (r *Recorder) SetUsers(n int) {
	r.users.Store(int64(n))
	r.raisePeak(int64(n))
}

func (r *Recorder) raisePeak(n int64) {
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// takePeak returns the current interval's peak and starts the next interval's
// at the users running now.
func (r *Recorder) takePeak() int {
	p := r.peak.Swap(r.users.Load())
	// A SetUsers between the Load and the Swap raised the old peak: raise the
	// new one to what runs now.
	r.raisePeak(r.users.Load())
	return int(p)
}

// Users is the current number of running users.
func (r *Recorder) Users() int { return int(r.users.Load()) }

// Snapshot returns a deep copy of the statistics so far, including every result
// recorded before the call.
func (r *Recorder) Snapshot() Snapshot {
	reply := make(chan Snapshot, 1)
	select {
	case r.ctl <- func(st *state) { reply <- r.snapshot(st) }:
		return <-reply
	case <-r.done:
		return r.final
	}
}

// Reset discards everything recorded, the time series included, and starts the
// run again now: statistics, series and intervals begin at the call, as if
// the Recorder had just been made. It is for the start of the load (to drop
// what came before it); Locust's "Reset stats" in the middle of a run is
// ResetStats.
func (r *Recorder) Reset() {
	r.control(func(st *state) {
		*st = *r.newState()
		r.peak.Store(r.users.Load())
		r.ticker.Reset(r.tick) // the first interval is a whole one
	})
}

// ResetStats is Locust's "Reset stats": it clears the entries' statistics (each
// entry stays, with no requests, as in Locust's table), the aggregate, the
// failures and the exceptions, and restarts the statistics' clock, so a
// Snapshot's Start is the reset and its rates and percentiles cover what came
// after it (Snapshot.ResetAt says when). The time series is kept: points
// before the reset stay as they were, and the cumulative figures of the
// points after it (TotalRequests, TotalMedianMS…) count from the reset. The
// interval in progress is not cut: its requests, rate and percentiles are
// those of the whole interval, and the recent percentiles keep their window.
func (r *Recorder) ResetStats() {
	r.control(func(st *state) {
		now := r.now()
		st.start, st.resetAt = now, now
		for k := range st.entries {
			st.entries[k] = newEntry(k.Method, k.Name)
		}
		st.total = newEntry("", TotalName)
		st.failures = make(map[failKey]*Failure)
		st.exceptions = make(map[string]*Exception)
		st.excOrder = nil
	})
}

// control runs f on the aggregator's state, after every queued result; after
// Close it does nothing.
func (r *Recorder) control(f func(*state)) {
	ok := make(chan struct{})
	select {
	case r.ctl <- func(st *state) { f(st); close(ok) }:
		<-ok
	case <-r.done:
	}
}

// Close stops the aggregator after it has taken every recorded result and returns
// the final snapshot. Calling it again returns the same snapshot.
func (r *Recorder) Close() Snapshot {
	r.closeMu.Do(func() {
		close(r.in)
		<-r.done
	})
	return r.final
}

func (r *Recorder) loop(st *state) {
	defer close(r.done)
	ticker := r.ticker
	defer ticker.Stop()
	for {
		select {
		case res, ok := <-r.in:
			if !ok {
				r.drainExceptions(st)
				r.closeInterval(st, r.now(), true)
				r.final = r.snapshot(st)
				return
			}
			st.add(&res)
			// Take what is already queued before looking at the other channels.
			for range len(r.in) {
				res, ok = <-r.in
				if !ok {
					break
				}
				st.add(&res)
			}
		case e := <-r.exc:
			st.addException(e)
		case f := <-r.ctl:
			r.drain(st)
			f(st)
		case now := <-ticker.C:
			r.drain(st)
			r.closeInterval(st, now, false)
		}
	}
}

// drain takes every queued result and exception so that a snapshot includes them.
func (r *Recorder) drain(st *state) {
	for range len(r.in) {
		res, ok := <-r.in
		if !ok {
			return
		}
		st.add(&res)
	}
	r.drainExceptions(st)
}

func (r *Recorder) drainExceptions(st *state) {
	for {
		select {
		case e := <-r.exc:
			st.addException(e)
		default:
			return
		}
	}
}

func (st *state) add(res *Result) {
	k := Key{Method: res.Method, Name: res.Name}
	e := st.entries[k]
	if e == nil {
		e = newEntry(res.Method, res.Name)
		st.entries[k] = e
		if st.tracks != nil {
			st.tracks[k] = newTrack()
		}
	}
	e.add(res)
	st.total.add(res)
	st.agg.add(res)
	if st.tracks != nil {
		st.tracks[k].add(res)
	}
	if res.Error == "" {
		return
	}
	fk := failKey{res.Method, res.Name, res.Error}
	f := st.failures[fk]
	if f == nil {
		if len(st.failures) >= maxFailureGroups {
			fk = failKey{res.Method, res.Name, "(other errors: too many distinct messages)"}
			f = st.failures[fk]
		}
		if f == nil {
			f = &Failure{Method: fk.method, Name: fk.name, Error: fk.err, FirstSeen: res.Start}
			st.failures[fk] = f
		}
	}
	f.Occurrences++
	if res.Start.After(f.LastSeen) {
		f.LastSeen = res.Start
	}
}

func (st *state) addException(e Exception) {
	x := st.exceptions[e.Message]
	if x == nil {
		if len(st.exceptions) >= maxExceptions {
			x = st.exceptions[st.excOrder[len(st.excOrder)-1]]
		} else {
			x = &Exception{Message: e.Message, Traceback: e.Traceback}
			st.exceptions[e.Message] = x
			st.excOrder = append(st.excOrder, e.Message)
		}
	}
	x.Count += e.Count
}

// minRateSpan is the shortest time a rate is taken over: a run shorter than
// that (with a one-second interval) reports its requests per minRateSpan
// rather than extrapolating a few requests in a few milliseconds to hundreds a
// second.
const minRateSpan = 100 * time.Millisecond

// closeInterval appends the current interval to the time series. A final
// partial interval is kept only when it saw requests; when it is shorter than
// the interval and a point precedes it, it joins that point (see track.join),
// so the series never shows a few requests over a few milliseconds as a
// whole second's rate.
func (r *Recorder) closeInterval(st *state, now time.Time, final bool) {
	secs := now.Sub(st.ivStart).Seconds()
	if secs <= 0 || (final && st.agg.ivReq == 0) {
		return
	}
	users := r.takePeak()
	join := final && secs < r.tick.Seconds() && len(st.agg.series) > 0
	switch {
	case join:
		secs += st.lastSecs
	case final:
		secs = max(secs, min(r.tick/10, minRateSpan).Seconds())
	}
	closeTrack := func(t *track, cum *Entry) {
		if join {
			t.join(now, secs, users, cum)
		} else {
			t.close(now, secs, users, cum)
		}
	}
	closeTrack(st.agg, st.total)
	for k, t := range st.tracks {
		closeTrack(t, st.entries[k])
	}
	st.ivStart, st.lastSecs = now, secs
}

// Ticks returns the intervals from index from on, with their entry points when
// the recorder keeps entry history: what a history file appends as the run goes.
func (r *Recorder) Ticks(from int) []Tick {
	reply := make(chan []Tick, 1)
	select {
	case r.ctl <- func(st *state) { reply <- st.ticks(from) }:
		return <-reply
	case <-r.done:
		return r.final.ticksFrom(from)
	}
}

func (st *state) ticks(from int) []Tick {
	if from >= len(st.agg.series) {
		return nil
	}
	s := Snapshot{Series: st.agg.series[from:]}
	for k, t := range st.tracks {
		s.Entries = append(s.Entries, Entry{Method: k.Method, Name: k.Name, Series: t.series})
	}
	sortEntries(s.Entries)
	return s.Ticks()
}

func (s Snapshot) ticksFrom(from int) []Tick {
	if from >= len(s.Series) {
		return nil
	}
	return s.Ticks()[from:]
}

func (r *Recorder) snapshot(st *state) Snapshot {
	s := Snapshot{
		Start:   st.start,
		ResetAt: st.resetAt,
		End:     r.now(),
		Users:   r.Users(),
		Total:   st.total.Clone(),
		Series:  append([]Point(nil), st.agg.series...),
	}
	s.Entries = make([]Entry, 0, len(st.entries))
	for k, e := range st.entries {
		c := e.Clone()
		if t := st.tracks[k]; t != nil {
			c.Series = append([]Point(nil), t.series...)
		}
		s.Entries = append(s.Entries, c)
	}
	sortEntries(s.Entries)
	s.Failures = make([]Failure, 0, len(st.failures))
	for _, f := range st.failures {
		s.Failures = append(s.Failures, *f)
	}
	sortFailures(s.Failures)
	s.Exceptions = make([]Exception, 0, len(st.excOrder))
	for _, m := range st.excOrder {
		s.Exceptions = append(s.Exceptions, *st.exceptions[m])
	}
	return s
}
