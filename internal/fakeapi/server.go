package fakeapi

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Server is the fake X-Agent API; it implements http.Handler.
type Server struct {
	opts      Options
	now       func() time.Time
	start     time.Time
	done      chan struct{}
	closeOnce sync.Once

	secret  []byte
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
	tokens  *tokenCache

	store   *goalStore
	limiter *limiter // nil unless Options.RateLimit
	metrics *metrics
	health  healthAnswers

	faulty  bool // reset, stall or latency is configured
	latency [numRoutes][numMethods]*LatencySpec
	rng     rng
	bufs    bufPool

	running atomic.Bool
	active  atomic.Pointer[goal]
}

// New builds a Server from opts; zero fields take their documented defaults.
func New(opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:   opts,
		now:    opts.Now,
		done:   make(chan struct{}),
		secret: []byte(opts.SecretKey),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithoutClaimsValidation(), jwt.WithJSONNumber()),
		store: newGoalStore(opts.MaxGoals),
	}
	s.start = s.now()
	s.keyFunc = func(*jwt.Token) (any, error) { return s.secret, nil }
	s.tokens = newTokenCache(s.verifyToken)
	m, err := newMetrics()
	if err != nil {
		return nil, fmt.Errorf("fakeapi: metrics: %w", err)
	}
	s.metrics = m
	if opts.RateLimit {
		s.limiter = newLimiter()
	}
	s.health = newHealthAnswers(opts)
	seed := uint64(opts.Seed)
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rng.seed = seed
	s.resolveLatency()
	s.faulty = opts.ResetRate > 0 || opts.StallFor > 0 || len(opts.Latency) > 0
	return s, nil
}

// resolveLatency picks, per route and method, the most specific Latency key.
func (s *Server) resolveLatency() {
	var rank [numRoutes][numMethods]int
	for key, spec := range s.opts.Latency {
		m, rt, err := parseLatencyKey(key)
		if err != nil {
			continue // Validate already refused it
		}
		spec := spec
		for r := range numRoutes {
			for mm := range numMethods {
				k := 0
				switch {
				case rt == route(r) && m == mm:
					k = 3
				case rt == route(r) && m == methodAny:
					k = 2
				case rt == routeAny && route(r) != routeMetrics:
					k = 1
				}
				if k > rank[r][mm] {
					rank[r][mm] = k
					s.latency[r][mm] = &spec
				}
			}
		}
	}
}

// Close releases requests held by a stall or latency; the Server keeps
// answering afterwards. It starts no goroutines, so there are none to stop.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	rt := matchRoute(r.URL.Path)
	m := methodOf(r.Method)
	if status := s.serve(w, r, rt, m); status > 0 {
		s.metrics.observe(rt, m, status, time.Since(began))
	}
}

// serve applies the faults and X-Agent's middleware stack (rate limit, CORS)
// before routing; it returns the status written, or 0 if nothing was.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route, m method) int {
	if s.faulty {
		if s.opts.ResetRate > 0 && rt != routeMetrics && s.rng.float64() < s.opts.ResetRate {
			s.reset(w)
			return 0
		}
		if !s.stall(r.Context()) || !s.delay(r.Context(), rt, m) {
			return 0 // the client gave up
		}
	}
	if s.limiter != nil && !rateExempt(rt) {
		if status, ok := s.limit(w, r); !ok {
			return status
		}
	}
	if s.opts.ErrorRate > 0 && rt != routeMetrics && s.rng.float64() < s.opts.ErrorRate {
		return s.injectError(w)
	}
	if origin, ok := r.Header["Origin"]; ok {
		if m == methodOPTIONS && len(r.Header["Access-Control-Request-Method"]) > 0 {
			return preflight(w, r, firstOr(origin))
		}
		simpleCORS(w.Header(), r, firstOr(origin))
	}
	if rt == routeUnmatched {
		return notFound(w, r)
	}
	if !allowed(rt, m) {
		w.Header()["Allow"] = allowHeader[routeMethod[rt]]
		return writeJSON(w, http.StatusMethodNotAllowed, bodyMethodNotAllow)
	}
	return s.route(w, r, rt, m)
}

