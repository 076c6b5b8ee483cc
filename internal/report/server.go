package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/runfile"
)

// WriteServer writes the server's own view of the run: the health timeline,
// the server-versus-client table and the monitor's notes.
func WriteServer(w io.Writer, s *runfile.Server) error {
	if s == nil {
		return nil
	}
	ew := &errWriter{w: w}
	r := s.Report
	ew.printf("Server view: %s\n", ServerSummary(s))
	if len(r.Transitions) > 0 {
		ew.printf("Health timeline (first status, then every change)\n")
		for _, t := range r.Transitions {
			ew.printf("  %s  %-6s %s\n", t.Time.UTC().Format("15:04:05.000"), t.Probe, TransitionText(t))
		}
	}
	rows := ServerRows(s)
	if len(rows) > 0 {
		ew.printf("Server vs client per route (server quantiles from histogram buckets, [bucket] bounds in ms; the difference is network and queueing)\n")
		ew.printf("%-7s %-22s %9s %9s  %-22s %10s  %-22s %10s  %-22s %10s\n", "Method", "Route", "server #", "client #",
			"server p50 [bucket]", "client p50", "server p95 [bucket]", "client p95", "server p99 [bucket]", "client p99")
		for _, row := range rows {
			ew.printf("%-7s %-22s %9s %9d  %s %10s  %s %10s  %s %10s\n", row.Method, clip(row.Route, 22),
				strconv.FormatFloat(row.ServerRequests, 'f', -1, 64), row.ClientRequests,
				pad(QuantileText(row.ServerP50), 22), clientMS(row, row.ClientP50MS), pad(QuantileText(row.ServerP95), 22), clientMS(row, row.ClientP95MS),
				pad(QuantileText(row.ServerP99), 22), clientMS(row, row.ClientP99MS))
		}
	}
	for _, n := range r.Notes {
		ew.printf("  note: %s\n", n)
	}
	ew.printf("\n")
	return ew.err
}

// ServerRows are the rows of the server-versus-client table: those with a
// request on either side. Run files written before the monitor dropped them
// have rows for routes only the monitor polled (GET /metrics, 0 and 0, with
// the scrapes' quantiles); they are left out here too.
func ServerRows(s *runfile.Server) []monitor.Row {
	if s == nil {
		return nil
	}
	var out []monitor.Row
	for _, r := range s.Rows {
		if r.ServerRequests > 0 || r.ClientRequests > 0 {
			out = append(out, r)
		}
	}
	return out
}

// ServerSummary says what was watched, in one line.
func ServerSummary(s *runfile.Server) string {
	r := s.Report
	var parts []string
	if s.HealthEvery >= 0 {
		parts = append(parts, fmt.Sprintf("/health and /ready every %v (%d polls, %d transitions)", s.HealthEvery, r.HealthPolls, len(r.Transitions)))
	}
	if s.MetricsEvery >= 0 {
		parts = append(parts, fmt.Sprintf("/metrics every %v (%d scrapes)", s.MetricsEvery, r.Scrapes))
	}
	if len(parts) == 0 {
		return "not watched"
	}
	return strings.Join(parts, "; ")
}

// TransitionText renders a probe's status change: "unhealthy (503): redis: connection refused".
func TransitionText(t monitor.Transition) string {
	s := t.Status
	if t.HTTPStatus != 0 {
		s += " (" + strconv.Itoa(t.HTTPStatus) + ")"
	}
	if len(t.Failing) > 0 {
		s += " failing " + strings.Join(t.Failing, ", ")
	}
	if t.Message != "" {
		s += ": " + t.Message
	}
	return s
}

// QuantileText renders a server quantile with its bucket: "2.5 [0–5]", or
// "≥ 10000 [10000–∞]" when it fell in the unbounded bucket.
func QuantileText(q monitor.Quantile) string {
	if q == (monitor.Quantile{}) {
		return "-"
	}
	upper := "∞"
	if !math.IsInf(q.UpperMS, 1) {
		upper = MS(q.UpperMS)
	}
	v := MS(q.MS)
	if !q.Bounded {
		v = "≥ " + MS(q.LowerMS)
	}
	return v + " [" + MS(q.LowerMS) + "–" + upper + "]"
}

// pad pads s with spaces to n characters (runes, not bytes: "≥" and "–" are one each).
func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

func clientMS(row monitor.Row, v float64) string {
	if row.ClientRequests == 0 {
		return "-"
	}
	return MS(v)
}

// periodsOf are the server's bad periods as chart bands: unix seconds and a label.
func periodsOf(s *runfile.Server) []htmlBand {
	if s == nil {
		return nil
	}
	var out []htmlBand
	for _, p := range s.Report.Periods {
		out = append(out, htmlBand{From: unixSeconds(p.From), To: unixSeconds(p.To), Label: p.Probe + " " + p.Status})
	}
	return out
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// htmlBand is a shaded period on the charts.
type htmlBand struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Label string  `json:"label"`
}
