package client

// The fast engine (Options.Engine = EngineFast) sends requests with fasthttp,
// as Locust's FastHttpUser does with geventhttpclient: one *fasthttp.HostClient
// per Client, pooled requests and responses, far fewer allocations than
// net/http. Each session sends over its own connection (fastconn.go) unless
// Options.SharedPool, where the HostClient's pool serves all sessions. Do
// records, judges and names failures alike for both engines; only doNet and
// doFast differ. What the fast engine does not do:
//
//   - HTTP/2 and proxies: HTTP/1.1 straight to the -host, HTTP(S)_PROXY ignored.
//   - Redirects to another scheme or host fail as RequestError (net/http
//     follows them); redirects on the -host are followed as net/http does
//     (at most 10 requests, 301/302/303 turn into GET without a body).
//   - With SharedPool, connections are capped at max(Options.MaxIdlePerHost,
//     512) and a request finding none free fails at once as PoolExhausted
//     instead of queuing: a session sends one request at a time, so the cap
//     must be at least the number of users (net/http opens as many as needed).
//   - A body over Options.MaxBody fails as ResponseTooLarge without the first
//     MaxBody bytes (fasthttp stops at the Content-Length) and counts 0 bytes.
//   - fasthttp has no context. On a session's own connection, ctx ending moves
//     the connection's deadline into the past: the request returns Cancelled
//     at once and the connection is closed. With SharedPool, a request still
//     running when ctx ends is abandoned (Do returns Cancelled at once) while
//     a goroutine finishes it within the request timeout and releases it;
//     that goroutine is the cost of prompt cancellation, paid only when
//     ctx.Done() is not nil.
//   - An idempotent request (GET, HEAD, OPTIONS, TRACE) whose connection the
//     server closed before answering is retried once, like net/http's retry
//     of a stale keep-alive connection (on a session's own connection: only a
//     reused one, as net/http).
//   - Response headers must fit in 8 KiB, the read buffer (net/http allows
//     1 MiB); more fail as RequestError "small read buffer".

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Engines: the values of Options.Engine and of the -client flag.
const (
	EngineNet  = "net"
	EngineFast = "fast"
)

// ParseEngine validates an engine name (a -client flag); "" is EngineNet.
func ParseEngine(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", EngineNet:
		return EngineNet, nil
	case EngineFast:
		return EngineFast, nil
	}
	return "", fmt.Errorf("client %q: must be %s (net/http: HTTP/1.1 and HTTP/2, proxies; the default) or %s (fasthttp: HTTP/1.1 only, no proxy, fewer allocations)", s, EngineNet, EngineFast)
}

const (
	// fastUserAgent is what the net engine sends over HTTP/1.1 (net/http's
	// default), so the server sees the same client whichever engine runs.
	fastUserAgent = "Go-http-client/1.1"
	// fastMinConns is the least connection cap (fasthttp's default): a small
	// MaxIdlePerHost must not turn a burst into PoolExhausted failures.
	fastMinConns = 512
	// maxRedirectRequests is net/http's limit: 10 requests in a chain.
	maxRedirectRequests = 10
)

func newHostClient(u *url.URL, opts Options) *fasthttp.HostClient {
	isTLS := u.Scheme == "https"
	return &fasthttp.HostClient{
		Addr:                     fasthttp.AddMissingPort(u.Host, isTLS),
		Name:                     fastUserAgent,
		NoDefaultUserAgentHeader: false,
		IsTLS:                    isTLS,
		TLSConfig:                &tls.Config{InsecureSkipVerify: opts.Insecure}, //nolint:gosec // the user asked for it
		MaxConns:                 max(opts.MaxIdlePerHost, fastMinConns),
		MaxIdleConnDuration:      90 * time.Second, // the net engine's IdleConnTimeout
		ReadTimeout:              opts.Timeout,
		WriteTimeout:             opts.Timeout,
		MaxResponseBodySize:      int(min(opts.MaxBody, math.MaxInt32)),
		// The most a response's headers may take, held per pooled connection
		// (a session's own connection takes one for a request only): 8 KiB is
		// net/http's default header buffer too; 32 KiB cost 28 MB per 1,000 users.
		ReadBufferSize:                8 << 10,
		MaxIdemponentCallAttempts:     2,
		RetryIfErr:                    retryStaleConn,
		DialDualStack:                 true, // as net/http: IPv6 too
		DisableHeaderNamesNormalizing: false,
		DisablePathNormalizing:        true, // send the path as net/http would, no "//" folding
		SecureErrorLogMessage:         true, // no response bytes in errors, so failure texts stay few
	}
}

