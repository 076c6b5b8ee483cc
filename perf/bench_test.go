package perf

import (
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/client"
	"github.com/xagent/perfharness/internal/harness"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/xagent"
)

// benchToken logs in once, as XAgentAuthenticatedUser does on start, and
// returns the Authorization header its sessions then send.
func benchToken(b *testing.B, host string) string {
	b.Helper()
	c, err := client.New(host, stats.NewRecorder(), client.Options{Insecure: flags.Insecure})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdle()
	s := c.NewSession()
	defer s.Close()
	if resp := xagent.Authenticate(b.Context(), s); !resp.OK() {
		b.Fatalf("login at %s failed: %s (status %d)", host, resp.Failure, resp.Status)
	}
	return s.Header("Authorization")
}

// BenchmarkEndpoint measures each endpoint's throughput and latency with
// parallel clients, against -host or the embedded fake. It reports p50-ms,
// p95-ms, p99-ms and req/s, in a form benchstat compares.
func BenchmarkEndpoint(b *testing.B) {
	host := flags.Host
	if host == "" {
		url, stop, err := harness.StartFake()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(stop)
		host = url
	}
	if err := harness.CheckReachable(b.Context(), host, flags.Insecure); err != nil {
		b.Fatal(err)
	}
	auth := benchToken(b, host)
	for _, ep := range xagent.Endpoints() {
		b.Run(ep.Request.Name, func(b *testing.B) {
			rec := stats.NewRecorder()
			c, err := client.New(host, rec, client.Options{Insecure: flags.Insecure, Timeout: flags.TimeoutReq.Or(30 * time.Second)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseIdle()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				s := c.NewSession()
				defer s.Close()
				if ep.Auth {
					s.SetHeader("Authorization", auth)
				}
				for pb.Next() {
					s.Do(b.Context(), ep.Request, time.Time{})
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
			if t.Failures > 0 && flags.Host == "" {
				b.Errorf("%d of %d requests failed against the embedded fake: %v", t.Failures, t.Requests, snap.Failures[0].Error)
			}
		})
	}
}
