package perf

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/xagent/perfharness/internal/fakeapi"
)

// connCounter serves the fake and records the distinct client connections
// (by remote address) that sent requests.
type connCounter struct {
	mu    sync.Mutex
	addrs map[string]bool
}

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.addrs)
}

func countingServer(t *testing.T) (string, *connCounter) {
	t.Helper()
	f, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{addrs: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.addrs[r.RemoteAddr] = true
		c.mu.Unlock()
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); f.Close() })
	return srv.URL, c
}

// Each user has its own connection, as each Locust user has its own session:
// 10 users are 10 connections to the server, on both engines, where one
// shared pool gave 3 to 5. -shared-pool keeps the old behaviour.
func TestCLIOneConnectionPerUser(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"net", "fast"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			url, conns := countingServer(t)
			out, err := runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", url, "-client", engine,
				"-users", "10", "-spawn-rate", "100", "-duration", "3s", "-health-every", "0", "-metrics-every", "0")
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			// The reachability probe before the load has a connection of its
			// own (the monitor is off here).
			if n := conns.count(); n != 10+1 {
				t.Errorf("10 users and the probe made %d connections, want 11: one each", n)
			}
			url, conns = countingServer(t)
			out, err = runSelf(t, t.Context(), "-test.run", "^TestLoadLight$", "-host", url, "-client", engine, "-shared-pool",
				"-users", "10", "-spawn-rate", "100", "-duration", "3s", "-health-every", "0", "-metrics-every", "0")
			if err != nil {
				t.Fatalf("run with -shared-pool: %v\n%s", err, out)
			}
			// A shared pool follows the load, not the users (net/http may even
			// open more after a burst): only that it ran is checked.
			if n := conns.count(); n < 2 {
				t.Errorf("-shared-pool: 10 users and the probe made %d connections", n)
			}
			t.Logf("-shared-pool: %d connections for 10 users", conns.count())
		})
	}
}
