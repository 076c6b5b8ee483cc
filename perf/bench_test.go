package perf

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/xagent"
)

// endpoint is one request the X-Agent scenarios make, benchmarked on its own.
type endpoint struct {
	req  client.Request
	auth bool
}

// benchEndpoints are the requests of X-Agent's user classes, named as in the statistics.
func benchEndpoints() []endpoint {
	goal := []byte(`{"description":"Performance test goal","mode":"one_time","priority":5}`)
	login := []byte(`{"username":"admin","password":"admin"}`)
	return []endpoint{
		{req: client.Request{Method: "GET", Path: "/status", Name: "GET /status"}},
		{req: client.Request{Method: "GET", Path: "/healthz", Name: "GET /healthz"}},
		{req: client.Request{Method: "GET", Path: "/health", Name: "GET /health"}},
		{req: client.Request{Method: "GET", Path: "/ready", Name: "GET /ready"}},
		{req: client.Request{Method: "GET", Path: "/goals", Name: "GET /goals", Accept: []int{200, 401}}},
		{req: client.Request{Method: "POST", Path: "/goals", Name: "POST /goals", JSON: goal, Accept: []int{200, 201, 401}}},
		{req: client.Request{Method: "POST", Path: "/auth/login", Name: "POST /auth/login", JSON: login}},
		{req: client.Request{Method: "GET", Path: "/status", Name: "GET /status (auth)"}, auth: true},
		{req: client.Request{Method: "GET", Path: "/goals", Name: "GET /goals (auth)"}, auth: true},
		{req: client.Request{Method: "POST", Path: "/goals", Name: "POST /goals (auth)", JSON: goal}, auth: true},
	}
}

// benchToken logs in once, as XAgentAuthenticatedUser does on start.
func benchToken(b *testing.B, host string) string {
	b.Helper()
	rec := stats.NewRecorder()
	defer rec.Close()
	c, err := client.New(host, rec, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdle()
	resp := c.NewSession().Do(b.Context(), client.Request{Method: "POST", Path: "/auth/login",
		JSON: []byte(`{"username":"` + xagent.LoginUser + `","password":"` + xagent.LoginPassword + `"}`), Keep: true}, time.Time{})
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if !resp.OK() || json.Unmarshal(resp.Body, &v) != nil || v.AccessToken == "" {
		b.Fatalf("login at %s failed: %s (status %d)", host, resp.Failure, resp.Status)
	}
	return v.AccessToken
}

// BenchmarkEndpoint measures each endpoint's throughput and latency with
// parallel clients, against -host or the embedded fake. It reports p50-ms,
// p95-ms, p99-ms and req/s, in a form benchstat compares.
func BenchmarkEndpoint(b *testing.B) {
	host := *flagHost
	if host == "" {
		host = startFake(b)
	}
	if err := checkReachable(b.Context(), host, *flagInsecure); err != nil {
		b.Fatal(err)
	}
	token := benchToken(b, host)
	for _, ep := range benchEndpoints() {
		b.Run(ep.req.Name, func(b *testing.B) {
			rec := stats.NewRecorder()
			c, err := client.New(host, rec, client.Options{Insecure: *flagInsecure, Timeout: flagTimeoutReq.orDefault(30 * time.Second)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseIdle()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				s := c.NewSession()
				defer s.Close()
				if ep.auth {
					s.SetHeader("Authorization", "Bearer "+token)
				}
				for pb.Next() {
					s.Do(b.Context(), ep.req, time.Time{})
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			snap := rec.Close()
			t := snap.Total
			b.ReportMetric(t.ServiceMS(50), "p50-ms")
			b.ReportMetric(t.ServiceMS(95), "p95-ms")
			b.ReportMetric(t.ServiceMS(99), "p99-ms")
			b.ReportMetric(float64(t.Requests)/elapsed.Seconds(), "req/s")
			b.ReportMetric(100*t.FailRatio(), "fail-%")
			if t.Failures > 0 && *flagHost == "" {
				b.Errorf("%d of %d requests failed against the embedded fake: %v", t.Failures, t.Requests, snap.Failures[0].Error)
			}
		})
	}
}
