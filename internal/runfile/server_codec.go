package runfile

import (
	"math"
	"time"

	"github.com/xagent/perfharness/internal/monitor"
)

// The server view's wire form. Monitor's Quantile writes an unbounded upper
// edge as null itself; every other float goes through jfloat.

type wireServer struct {
	HealthEveryS  seconds          `json:"health_every_s"`
	MetricsEveryS seconds          `json:"metrics_every_s"`
	Scrapes       int              `json:"scrapes"`
	HealthPolls   int              `json:"health_polls"`
	Transitions   []wireTransition `json:"transitions"`
	Periods       []wirePeriod     `json:"periods"`
	Endpoints     []wireServerEP   `json:"endpoints"`
	Rows          []wireServerRow  `json:"rows"`
	Notes         []string         `json:"notes"`
}

type wireTransition struct {
	Time       string   `json:"time"`
	Probe      string   `json:"probe"`
	Status     string   `json:"status"`
	HTTPStatus int      `json:"http_status"`
	Failing    []string `json:"failing"`
	Message    string   `json:"message"`
}

type wirePeriod struct {
	Probe  string `json:"probe"`
	From   string `json:"from"`
	To     string `json:"to"`
	Status string `json:"status"`
}

type wireServerEP struct {
	Method   string            `json:"method"`
	Route    string            `json:"route"`
	Requests jfloat            `json:"requests"`
	Statuses map[string]jfloat `json:"statuses"`
	P50      monitor.Quantile  `json:"p50"`
	P95      monitor.Quantile  `json:"p95"`
	P99      monitor.Quantile  `json:"p99"`
	Polls    jfloat            `json:"polls"`
}

type wireServerRow struct {
	Method         string           `json:"method"`
	Route          string           `json:"route"`
	ClientName     string           `json:"client_name"`
	ServerRequests jfloat           `json:"server_requests"`
	ClientRequests int64            `json:"client_requests"`
	ServerP50      monitor.Quantile `json:"server_p50"`
	ServerP95      monitor.Quantile `json:"server_p95"`
	ServerP99      monitor.Quantile `json:"server_p99"`
	ClientP50MS    jfloat           `json:"client_p50_ms"`
	ClientP95MS    jfloat           `json:"client_p95_ms"`
	ClientP99MS    jfloat           `json:"client_p99_ms"`
}

// maxServerItems bounds each list of the server view.
const maxServerItems = 100_000

func serverToWire(s *Server) *wireServer {
	if s == nil {
		return nil
	}
	r := s.Report
	w := &wireServer{HealthEveryS: seconds(s.HealthEvery), MetricsEveryS: seconds(s.MetricsEvery), Scrapes: r.Scrapes,
		HealthPolls: r.HealthPolls, Notes: strList(r.Notes),
		Transitions: make([]wireTransition, len(r.Transitions)), Periods: make([]wirePeriod, len(r.Periods)),
		Endpoints: make([]wireServerEP, len(r.Endpoints)), Rows: make([]wireServerRow, len(s.Rows))}
	for i, t := range r.Transitions {
		w.Transitions[i] = wireTransition{Time: fmtTime(t.Time), Probe: t.Probe, Status: t.Status, HTTPStatus: t.HTTPStatus,
			Failing: strList(t.Failing), Message: t.Message}
	}
	for i, p := range r.Periods {
		w.Periods[i] = wirePeriod{Probe: p.Probe, From: fmtTime(p.From), To: fmtTime(p.To), Status: p.Status}
	}
	for i, e := range r.Endpoints {
		st := make(map[string]jfloat, len(e.Statuses))
		for k, v := range e.Statuses {
			st[k] = jfloat(v)
		}
		w.Endpoints[i] = wireServerEP{Method: e.Method, Route: e.Route, Requests: jfloat(e.Requests), Statuses: st,
			P50: e.P50, P95: e.P95, P99: e.P99, Polls: jfloat(e.Polls)}
	}
	for i, r := range s.Rows {
		w.Rows[i] = wireServerRow{Method: r.Method, Route: r.Route, ClientName: r.ClientName, ServerRequests: jfloat(r.ServerRequests),
			ClientRequests: r.ClientRequests, ServerP50: r.ServerP50, ServerP95: r.ServerP95, ServerP99: r.ServerP99,
			ClientP50MS: jfloat(r.ClientP50MS), ClientP95MS: jfloat(r.ClientP95MS), ClientP99MS: jfloat(r.ClientP99MS)}
	}
	return w
}

