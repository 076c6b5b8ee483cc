// Package fakeapi is an in-process fake of the X-Agent REST API
// (/work/shared/XAGENT-API.md) for load tests: an http.Handler that answers
// every route of the contract as X-Agent does (status, headers, JSON fields,
// FastAPI's 401/403/404/405/422 shapes, real HS256 tokens), cheaply enough to
// be the target of a load test, and misbehaves on request.
//
// Use it through httptest.NewServer(srv) or the standalone scripts/fakeapi.
//
// # Goal store
//
// Goals live in memory in a ring of at most Options.MaxGoals (default 100,000)
// goals in creation order; creating one more evicts the oldest, which then
// answers 404. X-Agent has no DELETE route, so a long Locust-style run would
// otherwise grow the store without bound: the cap keeps the fake's memory
// bounded (about 0.5 KiB per goal plus its description). Reads share a
// read lock; listings walk the ring in the requested order instead of sorting,
// so the default page (created_at desc) costs O(page_size) at any store size.
//
// # Faults
//
// All faults are off by default. Per request, in this order: ResetRate closes
// the connection with a TCP reset, the stall window holds the request, Latency
// delays it, the rate limiter (RateLimit) may answer 429, ErrorRate answers
// ErrorStatus; then CORS and routing. /metrics is never reset or failed and only
// gets latency configured for it by name. Unhealthy and HealthFlap change
// /health and /ready. Randomness is drawn from Options.Seed without locks.
//
// # Where the fake differs from X-Agent
//
//   - Metrics are labelled by route template ("/goals/{goal_id}", unknown paths
//     "unmatched"), not by raw path, so series stay bounded; only the two API
//     metrics are exported.
//   - sort_by and sort_order are validated (422 string_pattern_mismatch) where
//     X-Agent falls back to its defaults.
//   - Bodies over 1 MiB get 413; X-Agent has no limit.
//   - Claims that crash X-Agent (a non-string role, an unknown role) get 401.
//   - Bodies are parsed as JSON whatever their Content-Type; NaN and Infinity
//     literals, which Python accepts, are json_invalid.
//   - /status's "agents" is an empty object; the agent never really runs.
package fakeapi
