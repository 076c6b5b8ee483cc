package fakeapi

import (
	"hash/maphash"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// X-Agent's anonymous limit: 60 requests per 60 s window, bucket of 70.
const (
	rateLimit  = 60
	rateBurst  = 70
	rateWindow = 60
)

// limiter is X-Agent's token bucket per client: a new client starts with a
// full bucket of 70 tokens, which refills at 60 per minute; a request takes one
// token. Denied requests do not touch the bucket (as in X-Agent).
type limiter struct {
	seed   maphash.Seed
	shards [16]limiterShard
}

// limiterShard is one lock domain of the limiter.
type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]bucket
	sweepAt int
}

// bucket is one client's tokens at the time of its last allowed request.
type bucket struct {
	tokens float64
	last   float64 // Unix seconds
}

// Bounds of the limiter's memory: a shard sweeps refilled buckets when it
// reaches sweepAt entries and never keeps more than maxBuckets.
const (
	minSweepAt = 1024
	maxBuckets = 1 << 16
)

// newLimiter returns a limiter with no clients.
func newLimiter() *limiter {
	l := &limiter{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i] = limiterShard{buckets: make(map[string]bucket), sweepAt: minSweepAt}
	}
	return l
}

// take spends a token of key at now; remaining is what X-Agent reports.
func (l *limiter) take(key string, now time.Time) (allowed bool, remaining int) {
	t := float64(now.UnixMicro()) / 1e6
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	tokens := float64(rateBurst)
	if ok {
		tokens = min(rateBurst, b.tokens+(t-b.last)/rateWindow*rateLimit)
	}
	if tokens >= 1 {
		tokens--
		if !ok && len(sh.buckets) >= sh.sweepAt {
			sh.sweep(t)
		}
		sh.buckets[key] = bucket{tokens: tokens, last: t}
		allowed = true
	}
	return allowed, int(max(0, tokens))
}

// sweep drops buckets that have refilled (forgetting them changes nothing) and,
// if the shard is still over its cap, arbitrary ones.
func (sh *limiterShard) sweep(t float64) {
	for k, b := range sh.buckets {
		if b.tokens+(t-b.last)/rateWindow*rateLimit >= rateBurst {
			delete(sh.buckets, k)
		}
	}
	for k := range sh.buckets {
		if len(sh.buckets) < maxBuckets {
			break
		}
		delete(sh.buckets, k)
	}
	sh.sweepAt = max(minSweepAt, 2*len(sh.buckets))
}

// limit applies the limiter to r, setting X-Agent's headers on w; it reports
// false after writing the 429.
func (s *Server) limit(w http.ResponseWriter, r *http.Request) (int, bool) {
	now := s.now()
	allowed, remaining := s.limiter.take(clientIP(r), now)
	reset := int64(math.Floor(float64(now.UnixMicro())/1e6)) + rateWindow
	h := w.Header()
	h["X-Ratelimit-Limit"] = hdrSixty
	h["X-Ratelimit-Remaining"] = []string{strconv.Itoa(remaining)}
	h["X-Ratelimit-Reset"] = []string{strconv.FormatInt(reset, 10)}
	h["X-Ratelimit-Window"] = hdrSixty
	if allowed {
		return 0, true
	}
	// X-Agent: Retry-After = reset - int(time.time()), i.e. the window length.
	h["Retry-After"] = []string{strconv.FormatInt(max(0, reset-now.Unix()), 10)}
	return writeJSON(w, http.StatusTooManyRequests, bodyRateLimited), false
}

// clientIP is X-Agent's client key: the first X-Forwarded-For entry, else the peer address.
func clientIP(r *http.Request) string {
	if v := r.Header["X-Forwarded-For"]; len(v) > 0 && v[0] != "" {
		first, _, _ := strings.Cut(v[0], ",")
		return strings.TrimSpace(first)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
