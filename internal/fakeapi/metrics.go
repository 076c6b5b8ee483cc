package fakeapi

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// metricsContentType is what X-Agent's /metrics sends (prometheus_client's text format).
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// statusSlots are the statuses with a cached counter; others take the slow path.
var statusSlots = [...]int{200, 307, 400, 401, 403, 404, 405, 413, 422, 429, 500, 503}

// statusSlot returns the cache slot of a status, or -1.
func statusSlot(status int) int {
	for i, s := range statusSlots {
		if s == status {
			return i
		}
	}
	return -1
}

// metrics owns the Server's registry. Series are labelled by route template so
// their number stays bounded; each series is looked up once and cached, so
// recording a request is two atomic updates.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	handler   http.Handler
	counters  [numRoutes][numMethods][len(statusSlots)]atomic.Pointer[prometheus.Counter]
	observers [numRoutes][numMethods]atomic.Pointer[prometheus.Observer]
}

// newMetrics registers the two X-Agent API metrics in a fresh registry.
func newMetrics() (*metrics, error) {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "api_requests_total",
		Help: "Total number of API requests",
	}, []string{"endpoint", "method", "status"})
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "api_request_duration_seconds",
		Help:    "API request duration in seconds",
		Buckets: prometheus.DefBuckets,
	}, []string{"endpoint", "method"})
	for _, c := range []prometheus.Collector{m.requests, m.durations} {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:      promhttp.ContinueOnError,
		DisableCompression: true,
		AcceptedFormats:    []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain)},
	})
	return m, nil
}

// observe records one answered request.
func (m *metrics) observe(rt route, meth method, status int, d time.Duration) {
	if slot := statusSlot(status); slot >= 0 {
		p := &m.counters[rt][meth][slot]
		c := p.Load()
		if c == nil {
			v := m.requests.WithLabelValues(routeTemplates[rt], methodNames[meth], strconv.Itoa(status))
			c = &v
			p.Store(c)
		}
		(*c).Inc()
	} else {
		m.requests.WithLabelValues(routeTemplates[rt], methodNames[meth], strconv.Itoa(status)).Inc()
	}
	p := &m.observers[rt][meth]
	o := p.Load()
	if o == nil {
		v := m.durations.WithLabelValues(routeTemplates[rt], methodNames[meth])
		o = &v
		p.Store(o)
	}
	(*o).Observe(d.Seconds())
}

// serve answers GET /metrics in the text format, whatever the client accepts,
// with exactly X-Agent's content type.
func (m *metrics) serve(w http.ResponseWriter, r *http.Request) int {
	if _, ok := r.Header["Accept"]; ok {
		r = r.Clone(r.Context())
		r.Header.Del("Accept")
	}
	cw := &contentTypeWriter{ResponseWriter: w, status: http.StatusOK}
	m.handler.ServeHTTP(cw, r)
	return cw.status
}

// contentTypeWriter replaces the content type promhttp negotiates (it appends
// "; escaping=underscores") with the plain 0.0.4 one.
type contentTypeWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

// WriteHeader fixes the content type, then sends the header.
func (c *contentTypeWriter) WriteHeader(status int) {
	if c.wroteHeader {
		return
	}
	c.wroteHeader = true
	c.status = status
	if status == http.StatusOK {
		c.Header().Set("Content-Type", metricsContentType)
	}
	c.ResponseWriter.WriteHeader(status)
}

// Write sends the header first if needed.
func (c *contentTypeWriter) Write(p []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (c *contentTypeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
