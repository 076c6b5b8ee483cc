package perf

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/harness"
	"github.com/xagent/perfharness/internal/judge"
	"github.com/xagent/perfharness/internal/xagent"
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// xagentLoad is one of the seed's scenarios on X-Agent's classes: its load,
// and the short form -short runs (3 s).
func xagentLoad(users int, rate float64, d time.Duration, shortUsers int, shortRate float64, classes ...string) Scenario {
	return Scenario{
		Load:    Load{Users: users, SpawnRate: rate, Duration: d},
		Short:   Load{Users: shortUsers, SpawnRate: shortRate, Duration: 3 * time.Second},
		Classes: xagent.Classes(), Only: classes,
	}
}

// TestLoadLight is the seed's light load: locust -u 10 -r 2 -t 60s, all classes.
func TestLoadLight(t *testing.T) { Run(t, xagentLoad(10, 2, time.Minute, 10, 10)) }

// TestLoadMedium is the seed's medium load: -u 50 -r 5 -t 5m.
func TestLoadMedium(t *testing.T) { Run(t, xagentLoad(50, 5, 5*time.Minute, 15, 15)) }

// TestLoadHeavy is the seed's heavy load: -u 100 -r 10 -t 10m.
func TestLoadHeavy(t *testing.T) { Run(t, xagentLoad(100, 10, 10*time.Minute, 20, 20)) }

// TestLoadAPIUser runs only unauthenticated users: -u 20 -r 2 -t 2m XAgentAPIUser.
func TestLoadAPIUser(t *testing.T) {
	Run(t, xagentLoad(20, 2, 2*time.Minute, 10, 10, xagent.APIUser))
}

// TestLoadAuthenticated runs only logged-in users: -u 20 -r 2 -t 2m XAgentAuthenticatedUser.
func TestLoadAuthenticated(t *testing.T) {
	Run(t, xagentLoad(20, 2, 2*time.Minute, 10, 10, xagent.AuthenticatedUser))
}

// TestLoadStress is the seed's stress test: -u 100 -r 20 -t 5m XAgentStressUser.
// Its offered load can reach the RPS target, so RPS gates it too.
func TestLoadStress(t *testing.T) {
	sc := xagentLoad(100, 20, 5*time.Minute, 40, 40, xagent.StressUser)
	sc.Gate = append(append([]string(nil), judge.DefaultGate...), "rps")
	Run(t, sc)
}

// TestLoadShape runs the seed's staged profile, fixtures/shapes/ramp.json:
// 10 users at 1/s for 60 s, 50 at 2/s to 120 s, 100 at 5/s to 180 s, then
// stops (-shape FILE runs another; -short runs it at a twentieth of the time
// and a fifth of the users: 2, 10 and 20 users over 9 s).
func TestLoadShape(t *testing.T) {
	Run(t, Scenario{Shape: "../fixtures/shapes/ramp.json", Load: Load{SpawnRate: 1}, Classes: xagent.Classes()})
}

// TestLoadMax is a max-throughput run like wrk's or hey's: -users users each
// get -path (default /status) again as soon as the answer is in, for
// -duration (default 50 users for 10 s; -short: 20 users for 3 s). Only the
// failure rate is gated: latency under saturation is what it measures.
//
//	go test ./perf -run TestLoadMax -host URL -users 50 -duration 10s -path /status
func TestLoadMax(t *testing.T) {
	sc := xagentLoad(50, 1000, 10*time.Second, 20, 1000)
	sc.Max, sc.Gate = true, []string{"failure_rate_pct"}
	Run(t, sc)
}

// TestLoadWeb is the web UI's idle mode: it starts no load until the page asks
// for a swarm (host, users, spawn rate, classes, duration), runs each swarm
// as a subtest graded like any run, and ends when the page quits.
//
//	go test ./perf -run TestLoadWeb -web 127.0.0.1:8089 -timeout 0
func TestLoadWeb(t *testing.T) {
	if flags.Web == "" {
		t.Skip("TestLoadWeb is the web UI's idle mode: go test ./perf -run TestLoadWeb -web 127.0.0.1:8089 -timeout 0")
	}
	// Without -host, every swarm targets one embedded fake, started now, whose
	// address the page offers.
	host := flags.Host
	if host == "" {
		url, stop, err := harness.StartFake()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		host = url
	}
	ui, err := harness.ServeWeb(flags.Web, true, host, xagent.Classes(), os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ui.Close)
	for n := 1; ; n++ {
		select {
		case s := <-ui.Swarms():
			t.Run(fmt.Sprintf("swarm%d", n), func(t *testing.T) {
				sc := Scenario{Name: t.Name(), Load: Load{Users: s.Users, SpawnRate: s.SpawnRate, Duration: s.Duration},
					Classes: xagent.Classes(), Only: s.Classes}
				p, err := flags.Plan(sc, env(t))
				if err != nil {
					ui.Fail(err)
					t.Fatal(err)
				}
				if s.Host != "" {
					p.Host = s.Host
				}
				p.UI = ui
				runPlan(t, p)
			})
		case <-ui.Quitting():
			return
		case <-t.Context().Done():
			return
		}
	}
}
