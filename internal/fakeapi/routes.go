package fakeapi

import "strings"

// route identifies a path template of the API; routeUnmatched is every other path.
type route uint8

const (
	routeUnmatched route = iota
	routeRoot
	routeHealthz
	routeHealth
	routeReady
	routeStatus
	routeLogin
	routeToken
	routeMe
	routeGoals
	routeGoal
	routeCommand
	routeFeedback
	routeStart
	routeStop
	routeMetrics
	numRoutes

	// routeAny stands for "every route" in latency keys.
	routeAny route = 255
)

// routeTemplates are the metric labels and latency keys of the routes.
var routeTemplates = [numRoutes]string{
	routeUnmatched: "unmatched",
	routeRoot:      "/",
	routeHealthz:   "/healthz",
	routeHealth:    "/health",
	routeReady:     "/ready",
	routeStatus:    "/status",
	routeLogin:     "/auth/login",
	routeToken:     "/auth/token",
	routeMe:        "/auth/me",
	routeGoals:     "/goals",
	routeGoal:      "/goals/{goal_id}",
	routeCommand:   "/command",
	routeFeedback:  "/feedback",
	routeStart:     "/start",
	routeStop:      "/stop",
	routeMetrics:   "/metrics",
}

// matchRoute maps a request path to its route, as Starlette matches
// (exact paths, {goal_id} is one non-empty segment).
func matchRoute(path string) route {
	switch path {
	case "/":
		return routeRoot
	case "/healthz":
		return routeHealthz
	case "/health":
		return routeHealth
	case "/ready":
		return routeReady
	case "/status":
		return routeStatus
	case "/auth/login":
		return routeLogin
	case "/auth/token":
		return routeToken
	case "/auth/me":
		return routeMe
	case "/goals":
		return routeGoals
	case "/command":
		return routeCommand
	case "/feedback":
		return routeFeedback
	case "/start":
		return routeStart
	case "/stop":
		return routeStop
	case "/metrics":
		return routeMetrics
	}
	if id, ok := strings.CutPrefix(path, "/goals/"); ok && id != "" && strings.IndexByte(id, '/') < 0 {
		return routeGoal
	}
	return routeUnmatched
}

// routeByTemplate finds a route by its template.
func routeByTemplate(t string) (route, bool) {
	for i, s := range routeTemplates {
		if s == t {
			return route(i), true
		}
	}
	return 0, false
}

// rateExempt reports the routes X-Agent's limiter skips.
func rateExempt(rt route) bool {
	return rt == routeHealth || rt == routeHealthz || rt == routeReady || rt == routeMetrics
}

// method is an HTTP method; methodOther covers the non-standard ones.
type method uint8

const (
	methodGET method = iota
	methodPOST
	methodPUT
	methodDELETE
	methodPATCH
	methodHEAD
	methodOPTIONS
	methodOther
	numMethods

	// methodAny stands for "every method" in latency keys.
	methodAny method = 255
)

// methodNames are the metric labels of the methods.
var methodNames = [numMethods]string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "OTHER"}

// methodOf classifies a request method.
func methodOf(s string) method {
	switch s {
	case "GET":
		return methodGET
	case "POST":
		return methodPOST
	case "PUT":
		return methodPUT
	case "DELETE":
		return methodDELETE
	case "PATCH":
		return methodPATCH
	case "HEAD":
		return methodHEAD
	case "OPTIONS":
		return methodOPTIONS
	}
	return methodOther
}

// routeMethod is the method each route answers; /goals answers GET and POST.
var routeMethod = [numRoutes]method{
	routeRoot:     methodGET,
	routeHealthz:  methodGET,
	routeHealth:   methodGET,
	routeReady:    methodGET,
	routeStatus:   methodGET,
	routeLogin:    methodPOST,
	routeToken:    methodPOST,
	routeMe:       methodGET,
	routeGoals:    methodPOST,
	routeGoal:     methodGET,
	routeCommand:  methodPOST,
	routeFeedback: methodPOST,
	routeStart:    methodPOST,
	routeStop:     methodPOST,
	routeMetrics:  methodGET,
}

// allowed reports whether the route answers the method (FastAPI adds no HEAD).
func allowed(rt route, m method) bool {
	return routeMethod[rt] == m || (rt == routeGoals && m == methodGET)
}

// allowHeader is Starlette's Allow header on 405: the methods of the first
// route registered for the path (X-Agent registers POST /goals before GET /goals).
var allowHeader = [numMethods][]string{
	methodGET:  {"GET"},
	methodPOST: {"POST"},
}
