package monitor

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The metric names of X-Agent's contract (and the fake's).
const (
	metricRequests = "api_requests_total"            // counter {endpoint, method, status}
	metricDuration = "api_request_duration_seconds"  // histogram {endpoint, method, status}
	acceptText     = "text/plain;version=0.0.4;q=1," // the classic text format only
)

// Quantile is a latency quantile estimated from histogram buckets, as
// Prometheus's histogram_quantile does (linear interpolation within the
// bucket), with the bucket it fell in: the true value lies in [LowerMS, UpperMS].
// When it fell in the +Inf bucket, UpperMS is +Inf, MS is the lower bound (the
// largest finite bucket bound) and Bounded is false. All zero when the
// histogram saw no request during the run.
type Quantile struct {
	MS      float64 `json:"MS"`
	LowerMS float64 `json:"LowerMS"`
	UpperMS float64 `json:"UpperMS"`
	Bounded bool    `json:"Bounded"`
}

// Endpoint is the server's view of one (method, route) over the run.
type Endpoint struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	// Requests counts the requests of the run (api_requests_total, or the
	// histogram's count when the counter is missing), the monitor's own polls
	// subtracted.
	Requests float64 `json:"requests"`
	// Statuses is the status mix (status → count), polls subtracted; zero
	// counts are left out.
	Statuses map[string]float64 `json:"statuses"`
	// P50, P95 and P99 are from api_request_duration_seconds, its series
	// summed over status; they do include the monitor's own polls, whose
	// bucket is unknown. All zero when Requests is 0 (a route only the
	// monitor polled).
	P50 Quantile `json:"p50"`
	P95 Quantile `json:"p95"`
	P99 Quantile `json:"p99"`
	// Polls is how many of the server's requests on this route were the
	// monitor's own (health polls, scrapes), already subtracted from Requests.
	Polls float64 `json:"polls"`
}

// counterKey is one counter as tracked: the api_requests_total series of an
// endpoint, method and status, summed over any other label.
type counterKey struct{ endpoint, method, status string }

// histKey is one histogram as tracked: the api_request_duration_seconds
// series of an endpoint and method, summed over status and any other label.
type histKey struct{ endpoint, method string }

type pollKey struct{ method, route, status string }

// ctrack follows one counter: the run's value is last+offset-first.
type ctrack struct{ first, last, offset float64 }

// hist is a histogram: cumulative counts by upper bound (+Inf included).
type hist map[float64]float64

// htrack follows one histogram like ctrack.
type htrack struct{ first, last, offset hist }

// metricsState is the scrape side of a Monitor, guarded by Monitor.mu.
type metricsState struct {
	disabled    bool   // /metrics answered 404: not scraped again
	good        int    // successful scrapes
	baselineBad string // why the first scrape failed, if it did
	sawAPI      bool   // an api_* family appeared
	counters    map[counterKey]*ctrack
	hists       map[histKey]*htrack
	failures    noteBook
	resets      []string
	signals     map[string]float64  // restart signals at the last good scrape (restartSignal)
	lastPolls   map[pollKey]float64 // polls answered before the last good scrape was sent
}

func (s *metricsState) init() {
	s.counters = map[counterKey]*ctrack{}
	s.hists = map[histKey]*htrack{}
}

