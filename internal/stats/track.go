package stats

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Percentiles are the percentiles Locust reports in its tables and CSV files.
var Percentiles = []float64{50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100}

// NumPercentiles is len(Percentiles), the length of Point.RecentMS.
const NumPercentiles = 11

// RecentWindow is how far back Point.RecentMS looks, Locust's "current" percentile window.
const RecentWindow = 10 // intervals

// Point is one interval (a second by default) of a time series, of the
// aggregate or of one entry.
type Point struct {
	Time     time.Time `json:"time"` // end of the interval
	Users    int       `json:"users"`
	Requests int64     `json:"requests"` // requests that completed in this interval
	Failures int64     `json:"failures"`
	RPS      float64   `json:"rps"`
	FailPS   float64   `json:"fail_ps"`
	// Service-time percentiles of this interval alone.
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	// Intended-start response-time percentiles of this interval alone.
	RespP50MS float64 `json:"resp_p50_ms"`
	RespP95MS float64 `json:"resp_p95_ms"`
	// RecentMS are service-time percentiles at Percentiles over the last
	// RecentWindow intervals, what Locust's history calls current percentiles.
	RecentMS [NumPercentiles]float64 `json:"recent_ms"`
	// Cumulative figures from the start of the run to the end of this interval.
	TotalRequests int64   `json:"total_requests"`
	TotalFailures int64   `json:"total_failures"`
	TotalMedianMS float64 `json:"total_median_ms"`
	TotalAvgMS    float64 `json:"total_avg_ms"`
	TotalMinMS    float64 `json:"total_min_ms"`
	TotalMaxMS    float64 `json:"total_max_ms"`
	TotalAvgBytes float64 `json:"total_avg_bytes"`
}

// track builds the time series of one entry or of the aggregate.
type track struct {
	// win.Current collects this interval's service times; the window's merge
	// gives the recent percentiles.
	win        *hdrhistogram.WindowedHistogram
	ivResponse *hdrhistogram.Histogram // nil while the clocks agree in this interval
	ivReq      int64
	ivFail     int64
	// The last closed interval's histograms, for join: prev is its slot of
	// the window, which keeps its values until RecentWindow-1 more rotations.
	prev, prevResponse *hdrhistogram.Histogram
	series             []Point
}

func newTrack() *track {
	return &track{win: hdrhistogram.NewWindowed(RecentWindow, MinMicros, MaxMicros, SigFigures)}
}

func (t *track) add(r *Result) {
	t.ivReq++
	if r.Error != "" {
		t.ivFail++
	}
	t.ivResponse = recordBoth(t.win.Current, t.ivResponse, r)
}

// close ends the interval of secs seconds at now, appends its point (cum is the
// entry's cumulative statistics) and starts the next interval.
func (t *track) close(now time.Time, secs float64, users int, cum *Entry) {
	cur := t.win.Current
	p := t.point(now, secs, users, t.ivReq, t.ivFail, cur, responseHist(cur, t.ivResponse), cum)
	t.series = append(t.series, p)
	t.prev, t.prevResponse = cur, t.ivResponse
	t.next()
}

// join ends a short final interval by merging it into the last point, which
// then covers both intervals, secs seconds in all, up to now: the requests
// and failures add up, the rates are over secs, the interval percentiles are
// those of both intervals' samples, users the more of the two. A track with
// no point yet (an entry first seen in the final interval) gets one over secs.
func (t *track) join(now time.Time, secs float64, users int, cum *Entry) {
	n := len(t.series)
	if n == 0 || t.prev == nil {
		t.close(now, secs, users, cum)
		return
	}
	last := t.series[n-1]
	cur := t.win.Current
	service := t.prev.Clone()
	service.Merge(cur)
	response := responseHist(t.prev, t.prevResponse).Clone()
	response.Merge(responseHist(cur, t.ivResponse))
	t.series[n-1] = t.point(now, secs, max(users, last.Users), last.Requests+t.ivReq, last.Failures+t.ivFail,
		service, response, cum)
	t.prev, t.prevResponse = nil, nil
	t.next()
}

// point is the point of an interval of secs seconds ending at now with these
// counts and histograms; the recent percentiles are the window's.
func (t *track) point(now time.Time, secs float64, users int, req, fail int64, service, response *hdrhistogram.Histogram, cum *Entry) Point {
	p := Point{
		Time:          now,
		Users:         users,
		Requests:      req,
		Failures:      fail,
		RPS:           float64(req) / secs,
		FailPS:        float64(fail) / secs,
		P50MS:         quantileMS(service, 50),
		P95MS:         quantileMS(service, 95),
		RespP50MS:     quantileMS(response, 50),
		RespP95MS:     quantileMS(response, 95),
		TotalRequests: cum.Requests,
		TotalFailures: cum.Failures,
		TotalMedianMS: cum.ServiceMS(50),
		TotalAvgMS:    cum.AvgMS(),
		TotalMinMS:    cum.MinMS(),
		TotalMaxMS:    cum.MaxMS(),
		TotalAvgBytes: cum.AvgContentBytes(),
	}
	if recent := t.win.Merge(); recent.TotalCount() > 0 {
		for i, v := range recent.ValueAtPercentilesSlice(Percentiles) {
			p.RecentMS[i] = float64(v) / usPerMillis
		}
	}
	return p
}

// next starts the next interval.
func (t *track) next() {
	t.win.Rotate()
	t.ivResponse = nil
	t.ivReq, t.ivFail = 0, 0
}

// EntryPoint is one entry's point of a Tick.
type EntryPoint struct {
	Method string
	Name   string
	Point
}

// Tick is one interval of the run: the aggregate's point and, when the recorder
// keeps entry history, each entry's point at the same time, sorted like Entries.
type Tick struct {
	Total   Point
	Entries []EntryPoint
}

// Ticks regroups the snapshot's series by interval.
func (s Snapshot) Ticks() []Tick {
	at := make(map[time.Time][]EntryPoint)
	for _, e := range s.Entries {
		for _, p := range e.Series {
			at[p.Time] = append(at[p.Time], EntryPoint{Method: e.Method, Name: e.Name, Point: p})
		}
	}
	ticks := make([]Tick, len(s.Series))
	for i, p := range s.Series {
		ticks[i] = Tick{Total: p, Entries: at[p.Time]}
	}
	return ticks
}
