package fakeapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates reports wall-clock throughput and throughput per CPU-second of
// the whole process (client and server), which a busy machine skews less.
func reportRates(b *testing.B, cpuBefore time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if cpu := cpuTime(b) - cpuBefore; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/cpu-s")
	}
}

// benchServer returns a server holding n goals and an admin token.
func benchServer(b *testing.B, n int) (*Server, string) {
	b.Helper()
	s := newTestServer(b, DefaultOptions())
	tok := issue(b, s, "admin", "admin", 24*time.Hour)
	for i := range n {
		s.store.add(newGoal("Authenticated performance test goal "+strconv.Itoa(i), i%3 == 0, 1+i%10, nil, time.Now()))
	}
	return s, tok
}

// BenchmarkHandler measures ServeHTTP alone with a reusable ResponseWriter.
func BenchmarkHandler(b *testing.B) {
	s, tok := benchServer(b, 1000)
	cases := []struct{ name, path, auth string }{
		{"healthz", "/healthz", ""},
		{"status", "/status", ""},
		{"status-auth", "/status", tok},
		{"goals-auth", "/goals", tok},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", c.path, nil)
			if c.auth != "" {
				r.Header.Set("Authorization", "Bearer "+c.auth)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				s.ServeHTTP(w, r)
			}
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// benchLoopback runs GET path with Go's client over keep-alive loopback connections.
func benchLoopback(b *testing.B, s http.Handler, path, auth string) {
	const conns = 16
	url, client := loopback(b, s, conns)
	b.SetParallelism(conns / 2)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		r, err := http.NewRequest("GET", url+path, nil)
		if err != nil {
			b.Error(err)
			return
		}
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		for pb.Next() {
			resp, err := client.Do(r)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	reportRates(b, cpu)
}

// BenchmarkLoopbackStatus is GET /status through net/http's client and server.
func BenchmarkLoopbackStatus(b *testing.B) {
	s, _ := benchServer(b, 0)
	benchLoopback(b, s, "/status", "")
}

// BenchmarkLoopbackGoalsAuth is an authenticated GET /goals (default page of
// 10 out of 10,000 goals) through net/http's client and server.
func BenchmarkLoopbackGoalsAuth(b *testing.B) {
	s, tok := benchServer(b, 10_000)
	benchLoopback(b, s, "/goals", tok)
}

// BenchmarkRawLoopbackStatus drives GET /status with a minimal keep-alive
// client (no net/http on the client side) to show the server's own capacity.
func BenchmarkRawLoopbackStatus(b *testing.B) {
	s, _ := benchServer(b, 0)
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "http://")
	request := []byte("GET /status HTTP/1.1\r\nHost: bench\r\n\r\n")
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for pb.Next() {
			if _, err := conn.Write(request); err != nil {
				b.Error(err)
				return
			}
			if err := readResponse(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRates(b, cpu)
}

// readResponse consumes one HTTP/1.1 response with a Content-Length.
func readResponse(br *bufio.Reader) error {
	length := -1
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if first && !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
			return io.ErrUnexpectedEOF
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return io.ErrUnexpectedEOF
	}
	_, err := br.Discard(length)
	return err
}

// BenchmarkStoreList100k lists a full default-size store.
func BenchmarkStoreList100k(b *testing.B) {
	st := newGoalStore(DefaultMaxGoals)
	now := time.Now()
	for i := range DefaultMaxGoals {
		st.add(newGoal("g", i%3 == 0, 1+i%10, nil, now.Add(time.Duration(i)*time.Microsecond)))
	}
	queries := map[string]listQuery{
		"default":           {page: 1, pageSize: 10, prioMin: 1, prioMax: 10, desc: true},
		"deep-page":         {page: 5000, pageSize: 10, prioMin: 1, prioMax: 10, desc: true},
		"filtered":          {page: 3, pageSize: 100, mode: "continuous", prioMin: 4, prioMax: 6, desc: true},
		"priority-asc":      {page: 7, pageSize: 50, prioMin: 1, prioMax: 10, sortBy: sortPriority},
		"priority-filtered": {page: 2, pageSize: 20, mode: "goal_oriented", prioMin: 9, prioMax: 10, sortBy: sortPriority, desc: true},
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := st.list(q); len(res.goals) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}