func serverFromWire(w *wireServer) (*Server, error) {
	if w == nil {
		return nil, nil
	}
	if w.HealthEveryS < -seconds(24*time.Hour) || w.MetricsEveryS < -seconds(24*time.Hour) {
		return nil, problemf("", "poll periods out of range")
	}
	s := &Server{HealthEvery: time.Duration(w.HealthEveryS), MetricsEvery: time.Duration(w.MetricsEveryS)}
	r := &s.Report
	r.Scrapes, r.HealthPolls = w.Scrapes, w.HealthPolls
	if err := firstErr(nonNeg("scrapes", int64(w.Scrapes)), nonNeg("health_polls", int64(w.HealthPolls))); err != nil {
		return nil, err
	}
	var err error
	if r.Notes, err = strs(w.Notes, limits.messageBytes); err != nil {
		return nil, at("notes", err)
	}
	if r.Transitions, err = decodeList(w.Transitions, maxServerItems, "transitions", transitionFromWire); err != nil {
		return nil, at("transitions", err)
	}
	if r.Periods, err = decodeList(w.Periods, maxServerItems, "periods", periodFromWire); err != nil {
		return nil, at("periods", err)
	}
	if r.Endpoints, err = decodeList(w.Endpoints, maxServerItems, "endpoints", serverEndpointFromWire); err != nil {
		return nil, at("endpoints", err)
	}
	if s.Rows, err = decodeList(w.Rows, maxServerItems, "rows", serverRowFromWire); err != nil {
		return nil, at("rows", err)
	}
	return s, nil
}

func transitionFromWire(t wireTransition) (monitor.Transition, error) {
	tr := monitor.Transition{Probe: t.Probe, Status: t.Status, HTTPStatus: t.HTTPStatus, Message: t.Message}
	err := firstErr(name("probe", t.Probe), name("status", t.Status), message("message", t.Message))
	if err == nil {
		tr.Time, err = parseTime("time", t.Time)
	}
	if err == nil {
		tr.Failing, err = strs(t.Failing, limits.nameBytes)
	}
	return tr, err
}

func periodFromWire(p wirePeriod) (monitor.Period, error) {
	pd := monitor.Period{Probe: p.Probe, Status: p.Status}
	err := firstErr(name("probe", p.Probe), name("status", p.Status))
	if err == nil {
		pd.From, err = parseTime("from", p.From)
	}
	if err == nil {
		pd.To, err = parseTime("to", p.To)
	}
	if err == nil && pd.To.Before(pd.From) {
		err = problemf("to", "before from")
	}
	return pd, err
}

func serverEndpointFromWire(e wireServerEP) (monitor.Endpoint, error) {
	ep := monitor.Endpoint{Method: e.Method, Route: e.Route, Requests: float64(e.Requests), P50: e.P50, P95: e.P95, P99: e.P99, Polls: float64(e.Polls)}
	err := firstErr(name("method", e.Method), name("route", e.Route), count("requests", ep.Requests), count("polls", ep.Polls))
	if err == nil && len(e.Statuses) > 1000 {
		err = problemf("statuses", "%d statuses, more than 1000", len(e.Statuses))
	}
	if err == nil && len(e.Statuses) > 0 {
		ep.Statuses = make(map[string]float64, len(e.Statuses))
		for k, v := range e.Statuses {
			if err = firstErr(name("statuses key", k), count("statuses["+clip(k, 16)+"]", float64(v))); err != nil {
				break
			}
			ep.Statuses[k] = float64(v)
		}
	}
	return ep, err
}

func serverRowFromWire(w wireServerRow) (monitor.Row, error) {
	row := monitor.Row{Method: w.Method, Route: w.Route, ClientName: w.ClientName, ServerRequests: float64(w.ServerRequests),
		ClientRequests: w.ClientRequests, ServerP50: w.ServerP50, ServerP95: w.ServerP95, ServerP99: w.ServerP99,
		ClientP50MS: float64(w.ClientP50MS), ClientP95MS: float64(w.ClientP95MS), ClientP99MS: float64(w.ClientP99MS)}
	return row, firstErr(name("method", w.Method), name("route", w.Route), message("client_name", w.ClientName),
		count("server_requests", row.ServerRequests), nonNeg("client_requests", w.ClientRequests))
}

// count checks a float count: finite and not negative.
func count(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return problemf(field, "%v is not a count", v)
	}
	return nil
}
