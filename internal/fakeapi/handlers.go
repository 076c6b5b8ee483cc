package fakeapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// healthAnswers are the precomputed "checks" objects of /health.
type healthAnswers struct {
	flap      time.Duration
	unhealthy bool   // without flapping: whether a check fails
	okChecks  []byte // every check ok
	badChecks []byte // the configured checks failed
}

// newHealthAnswers renders the checks for the healthy and the unhealthy state.
func newHealthAnswers(o Options) healthAnswers {
	var failed [len(healthChecks)]bool
	for _, name := range o.Unhealthy {
		if i := checkIndex(name); i >= 0 {
			failed[i] = true
		}
	}
	h := healthAnswers{flap: o.HealthFlap}
	for _, f := range failed {
		h.unhealthy = h.unhealthy || f
	}
	if !h.unhealthy {
		failed[0] = true // a flapping server with no named check loses redis
	}
	h.badChecks = renderChecks(failed)
	h.okChecks = renderChecks([len(healthChecks)]bool{})
	return h
}

// renderChecks renders {"redis":{"status":"ok","message":null},...}.
func renderChecks(failed [len(healthChecks)]bool) []byte {
	b := []byte{'{'}
	for i, name := range healthChecks {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, name)
		if failed[i] {
			b = append(b, `:{"status":"failed","message":`...)
			b = appendStr(b, name+": connection refused (simulated by fakeapi)")
			b = append(b, '}')
		} else {
			b = append(b, `:{"status":"ok","message":null}`...)
		}
	}
	return append(b, '}')
}

// healthAt reports the health at now and the checks to show.
func (s *Server) healthAt(now time.Time) (bool, []byte) {
	h := &s.health
	if h.flap > 0 {
		if int64(now.Sub(s.start)/h.flap)%2 == 1 {
			return false, h.badChecks
		}
		return true, h.okChecks
	}
	if h.unhealthy {
		return false, h.badChecks
	}
	return true, h.okChecks
}

// appendStamp appends "timestamp":"…","uptime_seconds":… without braces.
func (s *Server) appendStamp(b []byte, now time.Time) []byte {
	b = append(b, `"timestamp":"`...)
	b = appendISO(b, now)
	b = append(b, `","uptime_seconds":`...)
	return appendPyFloat(b, float64(now.Sub(s.start).Microseconds())/1e6)
}

// handleHealthz is the liveness probe.
func (s *Server) handleHealthz(w http.ResponseWriter) int {
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	b := append(*bp, `{"alive":true,`...)
	b = s.appendStamp(b, s.now())
	b = append(b, '}')
	*bp = b
	return writeJSON(w, http.StatusOK, b)
}

// handleHealth is the full health check: 503 when a check fails.
func (s *Server) handleHealth(w http.ResponseWriter) int {
	now := s.now()
	healthy, checks := s.healthAt(now)
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	b := *bp
	status := http.StatusOK
	if healthy {
		b = append(b, `{"status":"healthy",`...)
	} else {
		b = append(b, `{"status":"unhealthy",`...)
		status = http.StatusServiceUnavailable
	}
	b = s.appendStamp(b, now)
	b = append(b, `,"checks":`...)
	b = append(b, checks...)
	b = append(b, `,"version":"0.1.0"}`...)
	*bp = b
	return writeJSON(w, status, b)
}

// handleReady is the readiness probe: 503 when a check fails.
func (s *Server) handleReady(w http.ResponseWriter) int {
	now := s.now()
	healthy, _ := s.healthAt(now)
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	b := *bp
	status := http.StatusOK
	if healthy {
		b = append(b, `{"ready":true,"timestamp":"`...)
	} else {
		b = append(b, `{"ready":false,"timestamp":"`...)
		status = http.StatusServiceUnavailable
	}
	b = appendISO(b, now)
	if healthy {
		b = append(b, `","status":"healthy"}`...)
	} else {
		b = append(b, `","status":"unhealthy"}`...)
	}
	*bp = b
	return writeJSON(w, status, b)
}

