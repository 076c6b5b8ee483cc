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
	Time     time.Time // end of the interval
	Users    int
	Requests int64 // requests that completed in this interval
	Failures int64
	RPS      float64
	FailPS   float64
	// Service-time percentiles of this interval alone.
	P50MS float64
	P95MS float64
	// Intended-start response-time percentiles of this interval alone.
	RespP50MS float64
	RespP95MS float64
	// RecentMS are service-time percentiles at Percentiles over the last
	// RecentWindow intervals, what Locust's history calls current percentiles.
	RecentMS [NumPercentiles]float64
	// Cumulative figures from the start of the run to the end of this interval.
	TotalRequests int64
	TotalFailures int64
	TotalMedianMS float64
	TotalAvgMS    float64
	TotalMinMS    float64
	TotalMaxMS    float64
	TotalAvgBytes float64
}

// track builds the time series of one entry or of the aggregate.
type track struct {
	// win.Current collects this interval's service times; the window's merge
	// gives the recent percentiles.
	win        *hdrhistogram.WindowedHistogram
	ivResponse *hdrhistogram.Histogram // nil while the clocks agree in this interval
	ivReq      int64
	ivFail     int64
	series     []Point
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
	p := Point{
		Time:          now,
		Users:         users,
		Requests:      t.ivReq,
		Failures:      t.ivFail,
		RPS:           float64(t.ivReq) / secs,
		FailPS:        float64(t.ivFail) / secs,
		P50MS:         quantileMS(cur, 50),
		P95MS:         quantileMS(cur, 95),
		RespP50MS:     quantileMS(responseHist(cur, t.ivResponse), 50),
		RespP95MS:     quantileMS(responseHist(cur, t.ivResponse), 95),
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
	t.series = append(t.series, p)
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
