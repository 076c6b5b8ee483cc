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

// Classes returns X-Agent's three user classes, each with weight 1.
func Classes() []scenario.Class {
	return []scenario.Class{apiUser(), authenticatedUser(), stressUser()}
}

func request(method, path, name string, accept ...int) client.Request {
	return client.Request{Method: method, Path: path, Name: name, Accept: accept}
}

func do(req client.Request) func(context.Context, *scenario.User) error {
	return func(ctx context.Context, u *scenario.User) error {
		u.Do(ctx, req)
		return nil
	}
}

func apiUser() scenario.Class {
	createGoal := request("POST", "/goals", "POST /goals", 200, 201, 401)
	createGoal.JSON = apiGoalBody
	createGoal.Keep = true
	return scenario.Class{
		Name:     APIUser,
		Weight:   1,
		Wait:     scenario.Between(time.Second, 3*time.Second),
		NewState: func() any { return &apiState{} },
		Tasks: []scenario.Task{
			{Name: "get_status", Weight: 3, Run: do(request("GET", "/status", "GET /status", 200))},
			{Name: "list_goals", Weight: 2, Run: do(request("GET", "/goals", "GET /goals", 200, 401))},
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
			{Name: "health_check", Weight: 1, Run: do(request("GET", "/health", "GET /health", 200))},
			{Name: "ready_check", Weight: 2, Run: do(request("GET", "/ready", "GET /ready", 200, 503))},
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
	req := request("POST", "/auth/login", "POST /auth/login", 200)
	req.JSON = loginBody
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
		u.HTTP.SetHeader("Authorization", "Bearer "+v.AccessToken)
		return nil
	}
	u.Do(ctx, req)
	return nil
}

func authenticatedUser() scenario.Class {
	createGoal := request("POST", "/goals", "POST /goals (auth)")
	createGoal.JSON = authGoalBody
	return scenario.Class{
		Name:    AuthenticatedUser,
		Weight:  1,
		Wait:    scenario.Between(500*time.Millisecond, 2*time.Second),
		OnStart: Login,
		Tasks: []scenario.Task{
			{Name: "get_status_auth", Weight: 5, Run: do(request("GET", "/status", "GET /status (auth)"))},
			{Name: "list_goals_auth", Weight: 3, Run: do(request("GET", "/goals", "GET /goals (auth)"))},
			{Name: "create_goal_auth", Weight: 2, Run: do(createGoal)},
		},
	}
}

func stressUser() scenario.Class {
	return scenario.Class{
		Name:   StressUser,
		Weight: 1,
		Wait:   scenario.Between(100*time.Millisecond, 500*time.Millisecond),
		Tasks: []scenario.Task{
			{Name: "rapid_health", Weight: 1, Run: do(request("GET", "/healthz", "GET /healthz (stress)"))},
			{Name: "rapid_status", Weight: 1, Run: do(request("GET", "/status", "GET /status (stress)"))},
		},
	}
}
