package perf

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/xagent"
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// scaled returns a scenario with the seed's values and a short form for -short.
func scaled(users int, rate float64, d time.Duration, shortUsers int, shortRate float64, classes ...string) loadScenario {
	sc := loadScenario{Users: users, SpawnRate: rate, Duration: d, Classes: classes}
	sc.Short.Users, sc.Short.SpawnRate, sc.Short.Duration = shortUsers, shortRate, 3*time.Second
	return sc
}

// TestLoadLight is the seed's light load: locust -u 10 -r 2 -t 60s, all classes.
func TestLoadLight(t *testing.T) { runLoad(t, scaled(10, 2, time.Minute, 10, 10)) }

// TestLoadMedium is the seed's medium load: -u 50 -r 5 -t 5m.
func TestLoadMedium(t *testing.T) { runLoad(t, scaled(50, 5, 5*time.Minute, 15, 15)) }

// TestLoadHeavy is the seed's heavy load: -u 100 -r 10 -t 10m.
func TestLoadHeavy(t *testing.T) { runLoad(t, scaled(100, 10, 10*time.Minute, 20, 20)) }

// TestLoadAPIUser runs only unauthenticated users: -u 20 -r 2 -t 2m XAgentAPIUser.
func TestLoadAPIUser(t *testing.T) {
	runLoad(t, scaled(20, 2, 2*time.Minute, 10, 10, xagent.APIUser))
}

// TestLoadAuthenticated runs only logged-in users: -u 20 -r 2 -t 2m XAgentAuthenticatedUser.
func TestLoadAuthenticated(t *testing.T) {
	runLoad(t, scaled(20, 2, 2*time.Minute, 10, 10, xagent.AuthenticatedUser))
}

// TestLoadStress is the seed's stress test: -u 100 -r 20 -t 5m XAgentStressUser.
// Its offered load can reach the RPS target, so RPS gates it too.
func TestLoadStress(t *testing.T) {
	sc := scaled(100, 20, 5*time.Minute, 40, 40, xagent.StressUser)
	sc.Gate = append(append([]string(nil), defaultGate...), "rps")
	runLoad(t, sc)
}

// TestLoadShape runs the seed's staged profile, fixtures/shapes/ramp.json:
// 10 users at 1/s for 60 s, 50 at 2/s to 120 s, 100 at 5/s to 180 s, then
// stops (-shape FILE runs another; -short runs it at a twentieth of the time
// and a fifth of the users: 2, 10 and 20 users over 9 s).
func TestLoadShape(t *testing.T) {
	runLoad(t, loadScenario{Shape: "../fixtures/shapes/ramp.json", SpawnRate: 1})
}

// TestLoadMax is a max-throughput run like wrk's or hey's: -users users each
// get -path (default /status) again as soon as the answer is in, for
// -duration (default 50 users for 10 s; -short: 20 users for 3 s). Only the
// failure rate is gated: latency under saturation is what it measures.
//
//	go test ./perf -run TestLoadMax -host URL -users 50 -duration 10s -path /status
func TestLoadMax(t *testing.T) {
	sc := scaled(50, 1000, 10*time.Second, 20, 1000)
	sc.Max = true
	sc.Gate = []string{"failure_rate_pct"}
	runLoad(t, sc)
}
