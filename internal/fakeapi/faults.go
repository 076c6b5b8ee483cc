package fakeapi

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// rng draws the random knobs: the n-th draw is a SplitMix64 hash of the seed
// and n, so draws need only one atomic add (no lock) and the sequence of draws
// is fixed by the seed.
type rng struct {
	seed uint64
	n    atomic.Uint64
}

// uint64 returns the next pseudo-random number.
func (g *rng) uint64() uint64 {
	z := g.seed + g.n.Add(1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float64 returns a uniform number in [0, 1).
func (g *rng) float64() float64 {
	return float64(g.uint64()>>11) / (1 << 53)
}

// wait sleeps d; it returns false if the request was cancelled first. Closing
// the Server ends every wait early, so shutdown never hangs on a fault.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// stall holds a request that arrives inside the stall window until it ends.
func (s *Server) stall(ctx context.Context) bool {
	if s.opts.StallFor <= 0 {
		return true
	}
	since := s.now().Sub(s.start)
	end := s.opts.StallAt + s.opts.StallFor
	if since < s.opts.StallAt || since >= end {
		return true
	}
	return s.wait(ctx, end-since)
}

// delay applies the route's latency spec, if any.
func (s *Server) delay(ctx context.Context, rt route, m method) bool {
	spec := s.latency[rt][m]
	if spec == nil {
		return true
	}
	return s.wait(ctx, spec.sample(s.rng.float64(), s.rng.float64()))
}

// reset drops the connection without an answer: hijack it and close it with
// SO_LINGER 0 so the client sees a TCP reset. Writers that cannot be hijacked
// (HTTP/2) get net/http's documented abort, which resets the stream.
func (s *Server) reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // best effort: a plain close still fails the request
	}
	_ = conn.Close()
}

// injectError answers with the configured failure status.
func (s *Server) injectError(w http.ResponseWriter) int {
	if s.opts.ErrorStatus == http.StatusServiceUnavailable {
		return writeJSON(w, http.StatusServiceUnavailable, bodyUnavailable)
	}
	return writeInternalError(w)
}
