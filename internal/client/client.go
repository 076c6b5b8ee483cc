// Package client is the HTTP client of a load test: one Session per user
// (cookies, default headers such as a bearer token, and its own connection),
// named requests judged the way Locust's catch_response judges them, bounded
// body reading, readable failure names, and one stats.Result per request.
//
// Connections: by default each Session owns its connection, as each of
// Locust's users owns its session and each of k6's VUs its connections. A
// session sends one request at a time, so the server sees at most one
// connection per user (per host it is redirected to), and as many as there
// are users once each has sent a request; Session.Close closes it. With
// Options.SharedPool all sessions share one pool instead, each request taking
// whichever idle connection is free.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/xagent/perfharness/internal/stats"
)

// Options configures the client.
type Options struct {
	// Timeout bounds one request, headers and body (default 30 s).
	Timeout time.Duration
	// SharedPool shares one connection pool among all sessions, as the
	// harness did before each user got its own connection: a request takes
	// any idle connection, or opens one, and MaxIdlePerHost idle ones are
	// kept. N users then make fewer than N connections when they do not all
	// send at once, and with net/http sometimes more (a request that dialled
	// and meanwhile got a freed connection adds the new one to the pool).
	// Off (the default): each Session owns its connection.
	SharedPool bool
	// MaxIdlePerHost, with SharedPool, is the number of idle keep-alive
	// connections the pool keeps per host; it should be at least the number of
	// users (default 1024). Without SharedPool a session keeps its one.
	MaxIdlePerHost int
	// Insecure accepts any TLS certificate.
	Insecure bool
	// MaxBody is the most of a response body read; the rest is discarded with the
	// connection (default 10 MiB).
	MaxBody int64
	// Compression lets the transport negotiate gzip (off: the load measures the server, not inflate).
	Compression bool
	// Engine is the HTTP client: "" or EngineNet (net/http, the default:
	// HTTP/1.1 and HTTP/2, proxies from the environment) or EngineFast
	// (fasthttp, as Locust's FastHttpUser: HTTP/1.1 only, no proxy, fewer
	// allocations; see fast.go for what differs). ParseEngine reads a flag.
	Engine string
	// Dial, when set, opens EngineNet's connections in place of a
	// net.Dialer: a test seam for in-memory connections (net.Pipe) inside a
	// testing/synctest bubble. EngineFast ignores it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Normalize fills the defaults.
func (o Options) Normalize() Options {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxIdlePerHost <= 0 {
		o.MaxIdlePerHost = 1024
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 10 << 20
	}
	return o
}

// Recorder receives one Result per request.
type Recorder interface {
	Record(stats.Result)
}

// Client is shared by all users of a run: one base URL, one set of options,
// and with Options.SharedPool the one connection pool of all sessions.
type Client struct {
	base    *url.URL
	baseStr string
	opts    Options
	rec     Recorder
	// transport is EngineNet's shared pool (SharedPool), nil otherwise.
	transport *http.Transport
	// dial is EngineNet's dialer, shared by the sessions' transports.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// fast is EngineFast's: the shared pool (SharedPool), or the HostClient
	// that sends each request over its session's own connection (ownConns).
	fast *fasthttp.HostClient
	// fastTLS is the TLS configuration of the sessions' own fast connections
	// (https without SharedPool), its ServerName set.
	fastTLS *tls.Config
	// live are the sessions that own connections, for CloseIdle.
	live sessionList
}

// New returns a Client for the base URL (scheme http or https and a host).
func New(base string, rec Recorder, opts Options) (*Client, error) {
	u, err := ParseHost(base)
	if err != nil {
		return nil, err
	}
	opts = opts.Normalize()
	if opts.Engine, err = ParseEngine(opts.Engine); err != nil {
		return nil, err
	}
	c := &Client{base: u, baseStr: u.String(), opts: opts, rec: rec}
	if opts.Engine == EngineFast {
		c.fast = newHostClient(u, opts)
		if !opts.SharedPool {
			c.fast.Transport = ownTransport{}
			if u.Scheme == "https" {
				c.fastTLS = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: opts.Insecure} //nolint:gosec // the user asked for it
			}
		}
		return c, nil
	}
	c.dial = (&net.Dialer{Timeout: min(opts.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext
	if opts.Dial != nil {
		c.dial = opts.Dial
	}
	if opts.SharedPool {
		c.transport = c.newTransport(opts.MaxIdlePerHost, 0)
	}
	return c, nil
}

// newTransport is a net/http transport keeping maxIdle idle connections per
// host and opening at most maxConns (0: no limit).
func (c *Client) newTransport(maxIdle, maxConns int) *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         c.dial,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        0, // no global cap; per-host cap below
		MaxIdleConnsPerHost: maxIdle,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: min(c.opts.Timeout, 10*time.Second),
		DisableCompression:  !c.opts.Compression,
		// Its own for each transport: HTTP/2's set-up writes its NextProtos.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: c.opts.Insecure}, //nolint:gosec // the user asked for it
	}
}

// ownConns reports whether each session owns its connection (no SharedPool).
func (c *Client) ownConns() bool { return !c.opts.SharedPool }

// ParseHost validates a -host value: scheme http or https and a host name.
func ParseHost(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("host %q: scheme must be http or https, e.g. http://localhost:8000", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("host %q: no host name, e.g. http://localhost:8000", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("host %q: must not have a query or fragment", raw)
	}
	return u, nil
}

// Base is the base URL requests are made against.
func (c *Client) Base() string { return c.baseStr }

// Engine is the HTTP engine in use: EngineNet or EngineFast.
func (c *Client) Engine() string { return c.opts.Engine }

// CloseIdle closes the idle connections: the shared pool's, or those of the
// sessions not closed yet (a request in flight keeps its connection).
func (c *Client) CloseIdle() {
	switch {
	case c.transport != nil:
		c.transport.CloseIdleConnections()
	case c.fast != nil && !c.ownConns():
		c.fast.CloseIdleConnections()
	}
	c.live.each(func(s *Session) { s.closeIdle() })
}

// NewSession returns one user's session: its own cookie jar and headers, and
// its own connection unless Options.SharedPool. Close it when the user ends:
// until then the Client keeps it, for CloseIdle.
func (c *Client) NewSession() *Session {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	s := &Session{c: c, jar: jar, header: make(http.Header)}
	if c.opts.Engine == EngineNet {
		tr := c.transport
		if tr == nil {
			// A session sends one request at a time: one connection per host,
			// kept idle between its requests.
			tr = c.newTransport(1, 1)
			s.own = tr
		}
		s.http = &http.Client{Transport: tr, Jar: jar, Timeout: c.opts.Timeout}
	}
	if c.ownConns() {
		c.live.add(s)
	}
	return s
}

// Request is one named request of a task.
type Request struct {
	Method string
	Path   string // relative to the base URL, with its query
	// Name is what statistics group by (default Path).
	Name string
	// JSON is sent as the body with Content-Type application/json when non-nil.
	JSON []byte
	// Header holds extra headers for this request only.
	Header http.Header
	// Accept lists the status codes that count as success; empty means any 2xx.
	Accept []int
	// Check, when set, judges the body of an accepted response; an error marks the request failed.
	Check func(status int, body []byte) error
	// Keep keeps the body in the Response (bounded by Options.MaxBody).
	Keep bool
}

// Response is what a task learns of one request.
type Response struct {
	Status  int
	Body    []byte // only with Request.Keep or Request.Check; valid until the session's next request or Close
	Latency time.Duration
	// Failure is the failure text recorded for this request, empty on success.
	Failure string
	// Err is the transport error, if any.
	Err error
}

// OK reports whether the request counted as a success.
func (r Response) OK() bool { return r.Failure == "" }

// Session is one user's HTTP session. It is not safe for concurrent use.
type Session struct {
	c      *Client
	http   *http.Client    // EngineNet
	own    *http.Transport // EngineNet without SharedPool: this session's connection
	jar    *cookiejar.Jar
	header http.Header
	buf    []byte
	fast   fastState // EngineFast
	closed bool
	// prev and next link the Client's live sessions (sessionList).
	prev, next *Session
}

// SetHeader sets a header sent with every request of this session.
func (s *Session) SetHeader(key, value string) { s.header.Set(key, value) }

// Header returns a header sent with every request of this session.
func (s *Session) Header(key string) string { return s.header.Get(key) }

// DelHeader removes a session header.
func (s *Session) DelHeader(key string) { s.header.Del(key) }

// Close releases the session's resources and closes its connection. A
// request made after Close still works, over a connection closed when it ends.
func (s *Session) Close() {
	if s.buf != nil {
		b := s.buf[:0] // a new slice header: the pool must not hold a pointer into the session
		bufPool.Put(&b)
		s.buf = nil
	}
	if s.closed {
		return
	}
	s.closed = true
	if s.c.ownConns() {
		s.c.live.remove(s)
		s.fast.own.close()
		s.closeIdle()
	}
}

// closeIdle closes the session's own connection unless a request is using it.
func (s *Session) closeIdle() {
	if s.own != nil {
		s.own.CloseIdleConnections()
	}
	s.fast.own.closeIdle()
}

// sessionList is a Client's live sessions with their own connections: an
// intrusive list, two pointers per session.
type sessionList struct {
	mu   sync.Mutex
	head *Session
}

func (l *sessionList) add(s *Session) {
	l.mu.Lock()
	s.next = l.head
	if l.head != nil {
		l.head.prev = s
	}
	l.head = s
	l.mu.Unlock()
}

func (l *sessionList) remove(s *Session) {
	l.mu.Lock()
	if s.prev != nil {
		s.prev.next = s.next
	} else if l.head == s {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
	l.mu.Unlock()
}

// each calls f for each live session, the list locked (f must not add or remove).
func (l *sessionList) each(f func(*Session)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := l.head; s != nil; s = s.next {
		f(s)
	}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// Do sends the request, reads the body, judges it and records one Result.
// intended is when the schedule wanted it sent (zero: now).
func (s *Session) Do(ctx context.Context, req Request, intended time.Time) Response {
	name := req.Name
	if name == "" {
		name = req.Path
	}
	start := time.Now()
	var resp result
	if s.c.fast != nil {
		resp = s.doFast(ctx, req)
	} else {
		resp = s.doNet(ctx, req)
	}
	if s.closed && s.c.ownConns() { // a request after Close: no connection outlives it
		s.closeIdle()
	}
	if resp.Failure == "" {
		resp.judge(req)
	}
	resp.Latency = time.Since(start)
	s.c.rec.Record(stats.Result{
		Method:   req.Method,
		Name:     name,
		Start:    start,
		Intended: intended,
		Latency:  resp.Latency,
		Bytes:    int64(len(resp.Body)) + resp.discarded,
		Status:   resp.Status,
		Error:    resp.Failure,
	})
	if !req.Keep && req.Check == nil {
		resp.Body = nil
	}
	return resp.Response
}

// result is what an engine's do reports: the transport's part of a Response
// (Status, Body when kept, Failure and Err of a transport error) and the body
// bytes read but not kept.
type result struct {
	Response
	discarded int64
}

// judge applies the request's Accept and Check rules to a response the
// transport delivered whole.
func (out *result) judge(req Request) {
	if !accepted(out.Status, req.Accept) {
		out.Failure = StatusFailure(out.Status)
		return
	}
	if req.Check != nil {
		if err := req.Check(out.Status, out.Body); err != nil {
			out.Failure = err.Error()
		}
	}
}

// keepBody reports whether the request needs its body (Keep or Check).
func keepBody(req Request) bool { return req.Keep || req.Check != nil }

// bodyBuf is the session's body buffer, emptied, from the pool on first use.
func (s *Session) bodyBuf() []byte {
	if s.buf == nil {
		s.buf = (*bufPool.Get().(*[]byte))[:0]
	}
	return s.buf[:0]
}

func (s *Session) fail(out *result, err error) {
	out.Err = err
	out.Failure = ErrorName(err)
}

// doNet is the net/http engine's part of Do.
func (s *Session) doNet(ctx context.Context, req Request) (out result) {
	var body io.Reader
	if req.JSON != nil {
		body = bytes.NewReader(req.JSON)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, s.c.baseStr+req.Path, body)
	if err != nil {
		out.Err = err
		out.Failure = FailInvalidRequest + ": " + err.Error()
		return out
	}
	for k, v := range s.header {
		hreq.Header[k] = v
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	if req.JSON != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hresp, err := s.http.Do(hreq)
	if err != nil {
		s.fail(&out, err)
		return out
	}
	defer hresp.Body.Close()
	out.Status = hresp.StatusCode
	if keepBody(req) {
		s.buf, err = readBounded(s.bodyBuf(), hresp.Body, s.c.opts.MaxBody)
		out.Body = s.buf
	} else {
		out.discarded, err = discard(hresp.Body, s.c.opts.MaxBody)
	}
	if err != nil {
		s.fail(&out, err)
	}
	return out
}

// errBodyTooLarge is returned when a body exceeds Options.MaxBody.
var errBodyTooLarge = errors.New("response body exceeds the read limit")

func readBounded(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			if int64(len(dst)) >= limit {
				return dst, errBodyTooLarge
			}
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst[:limit], errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// discardPool's buffers are small: as many are in use as requests in flight
// (32 KiB ones cost 4 MB per 1,000 users), and a long body only loops more.
var discardPool = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}

func discard(r io.Reader, limit int64) (int64, error) {
	bp := discardPool.Get().(*[]byte)
	defer discardPool.Put(bp)
	n, err := io.CopyBuffer(io.Discard, io.LimitReader(onlyReader{r}, limit+1), *bp)
	if err != nil {
		return n, err
	}
	if n > limit {
		return limit, errBodyTooLarge
	}
	return n, nil
}

// onlyReader hides WriterTo so CopyBuffer uses the pooled buffer.
type onlyReader struct{ io.Reader }

func accepted(status int, accept []int) bool {
	if len(accept) == 0 {
		return status >= 200 && status < 300
	}
	for _, a := range accept {
		if a == status {
			return true
		}
	}
	return false
}

// Failure names: a failure text starts with one of these, then ": " and detail.
const (
	FailResponseTooLarge = "ResponseTooLarge"
	FailCancelled        = "Cancelled"
	FailRefused          = "ConnectionRefusedError"
	FailReset            = "ConnectionResetError"
	FailDisconnected     = "RemoteDisconnected"
	FailNameResolution   = "NameResolutionError"
	FailSSL              = "SSLError"
	FailTimeout          = "Timeout"
	FailRequest          = "RequestError"
	FailInvalidRequest   = "InvalidRequest"
	// FailPoolExhausted: the fast engine's shared pool (Options.SharedPool)
	// had no free connection (its cap is max(Options.MaxIdlePerHost, 512)).
	FailPoolExhausted = "PoolExhausted"
)

// FailureKind is the name a failure text starts with (one of the Fail*
// constants for transport errors), or "" for other failures.
func FailureKind(failure string) string {
	kind, _, ok := strings.Cut(failure, ": ")
	if !ok {
		return ""
	}
	switch kind {
	case FailResponseTooLarge, FailCancelled, FailRefused, FailReset, FailDisconnected,
		FailNameResolution, FailSSL, FailTimeout, FailRequest, FailInvalidRequest, FailPoolExhausted:
		return kind
	}
	return "" // a Check's text such as "Login failed: …"
}

// StatusFailure is the failure text of an unaccepted status, as Locust's suite words it.
func StatusFailure(status int) string { return "Got status code " + strconv.Itoa(status) }

// ErrorName turns a transport error into a short, stable failure name like
// Locust's (ConnectionRefusedError, Timeout, …) followed by the detail that
// helps, never by a URL's query or a header.
func ErrorName(err error) string {
	if name, ok := fastErrorName(err); ok {
		return name
	}
	var ue *url.Error
	detail := err
	if errors.As(err, &ue) {
		detail = ue.Err
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, errBodyTooLarge):
		return FailResponseTooLarge + ": " + errBodyTooLarge.Error()
	case errors.Is(err, context.Canceled):
		return FailCancelled + ": the run stopped while the request was in flight"
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailRefused + ": connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return FailReset + ": connection reset by peer"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return FailDisconnected + ": server closed the connection without a complete response"
	case errors.As(err, &dnsErr):
		return FailNameResolution + ": " + dnsErr.Error()
	case errors.As(err, &certErr):
		return FailSSL + ": certificate verification failed (use -insecure to accept it): " + certErr.Err.Error()
	case errors.As(err, &recErr):
		return FailSSL + ": the server did not speak TLS"
	case isTimeout(err):
		return FailTimeout + ": no complete response within the request timeout"
	}
	return FailRequest + ": " + detail.Error()
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, http.ErrHandlerTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
