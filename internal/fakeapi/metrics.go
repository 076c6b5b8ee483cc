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

// durationBuckets are X-Agent's bucket bounds for api_request_duration_seconds,
// in seconds (prometheus_client adds +Inf).
var durationBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 2, 5}

// metrics owns the Server's registry. Its two families have X-Agent's names,
// labels and buckets: api_requests_total and api_request_duration_seconds,
// both labelled endpoint, method and status, so that a route is split into
// one series per status as on the real server. Series are labelled by route
// template so their number stays bounded; each series is looked up once and
// cached, so recording a request is two atomic updates.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	handler   http.Handler
	counters  [numRoutes][numMethods][len(statusSlots)]atomic.Pointer[prometheus.Counter]
	observers [numRoutes][numMethods][len(statusSlots)]atomic.Pointer[prometheus.Observer]
}

// newMetrics registers the two X-Agent API metrics in a fresh registry.
func newMetrics() (*metrics, error) {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "api_requests_total",
		Help: "Total API requests",
	}, []string{"endpoint", "method", "status"})
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "api_request_duration_seconds",
		Help:    "API request duration",
		Buckets: durationBuckets,
	}, []string{"endpoint", "method", "status"})
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
	slot := statusSlot(status)
	if slot < 0 {
		code := strconv.Itoa(status)
		m.requests.WithLabelValues(routeTemplates[rt], methodNames[meth], code).Inc()
		m.durations.WithLabelValues(routeTemplates[rt], methodNames[meth], code).Observe(d.Seconds())
		return
	}
	c := m.counters[rt][meth][slot].Load()
	if c == nil {
		v := m.requests.WithLabelValues(routeTemplates[rt], methodNames[meth], strconv.Itoa(status))
		c = &v
		m.counters[rt][meth][slot].Store(c)
	}
	(*c).Inc()
	o := m.observers[rt][meth][slot].Load()
	if o == nil {
		v := m.durations.WithLabelValues(routeTemplates[rt], methodNames[meth], strconv.Itoa(status))
		o = &v
		m.observers[rt][meth][slot].Store(o)
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
