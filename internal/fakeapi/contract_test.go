package fakeapi

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	goalIDPattern = regexp.MustCompile(`^goal_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	isoPattern    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$`)
	goalKeys      = []string{"id", "description", "mode", "status", "priority", "parent_id", "sub_goals",
		"completion_criteria", "created_at", "updated_at", "completed_at", "metadata"}
)

// contractRow is one row of XAGENT-API.md: a request and what must come back.
type contractRow struct {
	name   string
	method string
	path   string // "{id}" is replaced by an existing goal id
	body   string
	auth   string // "", "admin", "user", "readonly", or a raw Authorization value prefixed "raw:"
	header map[string]string

	status     int
	headers    map[string]string // exact header values
	keys       []string          // exact top-level JSON key set; nil skips
	values     map[string]any    // dotted path → JSON value
	bodyEquals string            // exact body, if set
	check      func(t *testing.T, body map[string]any)
}

func TestContract(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, DefaultOptions())
	tokens := map[string]string{
		"admin":    issue(t, s, "admin", "admin", time.Hour),
		"user":     issue(t, s, "bob", "user", time.Hour),
		"readonly": issue(t, s, "reader", "readonly", time.Hour),
	}
	created := serve(s, req{method: "POST", path: "/goals", body: `{"description":"seed goal","priority":7}`, header: bearer(tokens["admin"])})
	require.Equal(t, 200, created.Code, created.Body.String())
	goalID := dig(jsonBody(t, created), "goal.id").(string)

	isGoal := func(t *testing.T, g any) {
		m, ok := g.(map[string]any)
		require.True(t, ok, "goal %v", g)
		assert.ElementsMatch(t, goalKeys, keys(m))
		assert.Regexp(t, goalIDPattern, m["id"])
		assert.Equal(t, "pending", m["status"])
		assert.Regexp(t, isoPattern, m["created_at"])
		assert.Equal(t, m["created_at"], m["updated_at"])
		assert.Nil(t, m["completed_at"])
		assert.Nil(t, m["parent_id"])
		assert.Equal(t, []any{}, m["sub_goals"])
		assert.Equal(t, map[string]any{}, m["metadata"])
	}
	json := map[string]string{"Content-Type": "application/json"}
	bearerHdr := map[string]string{"Content-Type": "application/json", "Www-Authenticate": "Bearer"}
	statusDetailed := []string{"initialized", "running", "state", "iteration_count", "planner_type",
		"active_goal", "goals_summary", "performance", "agents"}

	rows := []contractRow{
		{name: "root", method: "GET", path: "/", status: 200, headers: json,
			bodyEquals: `{"name":"X-Agent API","version":"0.1.0","status":"running"}`},
		{name: "healthz", method: "GET", path: "/healthz", status: 200, headers: json,
			keys: []string{"alive", "timestamp", "uptime_seconds"}, values: map[string]any{"alive": true},
			check: func(t *testing.T, b map[string]any) {
				assert.Regexp(t, isoPattern, b["timestamp"])
				assert.IsType(t, float64(0), b["uptime_seconds"])
			}},
		{name: "health", method: "GET", path: "/health", status: 200, headers: json,
			keys:   []string{"status", "timestamp", "uptime_seconds", "checks", "version"},
			values: map[string]any{"status": "healthy", "version": "0.1.0", "checks.redis.status": "ok", "checks.postgres.status": "ok", "checks.chromadb.status": "ok"},
			check: func(t *testing.T, b map[string]any) {
				assert.ElementsMatch(t, []string{"redis", "postgres", "chromadb"}, keys(b["checks"].(map[string]any)))
				assert.Contains(t, b["checks"].(map[string]any)["redis"], "message")
			}},
		{name: "ready", method: "GET", path: "/ready", status: 200, headers: json,
			keys: []string{"ready", "timestamp", "status"}, values: map[string]any{"ready": true, "status": "healthy"}},
		{name: "status anonymous", method: "GET", path: "/status", status: 200, headers: json,
			bodyEquals: `{"status":"unknown","uptime":null}`},
		{name: "status bad token", method: "GET", path: "/status", auth: "raw:Bearer nope", status: 200,
			bodyEquals: `{"status":"unknown","uptime":null}`},
		{name: "status other scheme", method: "GET", path: "/status", auth: "raw:Basic YWRtaW46YWRtaW4=", status: 200,
			bodyEquals: `{"status":"unknown","uptime":null}`},
		{name: "status valid token", method: "GET", path: "/status", auth: "user", status: 200, headers: json,
			keys: statusDetailed,
			values: map[string]any{"initialized": true, "running": false, "state": "idle", "iteration_count": 0.0,
				"planner_type": "legacy", "active_goal": nil, "goals_summary.total": 1.0, "goals_summary.pending": 1.0,
				"goals_summary.in_progress": 0.0, "goals_summary.completed": 0.0, "performance.common_errors": []any{}},
			check: func(t *testing.T, b map[string]any) {
				assert.ElementsMatch(t, []string{"total_actions", "success_rate", "common_errors"}, keys(b["performance"].(map[string]any)))
			}},
		{name: "login admin", method: "POST", path: "/auth/login", body: `{"username":"admin","password":"admin"}`,
			status: 200, headers: json, keys: []string{"access_token", "token_type", "expires_in", "user"},
			values: map[string]any{"token_type": "bearer", "expires_in": 86400.0, "user.username": "admin", "user.role": "admin"},
			check: func(t *testing.T, b map[string]any) {
				w := serve(s, req{method: "GET", path: "/auth/me", header: bearer(b["access_token"].(string))})
				assert.Equal(t, 200, w.Code)
				assert.Len(t, dig(jsonBody(t, w), "scopes"), 12)
			}},
		{name: "login anyone is user", method: "POST", path: "/auth/login", body: `{"username":"carol","password":""}`,
			status: 200, values: map[string]any{"user.username": "carol", "user.role": "user"}},
		{name: "login missing password", method: "POST", path: "/auth/login", body: `{"username":"admin"}`,
			status: 422, headers: json, keys: []string{"detail"},
			values: map[string]any{"detail.0.type": "missing", "detail.0.loc": []any{"body", "password"},
				"detail.0.msg": "Field required", "detail.0.input": map[string]any{"username": "admin"}}},
		{name: "token by admin", method: "POST", path: "/auth/token", auth: "admin",
			body: `{"username":"svc","role":"service","expires_hours":2}`, status: 200,
			keys:   []string{"access_token", "token_type", "expires_in", "user"},
			values: map[string]any{"expires_in": 7200.0, "user.username": "svc", "user.role": "service"}},
		{name: "token defaults", method: "POST", path: "/auth/token", auth: "admin", body: `{"username":"u2"}`,
			status: 200, values: map[string]any{"expires_in": 86400.0, "user.role": "user"}},
		{name: "token by user", method: "POST", path: "/auth/token", auth: "user", body: `{"username":"x"}`,
			status: 403, headers: json, bodyEquals: `{"detail":"Insufficient permissions. Required role: admin"}`},
		{name: "me", method: "GET", path: "/auth/me", auth: "readonly", status: 200, headers: json,
			keys: []string{"username", "role", "scopes", "metadata"},
			values: map[string]any{"username": "reader", "role": "readonly", "scopes": []any{"goal:read", "agent:read"},
				"metadata": map[string]any{}}},
		{name: "me unauthenticated", method: "GET", path: "/auth/me", status: 401, headers: bearerHdr,
			bodyEquals: `{"detail":"Not authenticated"}`},
		{name: "list goals", method: "GET", path: "/goals", auth: "readonly", status: 200, headers: json,
			keys:   []string{"total", "page", "page_size", "total_pages", "goals"},
			values: map[string]any{"total": 1.0, "page": 1.0, "page_size": 10.0, "total_pages": 1.0},
			check:  func(t *testing.T, b map[string]any) { isGoal(t, dig(b, "goals.0")) }},
		{name: "list goals page clamped", method: "GET", path: "/goals?page=9&page_size=5", auth: "admin", status: 200,
			values: map[string]any{"page": 1.0, "page_size": 5.0, "total_pages": 1.0}},
		{name: "list goals filtered out", method: "GET", path: "/goals?status=completed&mode=goal_oriented&priority_min=1&priority_max=10&sort_by=priority&sort_order=asc",
			auth: "admin", status: 200, values: map[string]any{"total": 0.0, "total_pages": 1.0, "goals": []any{}}},
		{name: "list goals unauthenticated", method: "GET", path: "/goals", status: 401, headers: bearerHdr,
			bodyEquals: `{"detail":"Not authenticated"}`},
		{name: "list goals page=0", method: "GET", path: "/goals?page=0", auth: "admin", status: 422, headers: json,
			values: map[string]any{"detail.0.type": "greater_than_equal", "detail.0.loc": []any{"query", "page"},
				"detail.0.msg": "Input should be greater than or equal to 1", "detail.0.input": "0"}},
		{name: "list goals page_size=101", method: "GET", path: "/goals?page_size=101", auth: "admin", status: 422,
			values: map[string]any{"detail.0.type": "less_than_equal", "detail.0.loc": []any{"query", "page_size"},
				"detail.0.msg": "Input should be less than or equal to 100", "detail.0.input": "101"}},
		{name: "list goals priority_min=11", method: "GET", path: "/goals?priority_min=11", auth: "admin", status: 422,
			values: map[string]any{"detail.0.type": "less_than_equal", "detail.0.loc": []any{"query", "priority_min"}}},
		{name: "list goals sort_by=bogus", method: "GET", path: "/goals?sort_by=bogus", auth: "admin", status: 422,
			values: map[string]any{"detail.0.type": "string_pattern_mismatch", "detail.0.loc": []any{"query", "sort_by"}}},
		{name: "list goals page=abc", method: "GET", path: "/goals?page=abc", auth: "admin", status: 422,
			values: map[string]any{"detail.0.type": "int_parsing", "detail.0.loc": []any{"query", "page"},
				"detail.0.msg": "Input should be a valid integer, unable to parse string as an integer"}},
		{name: "create goal (Locust body)", method: "POST", path: "/goals", auth: "user",
			body: `{"description":"Performance test goal","mode":"one_time","priority":5}`, status: 200, headers: json,
			keys: []string{"status", "goal"},
			values: map[string]any{"status": "created", "goal.description": "Performance test goal",
				"goal.mode": "goal_oriented", "goal.priority": 5.0, "goal.completion_criteria": []any{}},
			check: func(t *testing.T, b map[string]any) { isGoal(t, b["goal"]) }},
		{name: "create goal continuous with defaults", method: "POST", path: "/goals", auth: "admin",
			body: `{"description":"watch","mode":"continuous","completion_criteria":["a","b"]}`, status: 200,
			values: map[string]any{"goal.mode": "continuous", "goal.priority": 5.0, "goal.completion_criteria": []any{"a", "b"}}},
		{name: "create goal priority 11", method: "POST", path: "/goals", auth: "admin",
			body: `{"description":"x","priority":11}`, status: 422,
			values: map[string]any{"detail.0.type": "less_than_equal", "detail.0.loc": []any{"body", "priority"},
				"detail.0.msg": "Input should be less than or equal to 10", "detail.0.input": 11.0}},
		{name: "create goal priority 0", method: "POST", path: "/goals", auth: "admin",
			body: `{"description":"x","priority":0}`, status: 422,
			values: map[string]any{"detail.0.type": "greater_than_equal", "detail.0.msg": "Input should be greater than or equal to 1"}},
		{name: "create goal missing description", method: "POST", path: "/goals", auth: "admin", body: `{}`, status: 422,
			values: map[string]any{"detail.0.type": "missing", "detail.0.loc": []any{"body", "description"}}},
		{name: "create goal invalid JSON", method: "POST", path: "/goals", auth: "admin", body: `{"description":`, status: 422,
			values: map[string]any{"detail.0.type": "json_invalid", "detail.0.msg": "JSON decode error"}},
		{name: "create goal without scope", method: "POST", path: "/goals", auth: "readonly", body: `{"description":"x"}`,
			status: 403, bodyEquals: `{"detail":"Insufficient permissions. Required scope: goal:write"}`},
		{name: "create goal unauthenticated", method: "POST", path: "/goals", body: `{"description":"x"}`,
			status: 401, headers: bearerHdr, bodyEquals: `{"detail":"Not authenticated"}`},
		{name: "get goal", method: "GET", path: "/goals/{id}", auth: "readonly", status: 200, headers: json,
			keys: []string{"goal", "hierarchy"}, values: map[string]any{"goal.priority": 7.0, "hierarchy.sub_goals": []any{}},
			check: func(t *testing.T, b map[string]any) {
				isGoal(t, b["goal"])
				assert.Equal(t, b["goal"], dig(b, "hierarchy.goal"))
				assert.Equal(t, goalID, dig(b, "goal.id"))
			}},
		{name: "get goal missing", method: "GET", path: "/goals/goal_00000000-0000-4000-8000-000000000000", auth: "admin",
			status: 404, headers: json, bodyEquals: `{"detail":"Goal not found"}`},
		{name: "delete goal", method: "DELETE", path: "/goals/{id}", auth: "admin", status: 405, headers: json,
			bodyEquals: `{"detail":"Method Not Allowed"}`},
		{name: "command", method: "POST", path: "/command", auth: "user", body: `{"command":"Add auth"}`, status: 200,
			headers: json, bodyEquals: `{"status":"sent","message":"Command sent: Add auth"}`},
		{name: "command without scope", method: "POST", path: "/command", auth: "readonly", body: `{"command":"x"}`,
			status: 403, bodyEquals: `{"detail":"Insufficient permissions. Required scope: agent:control"}`},
		{name: "feedback", method: "POST", path: "/feedback", auth: "admin", body: `{"feedback":"Good \"job\""}`, status: 200,
			bodyEquals: `{"status":"sent","message":"Feedback sent: Good \"job\""}`},
		{name: "stop", method: "POST", path: "/stop", auth: "admin", status: 200,
			bodyEquals: `{"status":"stopped","message":"Agent stopped successfully"}`},
		{name: "start", method: "POST", path: "/start", auth: "user", status: 200,
			bodyEquals: `{"status":"started","message":"Agent started successfully"}`},
		{name: "metrics", method: "GET", path: "/metrics", status: 200,
			headers: map[string]string{"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}},
		{name: "unknown path", method: "GET", path: "/nope", status: 404, headers: json, bodyEquals: `{"detail":"Not Found"}`},
		{name: "wrong method", method: "PUT", path: "/status", status: 405, headers: map[string]string{"Allow": "GET"},
			bodyEquals: `{"detail":"Method Not Allowed"}`},
		{name: "cors preflight", method: "OPTIONS", path: "/goals",
			header: map[string]string{"Origin": "http://ui.example", "Access-Control-Request-Method": "POST"}, status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": "http://ui.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT", "Access-Control-Max-Age": "600"}},
		{name: "body too large", method: "POST", path: "/goals", auth: "admin",
			body: `{"description":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, status: 413, headers: json},
		{name: "trailing slash redirects", method: "GET", path: "/goals/?page=2", status: 307,
			headers: map[string]string{"Location": "http://fake.test/goals?page=2"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			rq := req{method: row.method, path: strings.ReplaceAll(row.path, "{id}", goalID), body: row.body, header: map[string]string{}}
			for k, v := range row.header {
				rq.header[k] = v
			}
			switch {
			case strings.HasPrefix(row.auth, "raw:"):
				rq.header["Authorization"] = strings.TrimPrefix(row.auth, "raw:")
			case row.auth != "":
				rq.header["Authorization"] = "Bearer " + tokens[row.auth]
			}
			w := serve(s, rq)
			require.Equal(t, row.status, w.Code, "body %s", w.Body.String())
			for k, v := range row.headers {
				assert.Equal(t, v, w.Header().Get(k), "header %s", k)
			}
			if row.bodyEquals != "" {
				assert.Equal(t, row.bodyEquals, w.Body.String())
			}
			if row.keys == nil && row.values == nil && row.check == nil {
				return
			}
			b := jsonBody(t, w)
			if row.keys != nil {
				assert.ElementsMatch(t, row.keys, keys(b))
			}
			for path, want := range row.values {
				assert.Equal(t, want, dig(b, path), "field %s", path)
			}
			if row.check != nil {
				row.check(t, b)
			}
		})
	}
}

func TestStatusTracksAgent(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, DefaultOptions())
	tok := issue(t, s, "admin", "admin", time.Hour)
	w := serve(s, req{method: "POST", path: "/start", body: `{"description":"initial"}`, header: bearer(tok)})
	require.Equal(t, 200, w.Code, w.Body.String())
	b := jsonBody(t, serve(s, req{method: "GET", path: "/status", header: bearer(tok)}))
	assert.Equal(t, true, b["running"])
	assert.Equal(t, "initial", dig(b, "active_goal.description"))
	assert.Equal(t, 10.0, dig(b, "active_goal.priority"))
	assert.Equal(t, 1.0, dig(b, "goals_summary.total"))

	require.Equal(t, 200, serve(s, req{method: "POST", path: "/stop", header: bearer(tok)}).Code)
	b = jsonBody(t, serve(s, req{method: "GET", path: "/status", header: bearer(tok)}))
	assert.Equal(t, false, b["running"])
}

func TestValidationShapes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, DefaultOptions())
	tok := issue(t, s, "admin", "admin", time.Hour)
	cases := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"empty body", "/auth/login", "", 422, `{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`},
		{"both missing", "/auth/login", `{}`, 422, `{"detail":[{"type":"missing","loc":["body","username"],"msg":"Field required","input":{}},{"type":"missing","loc":["body","password"],"msg":"Field required","input":{}}]}`},
		{"not an object", "/auth/login", `[1]`, 422, `{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]}`},
		{"wrong type", "/command", `{"command":5}`, 422, `{"detail":[{"type":"string_type","loc":["body","command"],"msg":"Input should be a valid string","input":5}]}`},
		{"priority as string", "/goals", `{"description":"d","priority":"x"}`, 422, `{"detail":[{"type":"int_parsing","loc":["body","priority"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}]}`},
		{"priority fractional", "/goals", `{"description":"d","priority":2.5}`, 422, `{"detail":[{"type":"int_from_float","loc":["body","priority"],"msg":"Input should be a valid integer, got a number with a fractional part","input":2.5}]}`},
		{"priority huge", "/goals", `{"description":"d","priority":123456789012345678901234567890}`, 422, `{"detail":[{"type":"less_than_equal","loc":["body","priority"],"msg":"Input should be less than or equal to 10","input":123456789012345678901234567890,"ctx":{"le":10}}]}`},
		{"criteria item", "/goals", `{"description":"d","completion_criteria":["ok",1]}`, 422, `{"detail":[{"type":"string_type","loc":["body","completion_criteria",1],"msg":"Input should be a valid string","input":1}]}`},
		{"bad role", "/auth/token", `{"username":"u","role":"root"}`, 422, `{"detail":[{"type":"enum","loc":["body","role"],"msg":"Input should be 'admin', 'user', 'service' or 'readonly'","input":"root","ctx":{"expected":"'admin', 'user', 'service' or 'readonly'"}}]}`},
		{"invalid utf-8", "/goals", "{\"description\":\"\xff\"}", 400, `{"detail":"There was an error parsing the body"}`},
		{"json before auth", "/command", `nope`, 422, ``},
		{"expires overflow", "/auth/token", `{"username":"u","expires_hours":100000000000}`, 500, `Internal Server Error`},
		{"lax int accepted", "/goals", `{"description":"d","priority":"7"}`, 200, ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := bearer(tok)
			if c.name == "json before auth" {
				h = nil
			}
			w := serve(s, req{method: "POST", path: c.path, body: c.body, header: h})
			require.Equal(t, c.status, w.Code, w.Body.String())
			if c.want != "" {
				assert.Equal(t, c.want, w.Body.String())
			}
		})
	}
}