// retryStaleConn retries an idempotent request once when the server closed
// the connection before answering (a keep-alive connection it timed out).
func retryStaleConn(req *fasthttp.Request, _ int, err error) (resetTimeout, retry bool) {
	h := &req.Header
	replayable := h.IsGet() || h.IsHead() || h.IsOptions() || h.IsTrace()
	closed := errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
	return false, replayable && closed
}

// fastState is a session's scratch for the fast engine.
type fastState struct {
	uri     []byte   // the request URI: base URL and path, or a redirect's target
	url     *url.URL // uri parsed, for the cookie jar (urlOf caches it)
	urlOf   string
	cookies bool // the jar holds cookies: look them up for each request
	// own is the session's connection (without SharedPool); ctx and deadline
	// bound the request in flight on it, for ownTransport.
	own      ownConn
	ctx      context.Context
	deadline time.Time
}

// doFast is the fasthttp engine's part of Do.
func (s *Session) doFast(ctx context.Context, r Request) (out result) {
	if err := ctx.Err(); err != nil { // fail fast: fasthttp would send it anyway
		s.fail(&out, err)
		return out
	}
	c := s.c
	deadline := time.Now().Add(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validMethod(method) {
		out.Err = fmt.Errorf("invalid method %q", method)
		out.Failure = FailInvalidRequest + ": " + out.Err.Error()
		return out
	}
	if err := s.setFastURI(r.Path); err != nil {
		out.Err = err
		out.Failure = FailInvalidRequest + ": " + err.Error()
		return out
	}
	own := c.ownConns()
	if own {
		s.fast.ctx, s.fast.deadline = ctx, deadline
		defer func() { s.fast.ctx = nil }() // do not keep the caller's context
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	body := r.JSON
	var gz bool
	for n := 1; ; n++ {
		gz = s.fillFast(req, method, body, r.Header)
		resp.Reset()
		var err error
		if own {
			req.SetUserValue(sessionKey{}, s)
			if err = c.fast.DoDeadline(req, resp, deadline); err != nil && ctx.Err() != nil {
				err = ctx.Err() // cancelled, dialling or in flight: not the server's failure
			}
		} else {
			err = c.roundTrip(ctx, req, resp, deadline)
		}
		if err == errAbandoned { // the goroutine finishing the call owns req and resp now
			s.fail(&out, ctx.Err())
			return out
		}
		if err != nil {
			if errors.Is(err, fasthttp.ErrBodyTooLarge) { // the headers were read
				out.Status = resp.StatusCode()
			}
			fasthttp.ReleaseRequest(req)
			fasthttp.ReleaseResponse(resp)
			s.fail(&out, err)
			return out
		}
		s.keepCookies(resp)
		var follow bool
		if method, body, follow, err = s.redirect(resp, method, body, n); err != nil {
			fasthttp.ReleaseRequest(req)
			fasthttp.ReleaseResponse(resp)
			out.Err = err
			out.Failure = FailRequest + ": " + err.Error()
			return out
		}
		if !follow {
			break
		}
	}
	fasthttp.ReleaseRequest(req)
	out.Status = resp.StatusCode()
	raw := resp.Body()
	var err error
	switch {
	case gz && len(raw) > 0 && bytes.EqualFold(resp.Header.ContentEncoding(), []byte("gzip")):
		err = s.gunzip(&out, raw, keepBody(r))
	case keepBody(r):
		s.buf = append(s.bodyBuf(), raw...) // resp goes back to its pool
		out.Body = s.buf
	default:
		out.discarded = int64(len(raw))
	}
	fasthttp.ReleaseResponse(resp)
	if err != nil {
		s.fail(&out, err)
	}
	return out
}

// setFastURI sets s.fast.uri to the base URL and path as net/http would send
// them: a plain path as it is, any other through net/url.
func (s *Session) setFastURI(path string) error {
	base := s.c.baseStr
	if plainPath(path) {
		s.fast.uri = append(append(s.fast.uri[:0], base...), path...)
		return nil
	}
	u, err := url.Parse(base + path)
	if err != nil {
		return err
	}
	s.fast.uri = append(append(append(s.fast.uri[:0], u.Scheme...), "://"...), u.Host...)
	s.fast.uri = append(s.fast.uri, u.RequestURI()...)
	return nil
}

// plainPath reports whether net/url would keep path as it is: a "/" or "?"
// first, valid escapes, no fragment, no space, control or non-ASCII byte, and
// in the path part only the characters it never escapes.
func plainPath(p string) bool {
	if p != "" && p[0] != '/' && p[0] != '?' {
		return false
	}
	query := false
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case b <= ' ' || b >= 0x7f || b == '#':
			return false
		case b == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return false
			}
		case b == '?':
			query = true
		case query:
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@[]/", b) >= 0:
		default:
			return false
		}
	}
	return true
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// validMethod is net/http's rule: a non-empty token.
func validMethod(m string) bool {
	for i := 0; i < len(m); i++ {
		b := m[i]
		ok := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if !ok {
			return false
		}
	}
	return m != ""
}