// handleStatus answers anonymously unless a valid token is sent.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) int {
	if _, ok := r.Header["Authorization"]; !ok {
		return writeJSON(w, http.StatusOK, bodyStatusAnonymous)
	}
	if _, err := s.authenticate(r); err != nil {
		return writeJSON(w, http.StatusOK, bodyStatusAnonymous)
	}
	total := s.store.summary()
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	b := *bp
	if s.running.Load() {
		b = append(b, `{"initialized":true,"running":true,"state":"thinking"`...)
	} else {
		b = append(b, `{"initialized":true,"running":false,"state":"idle"`...)
	}
	b = append(b, `,"iteration_count":0,"planner_type":"legacy","active_goal":`...)
	if g := s.active.Load(); g != nil {
		b = append(b, g.json...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"goals_summary":{"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"pending":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"in_progress":0,"completed":0},"performance":{"total_actions":0,"success_rate":0.0,"common_errors":[]},"agents":{}}`...)
	*bp = b
	return writeJSON(w, http.StatusOK, b)
}

// decodeFirst parses a body before the auth dependencies run, as FastAPI does;
// it writes the error answer itself and reports 0 on success.
func decodeFirst(w http.ResponseWriter, raw []byte) (parsedBody, int) {
	body, berr := parseBody(raw)
	if berr != nil {
		return body, writeJSON(w, berr.status, berr.body)
	}
	return body, 0
}

// tokenAnswer renders a TokenResponse.
func tokenAnswer(tok string, expiresIn int64, username string, r role) []byte {
	b := make([]byte, 0, len(tok)+128+len(username))
	b = append(b, `{"access_token":`...)
	b = appendStr(b, tok)
	b = append(b, `,"token_type":"bearer","expires_in":`...)
	b = strconv.AppendInt(b, expiresIn, 10)
	b = append(b, `,"user":{"username":`...)
	b = appendStr(b, username)
	b = append(b, `,"role":`...)
	b = appendStr(b, roleNames[r])
	return append(b, "}}"...)
}

// handleLogin accepts any password; "admin" gets role admin, anyone else user.
func (s *Server) handleLogin(w http.ResponseWriter, _ *http.Request, raw []byte) int {
	body, st := decodeFirst(w, raw)
	if st != 0 {
		return st
	}
	m := newModel(body)
	username := m.str("username", true, "")
	m.str("password", true, "")
	if !m.ok() {
		return writeJSON(w, http.StatusUnprocessableEntity, m.answer())
	}
	r := roleUser
	if username == "admin" {
		r = roleAdmin
	}
	now := s.now()
	tok, err := s.sign(username, r, now.Unix(), now.Add(24*time.Hour).Unix())
	if err != nil {
		return writeInternalError(w)
	}
	return writeJSON(w, http.StatusOK, tokenAnswer(tok, 24*3600, username, r))
}

// Python datetimes span years 1 to 9999; /auth/token fails (500) beyond them.
var (
	pyMinUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	pyMaxUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// handleToken lets an admin mint a token for anyone.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, raw []byte) int {
	body, st := decodeFirst(w, raw)
	if st != 0 {
		return st
	}
	p, aerr := s.authenticate(r)
	if aerr != nil {
		return aerr.write(w)
	}
	if p.role != roleAdmin {
		return errNeedAdmin.write(w)
	}
	m := newModel(body)
	username := m.str("username", true, "")
	newRole := m.roleField("role")
	hours := m.intField("expires_hours", 24, intBounds{})
	if !m.ok() {
		return writeJSON(w, http.StatusUnprocessableEntity, m.answer())
	}
	now := s.now()
	// X-Agent computes now + timedelta(hours=h); Python overflows past year 9999.
	if hours.big || hours.v > (pyMaxUnix-now.Unix())/3600 || hours.v < (pyMinUnix-now.Unix())/3600 {
		return writeInternalError(w)
	}
	tok, err := s.sign(username, newRole, now.Unix(), now.Unix()+hours.v*3600)
	if err != nil {
		return writeInternalError(w)
	}
	return writeJSON(w, http.StatusOK, tokenAnswer(tok, hours.v*3600, username, newRole))
}

// handleMe describes the token's user.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) int {
	p, aerr := s.authenticate(r)
	if aerr != nil {
		return aerr.write(w)
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"username":`...)
	b = appendStr(b, p.sub)
	b = append(b, `,"role":`...)
	b = appendStr(b, roleNames[p.role])
	b = append(b, `,"scopes":`...)
	b = appendStrList(b, p.scopes)
	b = append(b, `,"metadata":`...)
	b = append(b, p.metadata...)
	b = append(b, '}')
	return writeJSON(w, http.StatusOK, b)
}

// handleListGoals pages, filters and sorts the goal store.
func (s *Server) handleListGoals(w http.ResponseWriter, r *http.Request) int {
	if _, aerr := s.requireScope(r, scopeGoalRead); aerr != nil {
		return aerr.write(w)
	}
	q, errs := parseListQuery(r.URL.RawQuery)
	if len(errs) > 0 {
		return writeJSON(w, http.StatusUnprocessableEntity, appendErrors(nil, errs))
	}
	res := s.store.list(q)
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	b := append(*bp, `{"total":`...)
	b = strconv.AppendInt(b, res.total, 10)
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, res.page, 10)
	b = append(b, `,"page_size":`...)
	b = strconv.AppendInt(b, res.pageSize, 10)
	b = append(b, `,"total_pages":`...)
	b = strconv.AppendInt(b, res.totalPages, 10)
	b = append(b, `,"goals":[`...)
	for i, g := range res.goals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, g.json...)
	}
	b = append(b, "]}"...)
	*bp = b
	return writeJSON(w, http.StatusOK, b)
}

// goalFields validates a GoalCreate body.
type goalFields struct {
	description string
	continuous  bool
	priority    int
	criteria    []string
}

// validateGoal reads GoalCreate: description required, mode "continuous" or
// anything else (goal_oriented), priority 1–10 (default 5), completion_criteria.
func validateGoal(m *model) goalFields {
	var f goalFields
	f.description = m.str("description", true, "")
	f.continuous = m.str("mode", false, "goal_oriented") == "continuous"
	f.priority = int(m.intField("priority", 5, intBounds{hasGE: true, ge: 1, hasLE: true, le: 10}).v)
	f.criteria = m.strList("completion_criteria")
	return f
}

// handleCreateGoal stores a goal and answers 200 (not 201), as X-Agent does.
func (s *Server) handleCreateGoal(w http.ResponseWriter, r *http.Request, raw []byte) int {
	body, st := decodeFirst(w, raw)
	if st != 0 {
		return st
	}
	if _, aerr := s.requireScope(r, scopeGoalWrite); aerr != nil {
		return aerr.write(w)
	}
	m := newModel(body)
	f := validateGoal(m)
	if !m.ok() {
		return writeJSON(w, http.StatusUnprocessableEntity, m.answer())
	}
	g := newGoal(f.description, f.continuous, f.priority, f.criteria, s.now())
	s.store.add(g)
	b := make([]byte, 0, len(g.json)+32)
	b = append(b, `{"status":"created","goal":`...)
	b = append(b, g.json...)
	b = append(b, '}')
	return writeJSON(w, http.StatusOK, b)
}

// handleGetGoal answers one goal with its (empty) hierarchy.
func (s *Server) handleGetGoal(w http.ResponseWriter, r *http.Request) int {
	if _, aerr := s.requireScope(r, scopeGoalRead); aerr != nil {
		return aerr.write(w)
	}
	g := s.store.get(strings.TrimPrefix(r.URL.Path, "/goals/"))
	if g == nil {
		return writeJSON(w, http.StatusNotFound, bodyGoalNotFound)
	}
	b := make([]byte, 0, 2*len(g.json)+64)
	b = append(b, `{"goal":`...)
	b = append(b, g.json...)
	b = append(b, `,"hierarchy":{"goal":`...)
	b = append(b, g.json...)
	b = append(b, `,"sub_goals":[]}}`...)
	return writeJSON(w, http.StatusOK, b)
}

// handleSend answers /command and /feedback: {"status":"sent","message":"<prefix><text>"}.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, raw []byte, field, prefix string) int {
	body, st := decodeFirst(w, raw)
	if st != 0 {
		return st
	}
	if _, aerr := s.requireScope(r, scopeAgentControl); aerr != nil {
		return aerr.write(w)
	}
	m := newModel(body)
	text := m.str(field, true, "")
	if !m.ok() {
		return writeJSON(w, http.StatusUnprocessableEntity, m.answer())
	}
	b := make([]byte, 0, len(text)+64)
	b = append(b, `{"status":"sent","message":`...)
	b = appendStr(b, prefix+text)
	b = append(b, '}')
	return writeJSON(w, http.StatusOK, b)
}

// handleCommand forwards a command to the (absent) agent.
func (s *Server) handleCommand(w http.ResponseWriter, r *http.Request, raw []byte) int {
	return s.handleSend(w, r, raw, "command", "Command sent: ")
}

// handleFeedback forwards feedback to the (absent) agent.
func (s *Server) handleFeedback(w http.ResponseWriter, r *http.Request, raw []byte) int {
	return s.handleSend(w, r, raw, "feedback", "Feedback sent: ")
}

// handleStart marks the agent running; an optional GoalCreate body becomes the
// active goal with priority 10, as XAgent.start does.
func (s *Server) handleStart(w http.ResponseWriter, r *http.Request, raw []byte) int {
	body, st := decodeFirst(w, raw)
	if st != 0 {
		return st
	}
	if _, aerr := s.requireScope(r, scopeAgentControl); aerr != nil {
		return aerr.write(w)
	}
	if body.kind != bodyAbsent {
		m := newModel(body)
		f := validateGoal(m)
		if !m.ok() {
			return writeJSON(w, http.StatusUnprocessableEntity, m.answer())
		}
		g := newGoal(f.description, false, 10, nil, s.now())
		s.store.add(g)
		s.active.Store(g)
	}
	s.running.Store(true)
	return writeJSON(w, http.StatusOK, bodyStarted)
}

// handleStop marks the agent stopped; the route reads no body.
func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) int {
	if _, aerr := s.requireScope(r, scopeAgentControl); aerr != nil {
		return aerr.write(w)
	}
	s.running.Store(false)
	return writeJSON(w, http.StatusOK, bodyStopped)
}
