package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// The vendored uPlot (scripts/vendor-uplot.sh writes these files) and the
// report's own template, script and styles. Everything is inlined into the
// page, so a report opens without any network request.
var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed assets/VERSION
	uplotVersionFile string
	//go:embed assets/report.tmpl.html
	htmlTemplateText string
	//go:embed assets/report.js
	reportJS string
	//go:embed assets/report.css
	reportCSS string
)

// UplotVersion is the version of the vendored uPlot.
var UplotVersion = strings.TrimSpace(uplotVersionFile)

var htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))

// WriteHTML writes a self-contained HTML report of the run: header and verdict,
// the statistics and percentile tables, failures and exceptions, the graded
// targets and alerts, the comparison with a baseline, and charts over time
// drawn with uPlot. The page loads nothing: scripts, styles and data are
// inline, and a Content-Security-Policy forbids any fetch. The output depends
// on the run only, so the same run renders the same bytes.
func WriteHTML(w io.Writer, run runfile.Run) error {
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, newHTMLPage(run)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// htmlPage is everything the template shows, formatted.
type htmlPage struct {
	Title            string
	Harness          string
	Pass             bool
	Reasons          []string
	Meta             []htmlField
	Stats            []htmlStatsRow
	PercentileLabels []string
	Percentiles      []htmlPercentileTable
	Failures         []htmlFailure
	Exceptions       []stats.Exception
	Checks           []htmlCheck
	Alerts           []htmlAlert
	Baseline         *htmlBaseline
	Server           *htmlServer
	Generator        []htmlField
	GeneratorAdvice  string
	Saturated        bool
	Charts           []htmlChart
	Data             htmlChartData
	UplotJS          template.JS
	UplotCSS         template.CSS
	JS               template.JS
	CSS              template.CSS
}

type htmlField struct{ Label, Value string }

type htmlStatsRow struct {
	Total                                           bool
	Type, Name                                      string
	Requests                                        int64
	Fails, Median, Avg, Min, Max, Size, RPS, FailPS string
}

type htmlPercentileTable struct {
	Title string
	Rows  []htmlPercentileRow
}

type htmlPercentileRow struct {
	Total      bool
	Type, Name string
	Cells      []string
	Requests   int64
}

type htmlFailure struct {
	Method, Name, Error string
	Occurrences         int64
}

type htmlCheck struct {
	Scope, Metric, Value, Grade, Class, Bounds, Gated, Result, Message string
	Failed                                                             bool
}

type htmlAlert struct {
	Name, Value, Limit, Message string
	Fired                       bool
}

type htmlBaseline struct {
	File, Start, Limits, Regressions string
	Rows                             []htmlBaselineRow
	OnlyInBaseline, OnlyInRun        []string
}

type htmlBaselineRow struct {
	Entry, Metric, Old, New, Change, Status, Note, Class string
}

// htmlChartData is the JSON the page script reads from <script id="data">.
// html/template encodes it with encoding/json, which escapes <, > and &, so no
// string in it can close the script element.
type htmlChartData struct {
	Scenario string      `json:"scenario"`
	Charts   []htmlChart `json:"charts"`
	// Bands are the server's unhealthy or not-ready periods, shaded on every chart.
	Bands []htmlBand `json:"bands"`
}

// htmlServer is the server's view of the run.
type htmlServer struct {
	Summary  string
	Timeline []htmlTransition
	Rows     []htmlServerRow
	Notes    []string
}

type htmlTransition struct {
	Time, Probe, Text string
	Bad               bool
}

type htmlServerRow struct {
	Method, Route, Client string
	ServerN               string
	ClientN               int64
	Cells                 []string
}

// htmlChart is one uPlot chart: Data[0] is the x axis (unix seconds), then one
// array per series.
type htmlChart struct {
	ID     string         `json:"id"`
	Title  string         `json:"title"`
	Unit   string         `json:"unit"`
	Series []htmlSeries   `json:"series"`
	Data   [][]htmlNumber `json:"data"`
}

type htmlSeries struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

// htmlNumber is a float that encodes NaN and ±Inf as null (uPlot's gap), which
// encoding/json would refuse.
type htmlNumber float64

func (n htmlNumber) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

func newHTMLPage(run runfile.Run) htmlPage {
	s := run.Stats
	title := "X-Agent load test"
	if run.Meta.Scenario != "" {
		title += ": " + run.Meta.Scenario
	}
	p := htmlPage{
		Title:   title,
		Harness: run.Meta.Harness,
		Pass:    run.Verdict.Pass,
		Reasons: run.Verdict.Reasons,
		Meta:    htmlMetaFields(run),

		Generator:       htmlGeneratorFields(run),
		GeneratorAdvice: run.Generator.Advice,
		Saturated:       run.Generator.Saturated,
		UplotJS:         template.JS(uplotJS),
		UplotCSS:        template.CSS(uplotCSS),
		JS:              template.JS(reportJS),
		CSS:             template.CSS(reportCSS),
	}
	for _, e := range s.Entries {
		p.Stats = append(p.Stats, htmlStatsRowOf(s, e.Method, e.Name, e, false))
	}
	p.Stats = append(p.Stats, htmlStatsRowOf(s, "", htmlTotalName(s), s.Total, true))

	for _, q := range Percentiles {
		p.PercentileLabels = append(p.PercentileLabels, PercentileLabel(q))
	}
	p.Percentiles = append(p.Percentiles, htmlPercentileTableOf(s, "Response time percentiles, service time (ms)", stats.Entry.ServiceMS))
	if differ(s) {
		p.Percentiles = append(p.Percentiles, htmlPercentileTableOf(s,
			"Response time percentiles from the intended start (ms; includes time the schedule ran late)", stats.Entry.ResponseMS))
	}
	for _, f := range s.Failures {
		p.Failures = append(p.Failures, htmlFailure{Method: f.Method, Name: f.Name, Error: f.Error, Occurrences: f.Occurrences})
	}
	p.Exceptions = s.Exceptions
	p.Checks = htmlChecks(run.Checks)
	for _, a := range run.Alerts {
		p.Alerts = append(p.Alerts, htmlAlert{Name: a.Name, Value: htmlNum(a.Value), Limit: htmlNum(a.Limit), Message: a.Message, Fired: a.Fired})
	}
	if run.Baseline != nil {
		p.Baseline = htmlBaselineOf(*run.Baseline)
	}
	p.Charts = htmlCharts(s)
	p.Data = htmlChartData{Scenario: run.Meta.Scenario, Charts: p.Charts, Bands: periodsOf(run.Server)}
	if sv := run.Server; sv != nil {
		p.Server = &htmlServer{Summary: ServerSummary(sv), Notes: sv.Report.Notes}
		for _, t := range sv.Report.Transitions {
			p.Server.Timeline = append(p.Server.Timeline, htmlTransition{Time: t.Time.UTC().Format("15:04:05.000"), Probe: t.Probe,
				Text: TransitionText(t), Bad: t.Status != monitor.StatusHealthy && t.Status != monitor.StatusReady})
		}
		for _, r := range ServerRows(sv) {
			p.Server.Rows = append(p.Server.Rows, htmlServerRow{Method: r.Method, Route: r.Route, Client: r.ClientName,
				ServerN: strconv.FormatFloat(r.ServerRequests, 'f', -1, 64), ClientN: r.ClientRequests,
				Cells: []string{QuantileText(r.ServerP50), clientMS(r, r.ClientP50MS), QuantileText(r.ServerP95), clientMS(r, r.ClientP95MS),
					QuantileText(r.ServerP99), clientMS(r, r.ClientP99MS)}})
		}
	}
	return p
}

func htmlTotalName(s stats.Snapshot) string {
	if s.Total.Name == "" {
		return stats.TotalName
	}
	return s.Total.Name
}

func htmlMetaFields(run runfile.Run) []htmlField {
	m := run.Meta
	host := htmlOrDash(m.Host)
	if m.Fake {
		host += " (embedded fake)"
	}
	length := "—"
	if !m.Start.IsZero() && !m.End.IsZero() {
		length = m.End.Sub(m.Start).Round(time.Millisecond).String()
	}
	return []htmlField{
		{"Scenario", htmlOrDash(m.Scenario)},
		{"Host", host},
		{"Users", strconv.Itoa(m.Users)},
		{"Spawn rate", strconv.FormatFloat(m.SpawnRate, 'f', -1, 64) + " users/s"},
		{"Duration asked", m.Duration.String()},
		{"Start (UTC)", htmlUTC(m.Start)},
		{"End (UTC)", htmlUTC(m.End)},
		{"Actual length", length},
		{"Classes", htmlOrDash(strings.Join(m.Classes, ", "))},
		{"Seed", strconv.FormatUint(m.Seed, 10)},
		{"Stopped", htmlOrDash(m.Stopped)},
		{"Harness", htmlOrDash(m.Harness)},
		{"Go", htmlOrDash(m.GoVersion)},
	}
}

func htmlUTC(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}

func htmlOrDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func htmlStatsRowOf(s stats.Snapshot, typ, name string, e stats.Entry, total bool) htmlStatsRow {
	fails := strconv.FormatInt(e.Failures, 10)
	if total {
		fails += fmt.Sprintf(" (%.2f%%)", 100*e.FailRatio())
	}
	return htmlStatsRow{
		Total: total, Type: typ, Name: name, Requests: e.Requests, Fails: fails,
		Median: MS(e.ServiceMS(50)), Avg: MS(e.AvgMS()), Min: MS(e.MinMS()), Max: MS(e.MaxMS()),
		Size:   strconv.FormatFloat(e.AvgContentBytes(), 'f', 0, 64),
		RPS:    strconv.FormatFloat(s.RPS(e), 'f', 2, 64),
		FailPS: strconv.FormatFloat(s.FailPS(e), 'f', 2, 64),
	}
}

func htmlPercentileTableOf(s stats.Snapshot, title string, q func(stats.Entry, float64) float64) htmlPercentileTable {
	t := htmlPercentileTable{Title: title}
	row := func(typ, name string, e stats.Entry, total bool) htmlPercentileRow {
		r := htmlPercentileRow{Total: total, Type: typ, Name: name, Requests: e.Requests}
		for _, p := range Percentiles {
			if e.Requests == 0 {
				r.Cells = append(r.Cells, "N/A")
				continue
			}
			r.Cells = append(r.Cells, MS(q(e, p)))
		}
		return r
	}
	for _, e := range s.Entries {
		t.Rows = append(t.Rows, row(e.Method, e.Name, e, false))
	}
	t.Rows = append(t.Rows, row("", htmlTotalName(s), s.Total, true))
	return t
}

// htmlChecks lists the aggregate checks, then the endpoints', each group in
// the order Evaluate made them.
func htmlChecks(checks []target.Check) []htmlCheck {
	var agg, eps []htmlCheck
	for _, c := range checks {
		h := htmlCheck{
			Scope: c.Endpoint, Metric: c.Metric, Grade: c.Grade.String(), Class: htmlGradeClass(c.Grade),
			Message: c.Message, Gated: "no", Result: status(c.Gated, !c.Pass), Failed: c.Gated && !c.Pass,
		}
		if c.Gated {
			h.Gated = "yes"
		}
		if c.Grade.Valid() {
			h.Value = withUnit(htmlNum(c.Value), target.Unit(c.Metric))
			h.Bounds = htmlBounds(c.Metric, c.Bounds)
		} else {
			// A gate the table cannot apply: no value, the message says why.
			h.Value, h.Grade, h.Bounds = "—", "—", c.Message
		}
		if c.Endpoint == "" {
			h.Scope = stats.TotalName
			agg = append(agg, h)
		} else {
			eps = append(eps, h)
		}
	}
	return append(agg, eps...)
}

func htmlGradeClass(g target.Grade) string {
	switch g {
	case target.GradeTarget:
		return "g-target"
	case target.GradeAcceptable:
		return "g-acceptable"
	case target.GradeNeedsInvestigation:
		return "g-investigate"
	case target.GradePoor:
		return "g-poor"
	}
	return "g-none"
}

// htmlBounds renders a metric's bounds as the grades they separate, e.g.
// "Target < 500 ms, Acceptable < 1000 ms, Poor > 2000 ms".
func htmlBounds(metric string, b target.Bounds) string {
	better, worse := "<", ">"
	if target.HigherIsBetter(metric) {
		better, worse = ">", "<"
	}
	u := target.Unit(metric)
	return fmt.Sprintf("Target %s %s, Acceptable %s %s, Poor %s %s",
		better, withUnit(htmlNum(b.Target), u), better, withUnit(htmlNum(b.Acceptable), u), worse, withUnit(htmlNum(b.Poor), u))
}

func htmlBaselineOf(r compare.Result) *htmlBaseline {
	b := &htmlBaseline{
		File:           htmlOrDash(r.Baseline),
		Start:          htmlUTC(r.BaselineStart),
		Limits:         r.Limits.String(),
		Regressions:    strconv.Itoa(len(r.Regressions())),
		OnlyInBaseline: r.OnlyInBaseline,
		OnlyInRun:      r.OnlyInRun,
	}
	for _, row := range r.Rows {
		unit := "ms"
		switch row.Metric {
		case compare.RPS:
			unit = "req/s"
		case compare.FailRate:
			unit = "%"
		}
		h := htmlBaselineRow{
			Entry: row.Entry, Metric: row.Metric,
			Old: withUnit(htmlNum(row.Old), unit), New: withUnit(htmlNum(row.New), unit),
			Change: compare.Signed(row.ChangePct), Status: "ok", Note: row.Note,
		}
		switch {
		case row.Regressed:
			h.Status, h.Class = "regressed", "regressed"
		case !row.Gated:
			h.Status, h.Class = "not judged", "unjudged"
		}
		b.Rows = append(b.Rows, h)
	}
	return b
}

// htmlCharts builds the time-series charts; none when the run has no series.
func htmlCharts(s stats.Snapshot) []htmlChart {
	if len(s.Series) == 0 {
		return []htmlChart{} // "charts": [] in the data, not null
	}
	n := len(s.Series)
	col := func(f func(stats.Point) float64) []htmlNumber {
		out := make([]htmlNumber, n)
		for i, p := range s.Series {
			out[i] = htmlNumber(f(p))
		}
		return out
	}
	x := col(func(p stats.Point) float64 { return float64(p.Time.UnixMilli()) / 1000 })

	latency := htmlChart{
		ID: "chart-latency", Title: "Response time (ms)", Unit: "ms",
		Series: []htmlSeries{{"p50 (service)", "#1565c0"}, {"p95 (service)", "#ef6c00"}},
		Data: [][]htmlNumber{x,
			col(func(p stats.Point) float64 { return p.P50MS }),
			col(func(p stats.Point) float64 { return p.P95MS })},
	}
	if differ(s) {
		latency.Series = append(latency.Series, htmlSeries{"p95 from intended start", "#6a1b9a"})
		latency.Data = append(latency.Data, col(func(p stats.Point) float64 { return p.RespP95MS }))
	}
	return []htmlChart{
		{
			ID: "chart-rps", Title: "Requests/s and failures/s", Unit: "per second",
			Series: []htmlSeries{{"requests/s", "#2e7d32"}, {"failures/s", "#c62828"}},
			Data: [][]htmlNumber{x,
				col(func(p stats.Point) float64 { return p.RPS }),
				col(func(p stats.Point) float64 { return p.FailPS })},
		},
		latency,
		{
			ID: "chart-users", Title: "Users", Unit: "users",
			Series: []htmlSeries{{"users", "#455a64"}},
			Data:   [][]htmlNumber{x, col(func(p stats.Point) float64 { return float64(p.Users) })},
		},
	}
}

// htmlNum rounds to at most three decimals, without trailing zeros.
func htmlNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// htmlGeneratorFields describe the load model and whether the generator kept
// up; none for a run file without them.
func htmlGeneratorFields(run runfile.Run) []htmlField {
	g := run.Generator
	if g.Model == "" {
		return nil
	}
	ms := func(v float64) string { return MS(v) + " ms" }
	f := []htmlField{{"Model", g.Model}, {"Latency targets graded on", g.Clock + " time"}}
	if g.Shape != "" {
		f = append(f, htmlField{"Shape", g.Shape})
	}
	if d := run.Stats.Duration().Seconds(); g.Model == "arrivals" && d > 0 {
		f = append(f,
			htmlField{"Requested rate", strconv.FormatFloat(float64(g.Arrivals)/d, 'f', 1, 64) + " iterations/s"},
			htmlField{"Achieved rate", strconv.FormatFloat(float64(g.Iterations)/d, 'f', 1, 64) + " iterations/s"},
			htmlField{"Dropped", fmt.Sprintf("%d of %d (at most %d in flight)", g.Dropped, g.Arrivals, g.MaxInFlight)})
	}
	f = append(f,
		htmlField{"Start lag", fmt.Sprintf("p50 %s, p99 %s, max %s over %d starts", ms(g.Lag.P50MS), ms(g.Lag.P99MS), ms(g.Lag.MaxMS), g.Lag.Count)},
		htmlField{"Go scheduler latency", "p99 " + ms(g.Runtime.SchedLatencyP99MS)},
		htmlField{"GC pauses", fmt.Sprintf("p99 %s, %d cycles", ms(g.Runtime.GCPauseP99MS), g.Runtime.GCCycles)},
		htmlField{"CPU", fmt.Sprintf("%.0f%% of %d cores", g.Runtime.CPUUtilPct, g.Runtime.GOMAXPROCS)})
	if h := HostPauseText(g.Runtime.Host); h != "" {
		f = append(f, htmlField{"Host", h})
	}
	verdict := "kept up with its schedule"
	if g.Saturated {
		verdict = "SATURATED: " + strings.Join(g.Reasons, "; ")
	}
	return append(f, htmlField{"Generator", verdict})
}

// HostPauseText says how often the host paused the process (the generator's
// sentinel timer saw it late while the process was idle), for how long in
// all, and the longest pause with when it happened; "" when there was none.
// The console and the HTML report print this one text.
func HostPauseText(h saturation.Host) string {
	if len(h.Pauses) == 0 {
		return ""
	}
	text := fmt.Sprintf("host paused the process %d time(s), %.1f ms in all", len(h.Pauses)+int(h.PausesDropped), float64(h.PauseTotal())/float64(time.Millisecond))
	if top := h.Longest(1); len(top) == 1 {
		text += fmt.Sprintf(", longest %.1f ms at +%.3f s", float64(top[0].Length)/float64(time.Millisecond), top[0].Offset.Seconds())
	}
	return text
}