// fillFast sets req for one request of the chain: URI, method, session then
// request headers, cookies, JSON body. It reports whether it asked for gzip.
func (s *Session) fillFast(req *fasthttp.Request, method string, body []byte, header http.Header) (gz bool) {
	req.Reset()
	req.SetRequestURIBytes(s.fast.uri)
	req.URI().DisablePathNormalizing = true // HostClient.Do does not pass its setting on
	req.Header.SetMethod(method)
	for k, vs := range s.header {
		if _, over := header[k]; !over { // a request header replaces the session's
			addFastHeader(&req.Header, k, vs)
		}
	}
	for k, vs := range header {
		addFastHeader(&req.Header, k, vs)
	}
	if s.fast.cookies {
		if u := s.fastURL(); u != nil {
			for _, ck := range s.jar.Cookies(u) {
				req.Header.SetCookie(ck.Name, ck.Value)
			}
		}
	}
	if body != nil {
		req.SetBody(body) // a copy: an abandoned call may outlive the caller's slice
		req.Header.SetContentType("application/json")
	}
	// As net/http's transport: gzip unless the request chose an encoding or a range.
	if s.c.opts.Compression && method != http.MethodHead &&
		len(req.Header.Peek("Accept-Encoding")) == 0 && len(req.Header.Peek("Range")) == 0 {
		req.Header.Set("Accept-Encoding", "gzip")
		gz = true
	}
	return gz
}

// addFastHeader adds a header as net/http writes it; net/http derives Host,
// Content-Length, Transfer-Encoding and Trailer itself and ignores them.
func addFastHeader(h *fasthttp.RequestHeader, k string, vs []string) {
	for _, skip := range [...]string{"Host", "Content-Length", "Transfer-Encoding", "Trailer"} {
		if strings.EqualFold(k, skip) {
			return
		}
	}
	for _, v := range vs {
		h.Add(k, v)
	}
}

// fastURL is s.fast.uri parsed (nil if it does not parse), cached.
func (s *Session) fastURL() *url.URL {
	if s.fast.url == nil || s.fast.urlOf != string(s.fast.uri) {
		s.fast.urlOf = string(s.fast.uri)
		s.fast.url, _ = url.Parse(s.fast.urlOf)
	}
	return s.fast.url
}

// keepCookies stores the response's Set-Cookie headers in the session's jar.
func (s *Session) keepCookies(resp *fasthttp.Response) {
	var got []*http.Cookie
	for _, v := range resp.Header.Cookies() {
		if ck, err := http.ParseSetCookie(string(v)); err == nil {
			got = append(got, ck)
		}
	}
	if len(got) == 0 {
		return
	}
	if u := s.fastURL(); u != nil {
		s.jar.SetCookies(u, got)
		s.fast.cookies = true
	}
}

// redirect decides, as net/http's Client does, whether the n-th response of a
// chain is followed; if so it points s.fast.uri at the target and returns the
// next request's method and body.
func (s *Session) redirect(resp *fasthttp.Response, method string, body []byte, n int) (string, []byte, bool, error) {
	switch resp.StatusCode() {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if method != http.MethodGet && method != http.MethodHead {
			method = http.MethodGet
		}
		body = nil
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return method, body, false, nil
	}
	loc := string(resp.Header.Peek("Location"))
	if loc == "" {
		return method, body, false, nil // net/http hands such a 3xx back as it is
	}
	if n >= maxRedirectRequests {
		return method, body, false, fmt.Errorf("stopped after %d redirects", maxRedirectRequests)
	}
	cur := s.fastURL()
	if cur == nil {
		return method, body, false, errors.New("failed to parse the request URL for a redirect")
	}
	next, err := cur.Parse(loc)
	if err != nil {
		return method, body, false, fmt.Errorf("failed to parse Location header %q: %w", loc, err)
	}
	isTLS := next.Scheme == "https"
	if next.Scheme != s.c.base.Scheme || !strings.EqualFold(fasthttp.AddMissingPort(next.Host, isTLS), s.c.fast.Addr) {
		return method, body, false, fmt.Errorf("redirect to %s://%s not followed: -client fast talks to the -host only", next.Scheme, next.Host)
	}
	s.fast.uri = append(append(append(s.fast.uri[:0], next.Scheme...), "://"...), next.Host...)
	s.fast.uri = append(s.fast.uri, next.RequestURI()...)
	return method, body, true, nil
}

