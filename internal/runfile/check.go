package runfile

import (
	"fmt"
	"math"
	"time"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// check validates a decoded run in place, with the limits and consistency
// checks the package doc lists, naming the JSON path of the first problem.
// It also makes the run what the recorder would have made: an empty list is
// nil, every entry has a Service histogram, a Response equal to it is nil.
func check(r *Run) error {
	var c checker
	if err := c.meta(&r.Meta); err != nil {
		return at("meta", err)
	}
	if err := c.stats(&r.Stats); err != nil {
		return at("stats", err)
	}
	if err := list(&r.Checks, limits.checks, "checks", checkCheck); err != nil {
		return at("checks", err)
	}
	if err := list(&r.Alerts, limits.alerts, "alerts", checkAlert); err != nil {
		return at("alerts", err)
	}
	if err := strs(&r.Verdict.Reasons, limits.messageBytes); err != nil {
		return at("verdict.reasons", err)
	}
	if r.Baseline != nil {
		if err := checkBaseline(r.Baseline); err != nil {
			return at("baseline", err)
		}
	}
	if err := checkGenerator(&r.Generator); err != nil {
		return at("generator", err)
	}
	if r.Server != nil {
		if err := checkServer(r.Server); err != nil {
			return at("server", err)
		}
	}
	return nil
}

// checker carries the run-wide budget of series points.
type checker struct {
	points int // series points taken so far
}

func (c *checker) meta(m *Meta) error {
	err := firstErr(
		name("scenario", m.Scenario), name("host", m.Host),
		nonNeg("users", int64(m.Users)), nonNeg("cancelled_in_flight", m.Cancelled),
		message("stopped", m.Stopped), name("harness", m.Harness), name("go_version", m.GoVersion),
		name("segment", m.Segment), name("min_grade", m.MinGrade),
	)
	if err != nil {
		return err
	}
	if m.Duration < 0 {
		return problemf("duration_s", "%s seconds is negative", formatSeconds(m.Duration))
	}
	if err := strs(&m.Classes, limits.nameBytes); err != nil {
		return at("classes", err)
	}
	return at("gate", strs(&m.Gate, limits.nameBytes))
}

func (c *checker) stats(s *stats.Snapshot) error {
	if err := nonNeg("users", int64(s.Users)); err != nil {
		return err
	}
	if len(s.Entries) > limits.entries {
		return problemf("entries", "%d entries, more than the limit of %d", len(s.Entries), limits.entries)
	}
	if len(s.Entries) == 0 {
		s.Entries = nil
	}
	var requests, failures int64
	seen := make(map[stats.Key]int, len(s.Entries))
	for i := range s.Entries {
		e := &s.Entries[i]
		if err := c.entry(e); err != nil {
			return at(fmt.Sprintf("entries[%d]", i), err)
		}
		k := stats.Key{Method: e.Method, Name: e.Name}
		if j, dup := seen[k]; dup {
			return problemf(fmt.Sprintf("entries[%d]", i), "duplicate of entries[%d] (method %q, name %q)", j, clip(e.Method, 64), clip(e.Name, 64))
		}
		seen[k] = i
		var ok1, ok2 bool
		requests, ok1 = addInt(requests, e.Requests)
		failures, ok2 = addInt(failures, e.Failures)
		if !ok1 || !ok2 {
			return problemf(fmt.Sprintf("entries[%d]", i), "the entries' requests or failures overflow a 64-bit count")
		}
	}
	if s.Total.Requests != requests {
		return problemf("total.requests", "%d, but the entries' requests add up to %d", s.Total.Requests, requests)
	}
	if s.Total.Failures != failures {
		return problemf("total.failures", "%d, but the entries' failures add up to %d", s.Total.Failures, failures)
	}
	if err := c.entry(&s.Total); err != nil {
		return at("total", err)
	}
	if err := list(&s.Failures, limits.failures, "failure groups", checkFailure); err != nil {
		return at("failures", err)
	}
	if err := list(&s.Exceptions, limits.exceptions, "exceptions", checkException); err != nil {
		return at("exceptions", err)
	}
	return at("series", c.series(&s.Series))
}

func addInt(a, b int64) (int64, bool) {
	if b > math.MaxInt64-a {
		return 0, false
	}
	return a + b, true
}

func (c *checker) entry(e *stats.Entry) error {
	err := firstErr(
		name("method", e.Method), name("name", e.Name),
		nonNeg("requests", e.Requests), nonNeg("failures", e.Failures), nonNeg("sum_us", e.SumMicros),
		nonNeg("min_us", e.MinMicros), nonNeg("max_us", e.MaxMicros), nonNeg("content_bytes", e.ContentBytes),
	)
	if err != nil {
		return err
	}
	if e.Failures > e.Requests {
		return problemf("failures", "%d failures but %d requests", e.Failures, e.Requests)
	}
	if e.MinMicros > e.MaxMicros {
		return problemf("min_us", "%d is above max_us %d", e.MinMicros, e.MaxMicros)
	}
	if e.Service == nil {
		if e.Requests != 0 {
			return problemf("service_hist", "missing, want a histogram of %d values", e.Requests)
		}
		e.Service = stats.NewHistogram()
	}
	if err := holds("service_hist", e.Service, e.Requests); err != nil {
		return err
	}
	if e.Response != nil {
		if err := holds("response_hist", e.Response, e.Requests); err != nil {
			return err
		}
		// nil means "equal to Service" to package stats; keep it so.
		if e.Response.Equals(e.Service) {
			e.Response = nil
		}
	}
	return at("series", c.series(&e.Series))
}

// holds requires a histogram to hold an entry's requests.
func holds(field string, h interface{ TotalCount() int64 }, want int64) error {
	if n := h.TotalCount(); n != want {
		return problemf(field, "histogram holds %d values, want %d (the entry's requests)", n, want)
	}
	return nil
}

func (c *checker) series(ps *[]stats.Point) error {
	if len(*ps) > limits.points-c.points {
		return problemf("", "%d points bring the run past the limit of %d series points", len(*ps), limits.points)
	}
	c.points += len(*ps)
	return list(ps, math.MaxInt, "points", checkPoint)
}

func checkPoint(p *stats.Point) error {
	err := firstErr(
		nonNeg("users", int64(p.Users)), nonNeg("requests", p.Requests), nonNeg("failures", p.Failures),
		nonNeg("total_requests", p.TotalRequests), nonNeg("total_failures", p.TotalFailures),
	)
	if err != nil {
		return err
	}
	if p.Failures > p.Requests {
		return problemf("failures", "%d failures but %d requests", p.Failures, p.Requests)
	}
	if p.TotalFailures > p.TotalRequests {
		return problemf("total_failures", "%d failures but %d total_requests", p.TotalFailures, p.TotalRequests)
	}
	return nil
}

func checkFailure(f *stats.Failure) error {
	return firstErr(name("method", f.Method), name("name", f.Name), message("error", f.Error), nonNeg("occurrences", f.Occurrences))
}

func checkException(x *stats.Exception) error {
	return firstErr(message("message", x.Message), text("traceback", x.Traceback, limits.tracebackBytes), nonNeg("count", x.Count))
}

func checkCheck(c *target.Check) error {
	return firstErr(name("endpoint", c.Endpoint), name("metric", c.Metric), message("message", c.Message))
}

func checkAlert(a *target.AlertResult) error {
	return firstErr(name("name", a.Name), message("message", a.Message))
}

func checkBaseline(b *compare.Result) error {
	if err := name("baseline", b.Baseline); err != nil {
		return err
	}
	err := list(&b.Rows, limits.rows, "rows", func(r *compare.Row) error {
		return firstErr(name("entry", r.Entry), name("metric", r.Metric), message("note", r.Note))
	})
	if err != nil {
		return at("rows", err)
	}
	if err := strs(&b.OnlyInBaseline, limits.nameBytes); err != nil {
		return at("only_in_baseline", err)
	}
	return at("only_in_run", strs(&b.OnlyInRun, limits.nameBytes))
}

func checkGenerator(g *Generator) error {
	rt := &g.Runtime
	err := firstErr(name("model", g.Model), message("shape", g.Shape), name("clock", g.Clock),
		nonNeg("max_inflight", int64(g.MaxInFlight)), nonNeg("arrivals", g.Arrivals), nonNeg("iterations", g.Iterations),
		nonNeg("dropped", g.Dropped), nonNeg("lag.count", g.Lag.Count), name("runtime.cpu_source", rt.CPUSource),
		nonNeg("runtime.gomaxprocs", int64(rt.GOMAXPROCS)), nonNeg("runtime.goroutines", int64(rt.Goroutines)),
		message("advice", g.Advice))
	if err != nil {
		return err
	}
	if err := strs(&g.Reasons, limits.messageBytes); err != nil {
		return at("reasons", err)
	}
	if err := strs(&g.Notes, limits.messageBytes); err != nil {
		return at("notes", err)
	}
	if err := strs(&rt.Notes, limits.messageBytes); err != nil {
		return at("runtime.notes", err)
	}
	return at("runtime.host", checkHost(&rt.Host))
}

func checkHost(h *saturation.Host) error {
	if err := firstErr(nonNeg("ticks", h.Ticks), nonNeg("pauses_dropped", h.PausesDropped), nonNeg("busy_stalls", h.BusyStalls)); err != nil {
		return err
	}
	return at("pauses", list(&h.Pauses, maxServerItems, "pauses", func(*saturation.Pause) error { return nil }))
}

// maxServerItems bounds each list of the server view (and of host pauses).
const maxServerItems = 100_000

func checkServer(s *Server) error {
	if s.HealthEvery < -24*time.Hour || s.MetricsEvery < -24*time.Hour {
		return problemf("", "poll periods out of range")
	}
	r := &s.Report
	if err := firstErr(nonNeg("scrapes", int64(r.Scrapes)), nonNeg("health_polls", int64(r.HealthPolls))); err != nil {
		return err
	}
	if err := strs(&r.Notes, limits.messageBytes); err != nil {
		return at("notes", err)
	}
	if err := list(&r.Transitions, maxServerItems, "transitions", checkTransition); err != nil {
		return at("transitions", err)
	}
	if err := list(&r.Periods, maxServerItems, "periods", checkPeriod); err != nil {
		return at("periods", err)
	}
	if err := list(&r.Endpoints, maxServerItems, "endpoints", checkServerEndpoint); err != nil {
		return at("endpoints", err)
	}
	return at("rows", list(&s.Rows, maxServerItems, "rows", checkServerRow))
}

func checkTransition(t *monitor.Transition) error {
	if err := firstErr(name("probe", t.Probe), name("status", t.Status), message("message", t.Message)); err != nil {
		return err
	}
	return at("failing", strs(&t.Failing, limits.nameBytes))
}

func checkPeriod(p *monitor.Period) error {
	if err := firstErr(name("probe", p.Probe), name("status", p.Status)); err != nil {
		return err
	}
	if p.To.Before(p.From) {
		return problemf("to", "before from")
	}
	return nil
}

func checkServerEndpoint(e *monitor.Endpoint) error {
	if err := firstErr(name("method", e.Method), name("route", e.Route), count("requests", e.Requests), count("polls", e.Polls)); err != nil {
		return err
	}
	if len(e.Statuses) > 1000 {
		return problemf("statuses", "%d statuses, more than 1000", len(e.Statuses))
	}
	if len(e.Statuses) == 0 {
		e.Statuses = nil
	}
	for k, v := range e.Statuses {
		if err := firstErr(name("statuses key", k), count("statuses["+clip(k, 16)+"]", v)); err != nil {
			return err
		}
	}
	unbounded(&e.P50, &e.P95, &e.P99)
	return nil
}

func checkServerRow(r *monitor.Row) error {
	unbounded(&r.ServerP50, &r.ServerP95, &r.ServerP99)
	return firstErr(name("method", r.Method), name("route", r.Route), message("client_name", r.ClientName),
		count("server_requests", r.ServerRequests), nonNeg("client_requests", r.ClientRequests))
}

// unbounded restores the upper edge of a quantile in the unbounded bucket,
// +Inf, which the file holds as null (and Decode reads as NaN).
func unbounded(qs ...*monitor.Quantile) {
	for _, q := range qs {
		if math.IsNaN(q.UpperMS) {
			q.UpperMS = math.Inf(1)
		}
	}
}

// ---- Field checks ----

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// list checks at most limit items in place, naming the index of the item at
// fault; an empty list becomes nil.
func list[T any](s *[]T, limit int, what string, one func(*T) error) error {
	if len(*s) > limit {
		return problemf("", "%d %s, more than the limit of %d", len(*s), what, limit)
	}
	if len(*s) == 0 {
		*s = nil
	}
	for i := range *s {
		if err := one(&(*s)[i]); err != nil {
			return at(fmt.Sprintf("[%d]", i), err)
		}
	}
	return nil
}

// strs checks a list of strings of at most max bytes each; an empty list becomes nil.
func strs(ss *[]string, max int) error {
	return list(ss, limits.strings, "strings", func(s *string) error { return text("", *s, max) })
}

func nonNeg(field string, v int64) error {
	if v < 0 {
		return problemf(field, "%d is negative", v)
	}
	return nil
}

// count checks a float count: finite and not negative.
func count(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return problemf(field, "%v is not a count", v)
	}
	return nil
}

func text(field, s string, max int) error {
	if len(s) > max {
		return problemf(field, "%d bytes, longer than the %s limit", len(s), byteSize(max))
	}
	return nil
}

func name(field, s string) error    { return text(field, s, limits.nameBytes) }
func message(field, s string) error { return text(field, s, limits.messageBytes) }
