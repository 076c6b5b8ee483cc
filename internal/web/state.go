package web

import (
	"math"
	"strconv"
	"time"

	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// num is a float that encodes as null when it is not finite (JSON has no NaN).
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// runView is what the page shows of a run: /api/state's "run".
type runView struct {
	Scenario   string        `json:"scenario"`
	Host       string        `json:"host"`
	Start      string        `json:"start"` // RFC 3339, empty when unknown
	End        string        `json:"end"`
	DurationS  num           `json:"duration_s"` // the snapshot's span, the rates' denominator
	Users      int           `json:"users"`
	Stopped    string        `json:"stopped"`
	Entries    []entry       `json:"entries"` // by name, then method; the last is the aggregate, "Aggregated"
	Series     series        `json:"series"`
	Failures   []failure     `json:"failures"`
	Exceptions []exception   `json:"exceptions"`
	Checks     []check       `json:"checks"`
	Alerts     []alert       `json:"alerts"`
	Generator  generatorView `json:"generator"`
	Verdict    verdictView   `json:"verdict"`
}

type entry struct {
	Method    string `json:"method"` // "" for the aggregate
	Name      string `json:"name"`
	Requests  int64  `json:"requests"`
	Failures  int64  `json:"failures"`
	MedianMS  num    `json:"median_ms"`
	AvgMS     num    `json:"avg_ms"`
	MinMS     num    `json:"min_ms"`
	MaxMS     num    `json:"max_ms"`
	P95MS     num    `json:"p95_ms"`
	P99MS     num    `json:"p99_ms"`
	AvgBytes  num    `json:"avg_bytes"`
	RPS       num    `json:"rps"`
	FailPS    num    `json:"fail_ps"`
	Aggregate bool   `json:"aggregate"`
}

// series is the aggregate's time series as columns, uPlot's data layout.
type series struct {
	Time   []num `json:"time"` // unix seconds, the end of each interval
	Users  []int `json:"users"`
	RPS    []num `json:"rps"`
	FailPS []num `json:"fail_ps"`
	P50MS  []num `json:"p50_ms"`
	P95MS  []num `json:"p95_ms"`
}

type failure struct {
	Method      string `json:"method"`
	Name        string `json:"name"`
	Error       string `json:"error"`
	Occurrences int64  `json:"occurrences"`
}

type exception struct {
	Count     int64  `json:"count"`
	Message   string `json:"message"`
	Traceback string `json:"traceback"`
}

type check struct {
	Endpoint string `json:"endpoint"` // "" for the aggregate
	Metric   string `json:"metric"`
	Value    num    `json:"value"`
	Unit     string `json:"unit"`
	Grade    string `json:"grade"` // "Target", "Acceptable", "Needs investigation", "Poor"; "" when ungradable
	Gated    bool   `json:"gated"`
	Pass     bool   `json:"pass"`
	Message  string `json:"message"`
}

type alert struct {
	Name    string `json:"name"`
	Value   num    `json:"value"`
	Limit   num    `json:"limit"`
	Fired   bool   `json:"fired"`
	Message string `json:"message"`
}

type generatorView struct {
	Model      string   `json:"model"` // "users" (closed) or "arrivals" (open); "" when unknown
	Clock      string   `json:"clock"` // the clock latency targets are graded on
	Rate       num      `json:"rate"`
	Iterations int64    `json:"iterations"`
	Dropped    int64    `json:"dropped"`
	LagP99MS   num      `json:"lag_p99_ms"`
	LagMaxMS   num      `json:"lag_max_ms"`
	Saturated  bool     `json:"saturated"`
	Reasons    []string `json:"reasons"`
	Notes      []string `json:"notes"`
	Advice     string   `json:"advice"`
}

type verdictView struct {
	Pass    bool     `json:"pass"`
	Reasons []string `json:"reasons"`
}

func newRunView(run runfile.Run) *runView {
	s := run.Stats
	v := &runView{
		Scenario:   run.Meta.Scenario,
		Host:       run.Meta.Host,
		Start:      rfc3339(s.Start),
		End:        rfc3339(s.End),
		DurationS:  num(max(s.Duration().Seconds(), 0)),
		Users:      s.Users,
		Stopped:    run.Meta.Stopped,
		Entries:    make([]entry, 0, len(s.Entries)+1),
		Failures:   make([]failure, 0, len(s.Failures)),
		Exceptions: make([]exception, 0, len(s.Exceptions)),
		Checks:     make([]check, 0, len(run.Checks)),
		Alerts:     make([]alert, 0, len(run.Alerts)),
		Generator: generatorView{
			Model:      run.Generator.Model,
			Clock:      run.Generator.Clock,
			Rate:       num(run.Generator.Rate),
			Iterations: run.Generator.Iterations,
			Dropped:    run.Generator.Dropped,
			LagP99MS:   num(run.Generator.Lag.P99MS),
			LagMaxMS:   num(run.Generator.Lag.MaxMS),
			Saturated:  run.Generator.Saturated,
			Reasons:    strs(run.Generator.Reasons),
			Notes:      strs(run.Generator.Notes),
			Advice:     run.Generator.Advice,
		},
		Verdict: verdictView{Pass: run.Verdict.Pass, Reasons: strs(run.Verdict.Reasons)},
	}
	for _, e := range s.Entries {
		v.Entries = append(v.Entries, entryOf(s, e, false))
	}
	total := s.Total
	total.Method, total.Name = "", stats.TotalName
	v.Entries = append(v.Entries, entryOf(s, total, true))

	n := len(s.Series)
	v.Series = series{
		Time: make([]num, n), Users: make([]int, n), RPS: make([]num, n),
		FailPS: make([]num, n), P50MS: make([]num, n), P95MS: make([]num, n),
	}
	for i, p := range s.Series {
		v.Series.Time[i] = num(float64(p.Time.UnixMilli()) / 1000)
		v.Series.Users[i] = p.Users
		v.Series.RPS[i] = num(p.RPS)
		v.Series.FailPS[i] = num(p.FailPS)
		v.Series.P50MS[i] = num(p.P50MS)
		v.Series.P95MS[i] = num(p.P95MS)
	}
	for _, f := range s.Failures {
		v.Failures = append(v.Failures, failure{Method: f.Method, Name: f.Name, Error: f.Error, Occurrences: f.Occurrences})
	}
	for _, x := range s.Exceptions {
		v.Exceptions = append(v.Exceptions, exception{Count: x.Count, Message: x.Message, Traceback: x.Traceback})
	}
	for _, c := range run.Checks {
		grade := ""
		if c.Grade.Valid() {
			grade = c.Grade.String()
		}
		v.Checks = append(v.Checks, check{
			Endpoint: c.Endpoint, Metric: c.Metric, Value: num(c.Value), Unit: target.Unit(c.Metric),
			Grade: grade, Gated: c.Gated, Pass: c.Pass, Message: c.Message,
		})
	}
	for _, a := range run.Alerts {
		v.Alerts = append(v.Alerts, alert{Name: a.Name, Value: num(a.Value), Limit: num(a.Limit), Fired: a.Fired, Message: a.Message})
	}
	return v
}

func entryOf(s stats.Snapshot, e stats.Entry, aggregate bool) entry {
	return entry{
		Method:    e.Method,
		Name:      e.Name,
		Requests:  e.Requests,
		Failures:  e.Failures,
		MedianMS:  num(e.ServiceMS(50)),
		AvgMS:     num(e.AvgMS()),
		MinMS:     num(e.MinMS()),
		MaxMS:     num(e.MaxMS()),
		P95MS:     num(e.ServiceMS(95)),
		P99MS:     num(e.ServiceMS(99)),
		AvgBytes:  num(e.AvgContentBytes()),
		RPS:       num(s.RPS(e)),
		FailPS:    num(s.FailPS(e)),
		Aggregate: aggregate,
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