// gunzip inflates a gzip body the fast engine asked for, bounded by MaxBody
// like the net engine's reads.
func (s *Session) gunzip(out *result, raw []byte, keep bool) error {
	g := gunzipPool.Get().(*gunzipper)
	defer func() {
		g.br.Reset(nil)
		gunzipPool.Put(g)
	}()
	g.br.Reset(raw)
	if err := g.zr.Reset(&g.br); err != nil {
		return err
	}
	var err error
	if keep {
		s.buf, err = readBounded(s.bodyBuf(), &g.zr, s.c.opts.MaxBody)
		out.Body = s.buf
	} else {
		out.discarded, err = discard(&g.zr, s.c.opts.MaxBody)
	}
	return err
}

type gunzipper struct {
	br bytes.Reader
	zr gzip.Reader
}

var gunzipPool = sync.Pool{New: func() any { return new(gunzipper) }}

// errAbandoned: ctx ended first; the request goes on in a goroutine that
// releases it.
var errAbandoned = errors.New("request abandoned")

// roundTrip sends req within deadline over the shared pool. With a ctx that
// may end, the call runs in a goroutine so that Do can return when ctx ends
// (errAbandoned).
func (c *Client) roundTrip(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	done := ctx.Done()
	if done == nil {
		return c.fast.DoDeadline(req, resp, deadline)
	}
	call := fastCallPool.Get().(*fastCall)
	call.hc, call.req, call.resp, call.deadline = c.fast, req, resp, deadline
	call.state.Store(callRunning)
	go call.run()
	select {
	case <-call.done:
	case <-done:
		if call.state.CompareAndSwap(callRunning, callAbandoned) {
			return errAbandoned
		}
		<-call.done // it finished meanwhile
	}
	err := call.err
	call.put()
	return err
}

const (
	callRunning int32 = iota
	callFinished
	callAbandoned
)

// fastCall is one fasthttp call run in a goroutine; pooled.
type fastCall struct {
	hc       *fasthttp.HostClient
	req      *fasthttp.Request
	resp     *fasthttp.Response
	deadline time.Time
	err      error
	state    atomic.Int32
	done     chan struct{} // capacity 1
}

var fastCallPool = sync.Pool{New: func() any { return &fastCall{done: make(chan struct{}, 1)} }}

func (c *fastCall) run() {
	c.err = c.hc.DoDeadline(c.req, c.resp, c.deadline)
	if c.state.CompareAndSwap(callRunning, callFinished) {
		c.done <- struct{}{}
		return
	}
	fasthttp.ReleaseRequest(c.req) // abandoned: nobody else holds them
	fasthttp.ReleaseResponse(c.resp)
	c.put()
}

func (c *fastCall) put() {
	c.hc, c.req, c.resp, c.err = nil, nil, nil, nil
	fastCallPool.Put(c)
}

// fastErrorName names the errors fasthttp makes itself; ok is false for the
// others (net, TLS and DNS errors, which ErrorName names for both engines).
func fastErrorName(err error) (name string, ok bool) {
	var broken fasthttp.ErrBrokenChunk
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return ErrorName(errBodyTooLarge), true
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return FailPoolExhausted + ": no free connection to the host (the fast client's cap; raise MaxIdlePerHost to the number of users)", true
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout), errors.Is(err, fasthttp.ErrTLSHandshakeTimeout):
		return ErrorName(context.DeadlineExceeded), true
	case errors.Is(err, fasthttp.ErrConnectionClosed),
		errors.As(err, &broken) && strings.Contains(broken.Error(), "EOF"): // a chunked body cut short
		return ErrorName(io.EOF), true
	}
	return "", false
}
