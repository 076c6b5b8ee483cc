// Package stats turns request results into statistics: per-entry and aggregate
// counters, HDR latency histograms for two clocks, grouped failures, harness-side
// exceptions and a one-second time series.
//
// Workers never touch a histogram: they send plain Result values to a Recorder,
// whose single aggregator goroutine owns every statistic (vegeta's design), so
// recording needs no lock beyond the channel. A Snapshot is a deep copy, a plain
// value that can be printed, graded, encoded and merged.
package stats

import (
	"cmp"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: 1 µs to 60 s at 3 significant figures.
const (
	MinMicros   = 1
	MaxMicros   = 60_000_000
	SigFigures  = 3
	usPerMillis = 1000.0
)

// Result is the outcome of one request, sent by a user to the Recorder.
type Result struct {
	Method   string        // HTTP method, part of the entry key
	Name     string        // request name statistics group by, e.g. "GET /goals (auth)" minus method
	Start    time.Time     // when the request was sent
	Intended time.Time     // when the schedule wanted it sent; zero means Start
	Latency  time.Duration // service time: sent to last byte read
	Bytes    int64         // response body bytes read
	Status   int           // HTTP status, 0 when no response arrived
	Error    string        // failure text; empty on success
}

// ResponseTime is the latency a user on a schedule sees: from the intended start to the last byte.
func (r Result) ResponseTime() time.Duration {
	if r.Intended.IsZero() || !r.Intended.Before(r.Start) {
		return r.Latency
	}
	return r.Start.Sub(r.Intended) + r.Latency
}

// Key identifies a statistics entry.
type Key struct {
	Method string
	Name   string
}

// Entry is the statistics of one (method, name) pair, or of the aggregate.
type Entry struct {
	Method       string `json:"method"`
	Name         string `json:"name"`
	Requests     int64  `json:"requests"`
	Failures     int64  `json:"failures"`
	SumMicros    int64  `json:"sum_us"` // exact sum of service times
	MinMicros    int64  `json:"min_us"` // exact minimum service time; 0 when there are no requests
	MaxMicros    int64  `json:"max_us"` // exact maximum service time
	ContentBytes int64  `json:"content_bytes"`
	// Service holds service times (sent → last byte) in microseconds.
	Service *hdrhistogram.Histogram `json:"service_hist"`
	// Response holds response times from the intended start in microseconds.
	// While recording it stays nil as long as every response time equals its
	// service time (no schedule ran late), which saves a histogram write per result.
	Response *hdrhistogram.Histogram `json:"response_hist,omitempty"`
	// Series is the entry's own time series, kept when the Recorder was made
	// WithEntryHistory (Locust's --csv-full-history).
	Series []Point `json:"series"`
}

// NewHistogram returns an empty histogram with the package's bounds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(MinMicros, MaxMicros, SigFigures)
}

func newEntry(method, name string) *Entry {
	return &Entry{Method: method, Name: name, Service: NewHistogram()}
}

func clampMicros(d time.Duration) int64 {
	us := d.Microseconds()
	if us < MinMicros {
		return MinMicros
	}
	if us > MaxMicros {
		return MaxMicros
	}
	return us
}

func (e *Entry) add(r *Result) {
	us := r.Latency.Microseconds()
	if us < 0 {
		us = 0
	}
	if e.Requests == 0 || us < e.MinMicros {
		e.MinMicros = us
	}
	if us > e.MaxMicros {
		e.MaxMicros = us
	}
	e.Requests++
	if r.Error != "" {
		e.Failures++
	}
	e.SumMicros += us
	e.ContentBytes += r.Bytes
	e.Response = recordBoth(e.Service, e.Response, r)
}

// recordBoth records a result's service time in service and its response time
// in response, which is nil while the two clocks have always agreed: on the
// first result where they differ it starts as a copy of service.
func recordBoth(service, response *hdrhistogram.Histogram, r *Result) *hdrhistogram.Histogram {
	rt := r.ResponseTime()
	if response == nil && rt != r.Latency {
		response = cloneHist(service)
	}
	// RecordValue fails only outside the bounds, which clampMicros rules out.
	_ = service.RecordValue(clampMicros(r.Latency))
	if response != nil {
		_ = response.RecordValue(clampMicros(rt))
	}
	return response
}

// responseHist is the response-time histogram, service time where the clocks agreed.
func responseHist(service, response *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if response == nil {
		return service
	}
	return response
}

// Clone returns a deep copy.
func (e Entry) Clone() Entry {
	c := e
	c.Service = cloneHist(e.Service)
	c.Response = cloneHist(responseHist(e.Service, e.Response))
	c.Series = append([]Point(nil), e.Series...)
	return c
}

func cloneHist(h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if h == nil {
		return NewHistogram()
	}
	return hdrhistogram.Import(h.Export())
}

