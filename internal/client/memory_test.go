package client

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const memServerEnv = "PERFHARNESS_CLIENT_MEMSERVER"

// TestMemoryServerProcess is the server of TestIdleSessionMemory, run in its
// own process so that its connections do not count in the client's heap. It
// serves until its stdin closes. ?wait=N holds each answer until N requests
// are in flight, so that a shared pool opens N connections.
func TestMemoryServerProcess(t *testing.T) {
	if os.Getenv(memServerEnv) == "" {
		t.Skip("the server of TestIdleSessionMemory")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var inFlight int
	var all chan struct{}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n, _ := strconv.Atoi(r.URL.Query().Get("wait")); n > 0 {
				mu.Lock()
				if inFlight == 0 {
					all = make(chan struct{})
				}
				inFlight++
				ch := all
				if inFlight == n {
					close(all)
					inFlight = 0
				}
				mu.Unlock()
				<-ch
			}
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		}))
	}()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0) // no goroutine check: the connections are the parent's to close
}

// TestIdleSessionMemory prints the heap and goroutine stacks each idle
// session costs once it has sent one request, for each engine and pool mode:
//
//	go test -run TestIdleSessionMemory -v ./internal/client/
//
// "turns": the users took turns, a shared pool needed one connection; "at
// once": they all sent at the same time, a shared pool opened one connection
// each (its state under load); "own": each session's own connection.
func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a thousand connections")
	}
	const users = 1000
	srv := exec.Command(os.Args[0], "-test.run=^TestMemoryServerProcess$")
	srv.Env = append(os.Environ(), memServerEnv+"=1")
	stdin, err := srv.StdinPipe()
	require.NoError(t, err)
	stdout, err := srv.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	defer func() {
		_ = stdin.Close()
		_ = srv.Wait()
	}()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	base := "http://" + addr[:len(addr)-1]

	for _, engine := range engines {
		for _, m := range []struct {
			name   string
			shared bool
			atOnce bool
		}{{"shared, turns", true, false}, {"shared, at once", true, true}, {"own", false, false}} {
			heap, stack, goroutines := idleSessionCost(t, base, Options{Engine: engine, SharedPool: m.shared}, users, m.atOnce)
			t.Logf("%-4s %-15s heap %6.0f B/session  stacks %6.0f B/session  = %5.1f MB per 1,000 users  (%d goroutines)",
				engine, m.name, heap, stack, (heap+stack)*1000/(1<<20), goroutines)
		}
	}
}

// idleSessionCost makes n sessions send one request each, in turn or at
// once, and measures what they hold once idle, per session.
func idleSessionCost(t *testing.T, base string, opts Options, n int, atOnce bool) (heap, stack float64, goroutines int) {
	t.Helper()
	c, err := New(base, nopRecorder{}, opts)
	require.NoError(t, err)
	defer c.CloseIdle()
	path := "/"
	if atOnce {
		path = "/?wait=" + strconv.Itoa(n)
	}
	sessions := make([]*Session, n)
	var failed atomic.Int64
	do := func(s *Session) {
		if r := s.Do(t.Context(), get(path), time.Time{}); !r.OK() {
			failed.Add(1)
		}
	}
	// At once, the users' goroutines exist before and after (parked, their
	// stacks shrunk by the GC), so that only the sessions' own count.
	var sent sync.WaitGroup
	start, end := make(chan int), make(chan struct{})
	if atOnce {
		for range n {
			sent.Add(1)
			go func() {
				do(sessions[<-start])
				sent.Done()
				<-end
			}()
		}
	}
	defer close(end)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for i := range sessions {
		sessions[i] = c.NewSession()
		if atOnce {
			start <- i
		} else {
			do(sessions[i])
		}
	}
	sent.Wait()
	require.Zero(t, failed.Load())
	for range 6 { // each GC halves a parked goroutine's grown stack
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	goroutines = runtime.NumGoroutine() - g0
	for _, s := range sessions {
		s.Close()
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return per(after.HeapAlloc, before.HeapAlloc), per(after.StackInuse, before.StackInuse), goroutines
}
