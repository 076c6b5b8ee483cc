// Package monitor watches the server under test during a run, out of band of
// the load: it polls GET /health and GET /ready and keeps a timeline of their
// transitions, and scrapes GET /metrics to compute the server's own view of
// the run (request counts, status mix and latency quantiles per route) as the
// difference between the first scrape (at Start) and the last (at Stop).
//
// The monitor uses its own http.Client, never the load client, so its polls
// are not counted in the load statistics. The server does count them, though:
// Report.Endpoints has the monitor's own polls of /health, /ready and /metrics
// subtracted from the server's request counts (see Endpoint.Polls), so that
// server and client counts can be compared (Compare).
//
// Nothing here fails a run: a target without /metrics, /health or /ready, or
// one that answers garbage or times out, yields notes in Report.Notes.
package monitor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultHealthEvery  = time.Second
	DefaultMetricsEvery = 5 * time.Second
	DefaultTimeout      = 2 * time.Second
)

// Body read limits; larger bodies are cut (health) or refused (metrics).
const (
	maxHealthBody  = 64 << 10
	maxMetricsBody = 32 << 20
	maxMessage     = 200
)

// Options configures a Monitor.
type Options struct {
	// Base is the host base URL, e.g. http://localhost:8000; a path prefix is kept.
	Base string
	// HealthEvery is the period of the /health and /ready polls: 0 means
	// DefaultHealthEvery (1 s), a negative value disables health polling.
	HealthEvery time.Duration
	// MetricsEvery is the period of the /metrics scrapes: 0 means
	// DefaultMetricsEvery (5 s), a negative value disables scraping altogether
	// (no first and no final scrape either).
	MetricsEvery time.Duration
	// Timeout bounds one poll or scrape, headers and body; 0 means DefaultTimeout (2 s).
	Timeout time.Duration
	// Insecure accepts any TLS certificate.
	Insecure bool
	// Header is sent with every poll, e.g. Authorization; optional.
	Header http.Header
}

func (o Options) normalize() Options {
	if o.HealthEvery == 0 {
		o.HealthEvery = DefaultHealthEvery
	}
	if o.MetricsEvery == 0 {
		o.MetricsEvery = DefaultMetricsEvery
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Report is what a Monitor observed.
type Report struct {
	// Scrapes is the number of successful /metrics scrapes, the first and the final one included.
	Scrapes int `json:"scrapes"`
	// HealthPolls is the number of /health and /ready polls made, answered or not.
	HealthPolls int `json:"health_polls"`
	// Transitions is the health timeline: the first observation of each probe
	// and every change of its status (or of its failing checks), in time order.
	Transitions []Transition `json:"transitions"`
	// Periods are the unhealthy, not-ready and unreachable intervals up to Stop.
	Periods []Period `json:"periods"`
	// Endpoints are the server-side figures of the run per (method, route),
	// sorted by route then method; empty when no scrape succeeded.
	Endpoints []Endpoint `json:"endpoints"`
	// Notes are one-line remarks on what could not be observed, or went odd;
	// a repeated note is listed once with its count.
	Notes []string `json:"notes"`
}

// Monitor polls a server until Stop.
type Monitor struct {
	o             Options
	ctx           context.Context    // the caller's: its end stops the polling loops
	reqCtx        context.Context    // ctx without its cancellation: in-flight polls finish
	cutShort      context.CancelFunc // cancels reqCtx: StopWithin's limit passed
	cut           atomic.Bool        // the limit passed: polls in flight were cancelled
	healthClient  *http.Client
	metricsClient *http.Client
	urls          map[string]*url.URL // "health", "ready", "metrics"
	stopCh        chan struct{}
	wg            sync.WaitGroup
	stopOnce      sync.Once
	report        Report

	mu          sync.Mutex
	notes       noteBook
	health      map[string]*probeState
	transitions []Transition
	healthPolls int
	polls       map[pollKey]float64 // answered polls by route and status
	metrics     metricsState
}

// Start checks the options, takes the first /metrics scrape (the baseline of
// the run's server-side figures) and starts polling in the background until
// Stop or the end of ctx. Only unusable options are errors.
func Start(ctx context.Context, o Options) (*Monitor, error) {
	o = o.normalize()
	base, err := parseBase(o.Base)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	newTransport := func(conns int) *http.Transport {
		tr := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          conns,
			MaxIdleConnsPerHost:   conns,
			MaxConnsPerHost:       conns,
			IdleConnTimeout:       30 * time.Second,
			TLSHandshakeTimeout:   o.Timeout,
			ResponseHeaderTimeout: o.Timeout,
		}
		if o.Insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with Options.Insecure
		}
		return tr
	}
	// Health polls get a couple of connections (one per probe). Scrapes get one
	// connection of their own, so that consecutive scrapes are served in order
	// on it and each scrape sees the server's count of the previous one.
	healthTr, metricsTr := newTransport(2), newTransport(1)
	reqCtx, cutShort := context.WithCancel(context.WithoutCancel(ctx))
	m := &Monitor{
		o:             o,
		reqCtx:        reqCtx,
		cutShort:      cutShort,
		ctx:           ctx,
		healthClient:  &http.Client{Transport: healthTr},
		metricsClient: &http.Client{Transport: metricsTr},
		urls: map[string]*url.URL{
			probeHealth: withPath(base, "/health"),
			probeReady:  withPath(base, "/ready"),
			"metrics":   withPath(base, "/metrics"),
		},
		stopCh: make(chan struct{}),
		health: map[string]*probeState{},
		polls:  map[pollKey]float64{},
	}
	m.metrics.init()
	if o.MetricsEvery > 0 {
		// The baseline, before any poll the server could count.
		if m.scrape(true) {
			m.wg.Add(1)
			go m.loop(o.MetricsEvery, false, func() bool { return m.scrape(false) })
		}
	}
	if o.HealthEvery > 0 {
		for _, p := range []string{probeHealth, probeReady} {
			m.wg.Add(1)
			go m.loop(o.HealthEvery, true, func() bool { return m.poll(p) })
		}
	}
	return m, nil
}