// Merge adds o's counts and samples into e (exactly: histograms merge bucket by bucket).
func (e *Entry) Merge(o Entry) {
	if o.Requests == 0 {
		return
	}
	if e.Requests == 0 || o.MinMicros < e.MinMicros {
		e.MinMicros = o.MinMicros
	}
	e.MaxMicros = max(e.MaxMicros, o.MaxMicros)
	e.Requests += o.Requests
	e.Failures += o.Failures
	e.SumMicros += o.SumMicros
	e.ContentBytes += o.ContentBytes
	if e.Service == nil {
		e.Service = NewHistogram()
	}
	e.Response = cloneHist(responseHist(e.Service, e.Response))
	e.Service.Merge(o.Service)
	e.Response.Merge(responseHist(o.Service, o.Response))
}

// AvgMS is the mean service time in milliseconds.
func (e Entry) AvgMS() float64 {
	if e.Requests == 0 {
		return 0
	}
	return float64(e.SumMicros) / float64(e.Requests) / usPerMillis
}

// MinMS is the smallest service time in milliseconds.
func (e Entry) MinMS() float64 { return float64(e.MinMicros) / usPerMillis }

// MaxMS is the largest service time in milliseconds.
func (e Entry) MaxMS() float64 { return float64(e.MaxMicros) / usPerMillis }

// ServiceMS is the q-th percentile (0–100) of service time in milliseconds.
func (e Entry) ServiceMS(q float64) float64 { return quantileMS(e.Service, q) }

// ResponseMS is the q-th percentile (0–100) of intended-start response time in milliseconds.
func (e Entry) ResponseMS(q float64) float64 {
	return quantileMS(responseHist(e.Service, e.Response), q)
}

// FailRatio is failures over requests, 0 with no requests.
func (e Entry) FailRatio() float64 {
	if e.Requests == 0 {
		return 0
	}
	return float64(e.Failures) / float64(e.Requests)
}

// AvgContentBytes is the mean response body size.
func (e Entry) AvgContentBytes() float64 {
	if e.Requests == 0 {
		return 0
	}
	return float64(e.ContentBytes) / float64(e.Requests)
}

func quantileMS(h *hdrhistogram.Histogram, q float64) float64 {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return float64(h.ValueAtQuantile(q)) / usPerMillis
}

// Failure is one group of failed requests with the same method, name and error.
type Failure struct {
	Method      string    `json:"method"`
	Name        string    `json:"name"`
	Error       string    `json:"error"`
	Occurrences int64     `json:"occurrences"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Exception is a harness-side error (a task that panicked, a hook that failed).
type Exception struct {
	Message   string `json:"message"`
	Traceback string `json:"traceback"`
	Count     int64  `json:"count"`
}

// Snapshot is the state of a run's statistics at one moment.
type Snapshot struct {
	// Start is when the statistics began: the run's start or, after
	// Recorder.ResetStats, the reset. Entries, Total, Failures, Exceptions and
	// the rates over Duration cover Start to End; Series covers the whole run,
	// so points before a reset are timed before Start.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// ResetAt is when Recorder.ResetStats last cleared the statistics (equal
	// to Start then); zero when they never were. Run files do not keep it.
	ResetAt    time.Time   `json:"-"`
	Users      int         `json:"users"`   // running at End
	Entries    []Entry     `json:"entries"` // sorted by name, then method
	Total      Entry       `json:"total"`   // the aggregate, Name "Aggregated"
	Failures   []Failure   `json:"failures"`
	Exceptions []Exception `json:"exceptions"`
	Series     []Point     `json:"series"` // the aggregate's time series
}

// Duration is the time covered by the snapshot.
func (s Snapshot) Duration() time.Duration { return s.End.Sub(s.Start) }

// RPS is the entry's request rate over the snapshot's duration.
func (s Snapshot) RPS(e Entry) float64 {
	d := s.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(e.Requests) / d
}

// FailPS is the entry's failure rate per second over the snapshot's duration.
func (s Snapshot) FailPS(e Entry) float64 {
	d := s.Duration().Seconds()
	if d <= 0 {
		return 0
	}
	return float64(e.Failures) / d
}

// Entry returns the entry with the given method and name.
func (s Snapshot) Entry(method, name string) (Entry, bool) {
	for _, e := range s.Entries {
		if e.Method == method && e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Method, b.Method))
	})
}

func sortFailures(fs []Failure) {
	slices.SortFunc(fs, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Occurrences, a.Occurrences), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Method, b.Method), cmp.Compare(a.Error, b.Error))
	})
}

// Label names an entry as "METHOD name", without repeating a method the name
// already starts with (X-Agent's names are like "GET /goals (auth)").
func (e Entry) Label() string {
	if e.Method == "" || strings.HasPrefix(e.Name, e.Method+" ") {
		return e.Name
	}
	return e.Method + " " + e.Name
}
