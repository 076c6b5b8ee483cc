package monitor

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Probe names.
const (
	probeHealth = "health"
	probeReady  = "ready"
)

// Statuses of a Transition.
const (
	StatusHealthy     = "healthy"
	StatusUnhealthy   = "unhealthy"
	StatusReady       = "ready"
	StatusNotReady    = "not ready"
	StatusUnreachable = "unreachable"
)

// Transition is one change of a probe's status (or the first observation).
type Transition struct {
	Time       time.Time `json:"time"`
	Probe      string    `json:"probe"`       // "health" or "ready"
	Status     string    `json:"status"`      // "healthy", "unhealthy", "ready", "not ready" or "unreachable"
	HTTPStatus int       `json:"http_status"` // 0 when unreachable
	Failing    []string  `json:"failing"`     // failing checks named in the body, sorted, e.g. ["redis"]
	Message    string    `json:"message"`     // the failing checks' messages, the body's error text or the transport error; at most 200 bytes
}

// Period is an interval during which a probe was unhealthy, not ready or unreachable.
type Period struct {
	Probe  string    `json:"probe"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Status string    `json:"status"`
}

// probeState is the last observation of a probe.
type probeState struct {
	key      string // status, HTTP status and failing checks: a change is a transition
	disabled bool
}

// poll polls one probe and records a transition if its state changed; it
// returns false when the probe does not exist (404 or 405) and polling it stops.
func (m *Monitor) poll(probe string) bool {
	u := m.urls[probe]
	code, body, err := m.get(m.healthClient, u, "application/json", maxHealthBody)
	if code == 0 && m.cut.Load() {
		return false // cancelled by StopWithin: says nothing of the server
	}
	now := time.Now()
	t := Transition{Time: now, Probe: probe, HTTPStatus: code}
	if code == 0 {
		t.Status = StatusUnreachable
		t.Message = m.describeErr(err)
	} else {
		t.Status, t.Failing, t.Message = parseProbe(probe, code, body)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.healthPolls++
	if code != 0 {
		m.countPoll(u, code)
	}
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		m.notes.add("GET " + u.Path + ": " + httpStatusText(code) + "; " + probe + " probe not polled further")
		m.health[probe] = &probeState{disabled: true}
		return false
	}
	st := m.health[probe]
	if st == nil {
		st = &probeState{}
		m.health[probe] = st
	}
	key := t.Status + "|" + strconv.Itoa(code) + "|" + strings.Join(t.Failing, ",")
	if key != st.key {
		st.key = key
		m.transitions = append(m.transitions, t)
	}
	return true
}

// parseProbe reads a /health or /ready answer. X-Agent's bodies are
// {"status":"healthy"|"unhealthy","checks":{"redis":{"status":"ok"|"failed","message":…},…},…}
// and {"ready":bool,"status":"healthy"|"unhealthy",…}; any other shape degrades
// to the HTTP status (2xx good, anything else bad).
func parseProbe(probe string, code int, body []byte) (status string, failing []string, msg string) {
	good := code >= 200 && code < 300
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		if !good {
			msg = truncate(string(body), maxMessage)
		}
		return probeStatus(probe, good), nil, msg
	}
	if r, ok := doc["ready"].(bool); ok && probe == probeReady {
		good = good && r
	} else if s, ok := doc["status"].(string); ok && isBadWord(s) {
		good = false
	}
	var msgs []string
	if checks, ok := doc["checks"].(map[string]any); ok {
		names := make([]string, 0, len(checks))
		for name := range checks {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			bad, text := checkFailed(checks[name])
			if !bad {
				continue
			}
			failing = append(failing, name)
			switch {
			case text == "":
				msgs = append(msgs, name+" failed")
			case strings.HasPrefix(text, name):
				msgs = append(msgs, text)
			default:
				msgs = append(msgs, name+": "+text)
			}
		}
	}
	if len(msgs) == 0 && !good {
		if s := firstString(doc, "error", "detail", "message", "reason"); s != "" {
			msgs = append(msgs, s)
		}
	}
	return probeStatus(probe, good), failing, truncate(strings.Join(msgs, "; "), maxMessage)
}

func probeStatus(probe string, good bool) string {
	switch {
	case probe == probeReady && good:
		return StatusReady
	case probe == probeReady:
		return StatusNotReady
	case good:
		return StatusHealthy
	}
	return StatusUnhealthy
}

// isBadWord reports a status word that means failure.
func isBadWord(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "unhealthy", "failed", "fail", "failure", "error", "down", "not ready", "not_ready", "unavailable", "critical":
		return true
	}
	return false
}

// checkFailed judges one entry of "checks": an object with a status (or
// healthy/ok bool), a bare status string or a bool; unknown shapes pass.
func checkFailed(v any) (bool, string) {
	switch c := v.(type) {
	case bool:
		return !c, ""
	case string:
		return isBadWord(c), ""
	case map[string]any:
		text := firstString(c, "message", "error", "detail")
		if s, ok := c["status"].(string); ok {
			return isBadWord(s), text
		}
		for _, k := range []string{"healthy", "ok", "ready"} {
			if b, ok := c[k].(bool); ok {
				return !b, text
			}
		}
	}
	return false, ""
}

func firstString(doc map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := doc[k].(string); ok && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// isBad reports a status that a Period covers.
func isBad(status string) bool {
	return status != StatusHealthy && status != StatusReady
}

// periods turns the timeline into the bad intervals, each ending at the next
// transition of its probe or at end; sorted by start, then probe.
func periods(ts []Transition, end time.Time) []Period {
	var out []Period
	open := map[string]int{} // probe → index in out of its open period
	for _, t := range ts {
		if i, ok := open[t.Probe]; ok {
			out[i].To = t.Time
			delete(open, t.Probe)
		}
		if isBad(t.Status) {
			open[t.Probe] = len(out)
			out = append(out, Period{Probe: t.Probe, From: t.Time, To: end, Status: t.Status})
		}
	}
	slices.SortStableFunc(out, func(a, b Period) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		return strings.Compare(a.Probe, b.Probe)
	})
	return out
}

// Periods returns the unhealthy, not-ready and unreachable intervals of a
// timeline (Report.Transitions), for shading charts; open ones end at end.
func Periods(ts []Transition, end time.Time) []Period { return periods(ts, end) }

// Periods returns the bad intervals observed so far, open ones ending at end;
// safe to call while the Monitor runs.
func (m *Monitor) Periods(end time.Time) []Period {
	m.mu.Lock()
	defer m.mu.Unlock()
	return periods(m.transitions, end)
}