// parseBase checks the base URL: http or https and a host.
func parseBase(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("monitor: Options.Base is empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("monitor: Options.Base %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("monitor: Options.Base %q: want http(s)://host[:port]", s)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// withPath returns base with p appended to its path.
func withPath(base *url.URL, p string) *url.URL {
	u := *base
	u.Path = base.Path + p
	return &u
}

// loop calls f every period (first right away if immediate) until Stop, the
// end of the caller's context, or f returning false.
func (m *Monitor) loop(every time.Duration, immediate bool, f func() bool) {
	defer m.wg.Done()
	if immediate && !f() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stopCh:
			return
		case <-m.ctx.Done():
			return
		case <-t.C:
			select {
			case <-m.stopCh:
				return
			default:
			}
			if !f() {
				return
			}
		}
	}
}

// Stop stops polling, waits for polls in flight, takes a final /metrics scrape
// and returns the report. It is safe to call more than once; later calls
// return the same report.
func (m *Monitor) Stop() Report { return m.StopWithin(0) }

// StopWithin is Stop bounded in time, for an interrupted run that must report
// now whatever the server does: the polls in flight and the final scrape get
// at most limit (0: no bound, each its own timeout), then they are cancelled
// and a note says the server's figures end at the last scrape that answered.
func (m *Monitor) StopWithin(limit time.Duration) Report {
	m.stopOnce.Do(func() {
		if limit > 0 {
			t := time.AfterFunc(limit, func() { m.cut.Store(true); m.cutShort() })
			defer t.Stop()
		}
		defer m.cutShort()
		close(m.stopCh)
		m.wg.Wait()
		if m.o.MetricsEvery > 0 {
			m.mu.Lock()
			disabled := m.metrics.disabled
			m.mu.Unlock()
			if !disabled {
				m.scrape(false)
			}
		}
		if m.cut.Load() {
			m.mu.Lock()
			m.notes.add(fmt.Sprintf("stopped within %v (the run was interrupted): the polls still in flight were cancelled, so the server's figures end at the last scrape that answered", limit))
			m.mu.Unlock()
		}
		end := time.Now()
		m.healthClient.CloseIdleConnections()
		m.metricsClient.CloseIdleConnections()
		m.mu.Lock()
		defer m.mu.Unlock()
		m.report = Report{
			Transitions: append([]Transition(nil), m.transitions...),
			Endpoints:   m.metrics.endpoints(),
			Scrapes:     m.metrics.good,
			HealthPolls: m.healthPolls,
			Periods:     periods(m.transitions, end),
		}
		m.metrics.finalNotes(&m.notes, m.urls["metrics"].Path)
		m.report.Notes = m.notes.lines()
	})
	return m.report
}

// get sends one GET with the configured headers and reads at most limit bytes
// of the body; the error is a transport error, a timeout or a body cut short.
func (m *Monitor) get(c *http.Client, u *url.URL, accept string, limit int64) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(m.reqCtx, m.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range m.o.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(body)) > limit {
		err = fmt.Errorf("body larger than %d bytes", limit)
		body = body[:limit]
	}
	return resp.StatusCode, body, err
}

// describeErr shortens a transport error: the URL is dropped, a timeout says so.
func (m *Monitor) describeErr(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("timed out after %v", m.o.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return truncate(err.Error(), maxMessage)
}

// countPoll records an answered poll the server will have counted.
func (m *Monitor) countPoll(u *url.URL, status int) {
	m.polls[pollKey{method: http.MethodGet, route: RouteTemplate(u.Path), status: fmt.Sprint(status)}]++
}

// httpStatusText renders "404 Not Found".
func httpStatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// truncate cuts s to at most n bytes on a rune boundary, on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut]
}

// noteBook keeps notes in first-seen order with their counts.
type noteBook struct {
	order []string
	count map[string]int
}

func (n *noteBook) add(s string) { n.addN(s, 1) }

func (n *noteBook) addN(s string, c int) {
	if n.count == nil {
		n.count = map[string]int{}
	}
	if n.count[s] == 0 {
		n.order = append(n.order, s)
	}
	n.count[s] += c
}

func (n *noteBook) lines() []string {
	out := make([]string, 0, len(n.order))
	for _, s := range n.order {
		if c := n.count[s]; c > 1 {
			s = fmt.Sprintf("%s (%d times)", s, c)
		}
		out = append(out, s)
	}
	return out
}