// scrape fetches and folds in one /metrics answer; it returns false when
// /metrics does not exist and scraping stops.
func (m *Monitor) scrape(baseline bool) bool {
	u := m.urls["metrics"]
	m.mu.Lock()
	snap := maps.Clone(m.polls)
	m.mu.Unlock()
	code, body, err := m.get(m.metricsClient, u, acceptText+"*/*;q=0.1", maxMetricsBody)
	if code == 0 && m.cut.Load() {
		return false // cancelled by StopWithin: the note says so
	}
	now := time.Now()
	var fams map[string]*dto.MetricFamily
	problem := ""
	switch {
	case code == 0:
		problem = m.describeErr(err)
	case code < 200 || code > 299:
		problem = httpStatusText(code)
	case err != nil:
		problem = "reading the body: " + truncate(err.Error(), 150)
	default:
		p := expfmt.NewTextParser(model.UTF8Validation)
		var perr error
		if fams, perr = p.TextToMetricFamilies(bytes.NewReader(body)); perr != nil {
			problem = "not Prometheus text format (" + truncate(perr.Error(), 150) + ")"
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if code != 0 {
		m.countPoll(u, code)
	}
	s := &m.metrics
	if problem != "" {
		s.failures.add("GET " + u.Path + ": " + problem)
		if baseline {
			s.baselineBad = problem
		}
		if code == http.StatusNotFound {
			s.disabled = true
			return false
		}
		return true
	}
	s.ingest(fams, now, baseline)
	s.good++
	s.lastPolls = snap
	return true
}

// ingest folds one scrape's series in. A route's series are first summed over
// every label that is not the route (X-Agent splits each route by status;
// any label this file does not know is summed too), so that one route is one
// counter per status and one histogram, whatever the order of the series.
// Counter resets are then detected on those sums, as Prometheus's rate()
// does, or from a restart signal (restartSignal); either counts as a server
// restart: every tracked value is carried over as an offset and counted again
// from zero.
func (s *metricsState) ingest(fams map[string]*dto.MetricFamily, now time.Time, baseline bool) {
	counters, hists := sumCounters(fams), sumHists(fams)
	if counters != nil || hists != nil {
		s.sawAPI = true
	}
	signal := s.restartSignal(fams)
	down := signal == "" && s.wentDown(counters, hists)
	if signal != "" || down {
		for _, t := range s.counters {
			t.offset += t.last
			t.last = 0
		}
		for _, t := range s.hists {
			t.offset.add(t.last, 1)
			t.last = hist{}
		}
		at := now.Format("2006-01-02 15:04:05.000 MST")
		if down {
			s.resets = append(s.resets, fmt.Sprintf("counter reset at %s (server restart?)", at))
		} else {
			s.resets = append(s.resets, fmt.Sprintf("server restart seen at %s (%s changed); counts carried across it", at, signal))
		}
	}
	for k, v := range counters {
		t := s.counters[k]
		if t == nil {
			t = &ctrack{}
			if baseline {
				t.first = v
			}
			s.counters[k] = t
		}
		t.last = v
	}
	for k, h := range hists {
		t := s.hists[k]
		if t == nil {
			t = &htrack{first: hist{}, offset: hist{}}
			if baseline {
				t.first = h
			}
			s.hists[k] = t
		}
		t.last = h
	}
}

// wentDown reports whether a summed counter or bucket is below its last value.
func (s *metricsState) wentDown(counters map[counterKey]float64, hists map[histKey]hist) bool {
	for k, v := range counters {
		if t := s.counters[k]; t != nil && v < t.last {
			return true
		}
	}
	for k, h := range hists {
		if t := s.hists[k]; t != nil && h.below(t.last) {
			return true
		}
	}
	return false
}

// sumCounters reads api_requests_total summed per endpoint, method and
// status over any other label; nil when the family is missing.
func sumCounters(fams map[string]*dto.MetricFamily) map[counterKey]float64 {
	fam := fams[metricRequests]
	if fam == nil {
		fam = fams[strings.TrimSuffix(metricRequests, "_total")] // OpenMetrics names the family without _total
	}
	if fam == nil {
		return nil
	}
	out := map[counterKey]float64{}
	for _, mt := range fam.GetMetric() {
		l := labels(mt)
		out[counterKey{endpoint: l.endpoint(), method: strings.ToUpper(l["method"]), status: l.status()}] += counterValue(mt)
	}
	return out
}

// sumHists reads api_request_duration_seconds summed per endpoint and method
// over any other label (status included), bucket by bucket and the count;
// nil when the family is missing or not a histogram.
func sumHists(fams map[string]*dto.MetricFamily) map[histKey]hist {
	fam := fams[metricDuration]
	if fam == nil || fam.GetType() != dto.MetricType_HISTOGRAM {
		return nil
	}
	out := map[histKey]hist{}
	for _, mt := range fam.GetMetric() {
		l := labels(mt)
		k := histKey{endpoint: l.endpoint(), method: strings.ToUpper(l["method"])}
		h := out[k]
		if h == nil {
			h = hist{}
			out[k] = h
		}
		h.add(histOf(mt.GetHistogram()), 1)
	}
	return out
}

// restartSignals are the gauges whose change between two scrapes means the
// server restarted, even when its counters grew back past their old values:
// the process start time (Prometheus clients export it by default) and the
// creation times prometheus_client writes for each series of the two API
// families (in the 0.0.4 text format, separate gauge families).
var restartSignals = []string{"process_start_time_seconds", "api_requests_created", metricDuration + "_created"}

// restartSignal records this scrape's restart signals and names the first
// that changed since the last good scrape ("" if none did). A series that
// first appears is no change.
func (s *metricsState) restartSignal(fams map[string]*dto.MetricFamily) string {
	if s.signals == nil {
		s.signals = map[string]float64{}
	}
	why := ""
	for _, name := range restartSignals {
		fam := fams[name]
		if fam == nil {
			continue
		}
		for _, mt := range fam.GetMetric() {
			k := name + seriesID(mt)
			v := counterValue(mt)
			if old, ok := s.signals[k]; ok && old != v && why == "" {
				why = name
			}
			s.signals[k] = v
		}
	}
	return why
}

// seriesID renders a series' labels in a canonical order.
func seriesID(mt *dto.Metric) string {
	ls := mt.GetLabel()
	parts := make([]string, len(ls))
	for i, p := range ls {
		parts[i] = p.GetName() + "=" + fmt.Sprintf("%q", p.GetValue())
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

type labelSet map[string]string

func labels(mt *dto.Metric) labelSet {
	l := labelSet{}
	for _, p := range mt.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// endpoint reads the path label: X-Agent's "endpoint", or a common alternative.
func (l labelSet) endpoint() string {
	for _, k := range []string{"endpoint", "path", "handler", "route"} {
		if v, ok := l[k]; ok {
			return v
		}
	}
	return ""
}

func (l labelSet) status() string {
	for _, k := range []string{"status", "status_code", "code"} {
		if v, ok := l[k]; ok {
			return v
		}
	}
	return ""
}

func counterValue(mt *dto.Metric) float64 {
	switch {
	case mt.Counter != nil:
		return mt.GetCounter().GetValue()
	case mt.Untyped != nil:
		return mt.GetUntyped().GetValue()
	case mt.Gauge != nil:
		return mt.GetGauge().GetValue()
	}
	return 0
}

// histOf reads cumulative bucket counts (integer or float), adding the +Inf
// bucket from the sample count when it is missing.
func histOf(h *dto.Histogram) hist {
	out := hist{}
	for _, b := range h.GetBucket() {
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			c = b.GetCumulativeCountFloat()
		}
		out[b.GetUpperBound()] = c
	}
	inf := math.Inf(1)
	if _, ok := out[inf]; !ok {
		c := float64(h.GetSampleCount())
		if h.SampleCountFloat != nil {
			c = h.GetSampleCountFloat()
		}
		out[inf] = c
	}
	return out
}

// below reports whether any bucket of h is below the same bucket of prev.
func (h hist) below(prev hist) bool {
	for b, c := range prev {
		if v, ok := h[b]; ok && v < c {
			return true
		}
	}
	return false
}

// add adds f×o to h bucket by bucket.
func (h hist) add(o hist, f float64) {
	for b, c := range o {
		h[b] += f * c
	}
}

// endpoints folds the tracked series into per-route figures, polls subtracted.
func (s *metricsState) endpoints() []Endpoint {
	type agg struct {
		statuses   map[string]float64
		hasCounter bool
		h          hist
	}
	type key struct{ method, route string }
	aggs := map[key]*agg{}
	get := func(k key) *agg {
		a := aggs[k]
		if a == nil {
			a = &agg{statuses: map[string]float64{}, h: hist{}}
			aggs[k] = a
		}
		return a
	}
	for k, t := range s.counters {
		v := t.last + t.offset - t.first
		if v <= 0 {
			continue
		}
		a := get(key{k.method, RouteTemplate(k.endpoint)})
		a.hasCounter = true
		a.statuses[k.status] += v
	}
	for k, t := range s.hists {
		d := hist{}
		d.add(t.last, 1)
		d.add(t.offset, 1)
		d.add(t.first, -1)
		if d[math.Inf(1)] <= 0 {
			continue
		}
		get(key{k.method, RouteTemplate(k.endpoint)}).h.add(d, 1)
	}
	out := make([]Endpoint, 0, len(aggs))
	for k, a := range aggs {
		e := Endpoint{Method: k.method, Route: k.route, Statuses: map[string]float64{}}
		for st, v := range a.statuses {
			e.Statuses[st] = v
		}
		for pk, n := range s.lastPolls {
			if pk.method != k.method || pk.route != k.route {
				continue
			}
			if a.hasCounter {
				sub := math.Min(n, e.Statuses[pk.status])
				e.Statuses[pk.status] -= sub
				e.Polls += sub
			} else {
				e.Polls += n
			}
		}
		maps.DeleteFunc(e.Statuses, func(_ string, v float64) bool { return v <= 0 })
		if a.hasCounter {
			for _, v := range e.Statuses {
				e.Requests += v
			}
		} else {
			e.Polls = math.Min(e.Polls, a.h[math.Inf(1)])
			e.Requests = a.h[math.Inf(1)] - e.Polls
		}
		if e.Requests > 0 {
			// A route the monitor alone polled has no quantiles: they would
			// be the polls' own.
			bounds, cum := a.h.sorted()
			e.P50 = bucketQuantile(0.50, bounds, cum)
			e.P95 = bucketQuantile(0.95, bounds, cum)
			e.P99 = bucketQuantile(0.99, bounds, cum)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Endpoint) int {
		if c := strings.Compare(a.Route, b.Route); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

// sorted returns the bounds in ascending order (+Inf last) and their
// cumulative counts, made monotonic.
func (h hist) sorted() ([]float64, []float64) {
	bounds := slices.Sorted(maps.Keys(h))
	cum := make([]float64, len(bounds))
	run := 0.0
	for i, b := range bounds {
		run = math.Max(run, h[b])
		cum[i] = run
	}
	return bounds, cum
}

// bucketQuantile is Prometheus's histogram_quantile over cumulative bucket
// counts (bounds ascending in seconds, +Inf last), in milliseconds with the
// bucket the quantile fell in.
func bucketQuantile(q float64, bounds, cum []float64) Quantile {
	n := len(bounds)
	if n == 0 || cum[n-1] <= 0 {
		return Quantile{}
	}
	rank := q * cum[n-1]
	b := sort.Search(n-1, func(i int) bool { return cum[i] >= rank })
	if b == n-1 && math.IsInf(bounds[b], 1) {
		lower := 0.0
		if n >= 2 {
			lower = bounds[n-2] * 1000
		}
		return Quantile{MS: lower, LowerMS: lower, UpperMS: math.Inf(1)}
	}
	start, end, count := 0.0, bounds[b], cum[b]
	if b == 0 && end <= 0 {
		return Quantile{MS: end * 1000, LowerMS: end * 1000, UpperMS: end * 1000, Bounded: true}
	}
	if b > 0 {
		start = bounds[b-1]
		count -= cum[b-1]
		rank -= cum[b-1]
	}
	v := start
	if count > 0 {
		v = start + (end-start)*(rank/count)
	}
	return Quantile{MS: v * 1000, LowerMS: start * 1000, UpperMS: end * 1000, Bounded: true}
}

// finalNotes adds the scrape notes to nb.
func (s *metricsState) finalNotes(nb *noteBook, path string) {
	lines := s.failures.lines()
	for i, l := range lines {
		if s.good == 0 && i == len(lines)-1 {
			l += "; server-side figures unavailable"
		}
		nb.add(l)
	}
	if s.baselineBad != "" && s.good > 0 {
		nb.add("GET " + path + ": the first scrape failed (" + s.baselineBad + "); its baseline is taken as zero, so server-side counts include requests from before the run")
	}
	if s.good > 0 && !s.sawAPI {
		nb.add("GET " + path + ": no " + metricRequests + " or " + metricDuration + " series; server-side figures unavailable")
	}
	for _, r := range s.resets {
		nb.add(r)
	}
}