// route calls the endpoint.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rt route, m method) int {
	switch rt {
	case routeRoot:
		return writeJSON(w, http.StatusOK, bodyRoot)
	case routeHealthz:
		return s.handleHealthz(w)
	case routeHealth:
		return s.handleHealth(w)
	case routeReady:
		return s.handleReady(w)
	case routeStatus:
		return s.handleStatus(w, r)
	case routeLogin:
		return s.withBody(w, r, s.handleLogin)
	case routeToken:
		return s.withBody(w, r, s.handleToken)
	case routeMe:
		return s.handleMe(w, r)
	case routeGoals:
		if m == methodGET {
			return s.handleListGoals(w, r)
		}
		return s.withBody(w, r, s.handleCreateGoal)
	case routeGoal:
		return s.handleGetGoal(w, r)
	case routeCommand:
		return s.withBody(w, r, s.handleCommand)
	case routeFeedback:
		return s.withBody(w, r, s.handleFeedback)
	case routeStart:
		return s.withBody(w, r, s.handleStart)
	case routeStop:
		return s.handleStop(w, r)
	case routeMetrics:
		return s.metrics.serve(w, r)
	}
	return notFound(w, r)
}

// firstOr returns the first header value or "".
func firstOr(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// corsMethods are the methods Starlette's CORSMiddleware allows with allow_methods=["*"].
var corsMethods = [...]string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// preflight answers a CORS preflight as Starlette does for allow_origins=["*"]
// with credentials: the origin is echoed.
func preflight(w http.ResponseWriter, r *http.Request, origin string) int {
	h := w.Header()
	h["Vary"] = hdrOrigin
	h["Access-Control-Allow-Methods"] = hdrCORSMethods
	h["Access-Control-Max-Age"] = hdrMaxAge
	h["Access-Control-Allow-Credentials"] = hdrTrue
	h["Access-Control-Allow-Origin"] = []string{origin}
	if v, ok := r.Header["Access-Control-Request-Headers"]; ok {
		h["Access-Control-Allow-Headers"] = []string{firstOr(v)}
	}
	want := firstOr(r.Header["Access-Control-Request-Method"])
	for _, m := range corsMethods {
		if m == want {
			return writeBody(w, http.StatusOK, hdrText, bodyPreflightOK)
		}
	}
	return writeBody(w, http.StatusBadRequest, hdrText, bodyPreflightBad)
}

// simpleCORS adds the headers Starlette puts on a non-preflight request with an Origin.
func simpleCORS(h http.Header, r *http.Request, origin string) {
	h["Access-Control-Allow-Origin"] = hdrStar
	h["Access-Control-Allow-Credentials"] = hdrTrue
	if _, ok := r.Header["Cookie"]; ok {
		h["Access-Control-Allow-Origin"] = []string{origin}
		h["Vary"] = hdrOrigin
	}
}

// notFound answers an unknown path: Starlette first redirects (307) to the
// path with its trailing slash toggled if that path exists.
func notFound(w http.ResponseWriter, r *http.Request) int {
	if p := r.URL.Path; p != "/" && p != "" {
		alt := p + "/"
		escaped := r.URL.EscapedPath() + "/"
		if strings.HasSuffix(p, "/") {
			alt = strings.TrimSuffix(p, "/")
			escaped = strings.TrimSuffix(r.URL.EscapedPath(), "/")
		}
		if matchRoute(alt) != routeUnmatched {
			scheme := "http://"
			if r.TLS != nil {
				scheme = "https://"
			}
			loc := scheme + r.Host + escaped
			if r.URL.RawQuery != "" {
				loc += "?" + r.URL.RawQuery
			}
			w.Header()["Location"] = []string{loc}
			w.WriteHeader(http.StatusTemporaryRedirect)
			return http.StatusTemporaryRedirect
		}
	}
	return writeJSON(w, http.StatusNotFound, bodyNotFound)
}

// withBody reads the request body (at most MaxBodyBytes) into a pooled buffer
// and runs h with it.
func (s *Server) withBody(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, []byte) int) int {
	if r.ContentLength > MaxBodyBytes {
		return writeJSON(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
	}
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	b := *bp
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			*bp = b
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return writeJSON(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
			}
			return writeJSON(w, http.StatusBadRequest, bodyParseError)
		}
	}
	*bp = b
	return h(w, r, b)
}
