// Package xagent holds X-Agent's Locust user classes as scenario data: the same
// weights, wait times, request names, payloads and success rules as the Locust
// suite (see XAGENT-API.md, "The load scenarios X-Agent's Locust suite runs").
package xagent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/scenario"
)

// The user class names, as Locust names them.
const (
	APIUser           = "XAgentAPIUser"
	AuthenticatedUser = "XAgentAuthenticatedUser"
	StressUser        = "XAgentStressUser"
)

// Login credentials of the authenticated user (the password is not checked by X-Agent).
const (
	LoginUser     = "admin"
	LoginPassword = "admin"
)

var (
	apiGoalBody  = []byte(`{"description":"Performance test goal","mode":"one_time","priority":5}`)
	authGoalBody = []byte(`{"description":"Authenticated performance test goal","mode":"one_time","priority":5}`)
	loginBody    = []byte(`{"username":"` + LoginUser + `","password":"` + LoginPassword + `"}`)
)

// maxRemembered bounds the goal ids an API user keeps.
const maxRemembered = 1000

// apiState is what an XAgentAPIUser remembers: the ids of goals it created.
type apiState struct {
	goals []string
}

// Endpoint is one named request of X-Agent's user classes.
type Endpoint struct {
	Request client.Request
	// Auth says the request is sent with the authenticated user's bearer token.
	Auth bool
}

func request(method, path, name string, accept ...int) client.Request {
	return client.Request{Method: method, Path: path, Name: name, Accept: accept}
}

func withJSON(r client.Request, body []byte) client.Request {
	r.JSON = body
	return r
}

// The requests of the three classes, with the Locust suite's names and success rules.
var (
	apiStatus     = request("GET", "/status", "GET /status", 200)
	apiGoals      = request("GET", "/goals", "GET /goals", 200, 401)
	apiCreateGoal = withJSON(request("POST", "/goals", "POST /goals", 200, 201, 401), apiGoalBody)
	apiHealth     = request("GET", "/health", "GET /health", 200)
	apiReady      = request("GET", "/ready", "GET /ready", 200, 503)
	login         = withJSON(request("POST", "/auth/login", "POST /auth/login", 200), loginBody)
	authStatus    = request("GET", "/status", "GET /status (auth)")
	authGoals     = request("GET", "/goals", "GET /goals (auth)")
	authCreate    = withJSON(request("POST", "/goals", "POST /goals (auth)"), authGoalBody)
	stressHealthz = request("GET", "/healthz", "GET /healthz (stress)")
	stressStatus  = request("GET", "/status", "GET /status (stress)")
)

// Endpoints lists every request the classes make, once each, for benchmarks.
func Endpoints() []Endpoint {
	return []Endpoint{
		{Request: apiStatus}, {Request: apiGoals}, {Request: apiCreateGoal}, {Request: apiHealth}, {Request: apiReady},
		{Request: login},
		{Request: authStatus, Auth: true}, {Request: authGoals, Auth: true}, {Request: authCreate, Auth: true},
		{Request: stressHealthz}, {Request: stressStatus},
	}
}

// Classes returns X-Agent's three user classes, each with weight 1.
func Classes() []scenario.Class {
	return []scenario.Class{apiUser(), authenticatedUser(), stressUser()}
}

func do(req client.Request) func(context.Context, *scenario.User) error {
	return func(ctx context.Context, u *scenario.User) error {
		u.Do(ctx, req)
		return nil
	}
}

func apiUser() scenario.Class {
	createGoal := apiCreateGoal
	createGoal.Keep = true
	return scenario.Class{
		Name:     APIUser,
		Weight:   1,
		Wait:     scenario.Between(time.Second, 3*time.Second),
		NewState: func() any { return &apiState{} },
		Tasks: []scenario.Task{
			{Name: "get_status", Weight: 3, Run: do(apiStatus)},
			{Name: "list_goals", Weight: 2, Run: do(apiGoals)},
			{Name: "create_goal", Weight: 1, Run: func(ctx context.Context, u *scenario.User) error {
				resp := u.Do(ctx, createGoal)
				if resp.OK() && (resp.Status == 200 || resp.Status == 201) {
					if id := GoalID(resp.Body); id != "" {
						st := u.State.(*apiState)
						if len(st.goals) < maxRemembered {
							st.goals = append(st.goals, id)
						}
					}
				}
				return nil
			}},
			{Name: "health_check", Weight: 1, Run: do(apiHealth)},
			{Name: "ready_check", Weight: 2, Run: do(apiReady)},
		},
		// The Locust suite's cleanup deletes remembered goals, but X-Agent has no
		// DELETE route (405) and the suite never found the id, so it sent nothing.
		// Sending DELETEs would only add 405 failures; the fake caps its store instead.
		OnStop: nil,
	}
}

// GoalID returns the id of a created goal: under goal.id, as X-Agent answers, or
// at the top level, where the Locust suite looked for it.
func GoalID(body []byte) string {
	var v struct {
		ID   string `json:"id"`
		Goal struct {
			ID string `json:"id"`
		} `json:"goal"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	if v.Goal.ID != "" {
		return v.Goal.ID
	}
	return v.ID
}

// Login posts the authenticated user's credentials and, on success, sets the
// session's bearer token. A failed login is recorded as a failed request and
// the user goes on unauthenticated, as the Locust suite's did.
func Login(ctx context.Context, u *scenario.User) error {
	Authenticate(ctx, u.HTTP)
	return nil
}

// Authenticate logs a session in as the authenticated user: on success every
// later request of the session carries the bearer token.
func Authenticate(ctx context.Context, s *client.Session) client.Response {
	req := login
	req.Check = func(_ int, body []byte) error {
		var v struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("Login failed: response is not JSON (%d bytes)", len(body))
		}
		if v.AccessToken == "" {
			return fmt.Errorf("Login failed: no access_token in response")
		}
		s.SetHeader("Authorization", "Bearer "+v.AccessToken)
		return nil
	}
	return s.Do(ctx, req, time.Time{})
}

func authenticatedUser() scenario.Class {
	return scenario.Class{
		Name:    AuthenticatedUser,
		Weight:  1,
		Wait:    scenario.Between(500*time.Millisecond, 2*time.Second),
		OnStart: Login,
		Tasks: []scenario.Task{
			{Name: "get_status_auth", Weight: 5, Run: do(authStatus)},
			{Name: "list_goals_auth", Weight: 3, Run: do(authGoals)},
			{Name: "create_goal_auth", Weight: 2, Run: do(authCreate)},
		},
	}
}

func stressUser() scenario.Class {
	return scenario.Class{
		Name:   StressUser,
		Weight: 1,
		Wait:   scenario.Between(100*time.Millisecond, 500*time.Millisecond),
		Tasks: []scenario.Task{
			{Name: "rapid_health", Weight: 1, Run: do(stressHealthz)},
			{Name: "rapid_status", Weight: 1, Run: do(stressStatus)},
		},
	}
}
