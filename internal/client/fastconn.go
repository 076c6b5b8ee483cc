package client

// The fast engine's own connections (Options.SharedPool off). fasthttp's
// HostClient still drives each request (the stale-connection retry, the
// User-Agent, error texts without response bytes) but its Transport,
// ownTransport, sends the request over its session's one connection instead
// of a pooled one:
//
//   - The connection is dialled on the session's first request and kept
//     between requests; the server's "Connection: close", a failed request
//     or a cancelled one close it, and the next request dials again.
//   - A connection idle for 90 s is closed (the net engine's IdleConnTimeout)
//     by a timer, no goroutine; Session.Close and Client.CloseIdle close it.
//   - Before reusing a connection idle for a while, a non-blocking peek at the
//     socket sees whether the server closed it meanwhile (its keep-alive
//     timeout), so that a POST does not fail on a connection already gone, as
//     net/http's background read sees it too.
//   - Cancelling the request's context aborts it at once: the connection's
//     deadline moves into the past, the blocked read or write returns, and the
//     connection is closed. Nothing is left running.
//   - The host is resolved on each dial, as the net engine does (fasthttp's
//     own dialer caches it for a minute).
//   - Reader and writer buffers are taken from the HostClient's pools for one
//     request only: an idle session holds its socket and no buffer.

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

const (
	// fastIdleTimeout closes a session's connection left idle that long.
	fastIdleTimeout = 90 * time.Second
	// fastPeekAfter: a connection idle at least that long is peeked at before
	// it is reused (a busy one was just used: the peek would cost a syscall).
	fastPeekAfter = 50 * time.Millisecond
)

// sessionKey is the fasthttp.Request user value holding the request's
// *Session, for ownTransport.
type sessionKey struct{}

// aLongTimeAgo is a deadline that makes a blocked read or write return now.
var aLongTimeAgo = time.Unix(1, 0)

// ownConn is a session's own connection for the fast engine. The session's
// goroutine takes it for a request and puts it back; mu guards it against
// Client.CloseIdle and the idle timer.
type ownConn struct {
	mu     sync.Mutex
	conn   net.Conn // idle; nil when there is none or a request holds it
	raw    net.Conn // conn's TCP connection (conn itself without TLS)
	idleAt time.Time
	timer  *time.Timer // runs expire once conn has been idle fastIdleTimeout
	armed  bool        // timer is set
	closed bool        // the session is closed: a connection put back is closed
}

// take removes the idle connection, if any and still usable, for a request.
func (o *ownConn) take() (conn, raw net.Conn) {
	o.mu.Lock()
	conn, raw, idleAt := o.conn, o.raw, o.idleAt
	o.conn, o.raw = nil, nil
	o.mu.Unlock()
	if conn == nil {
		return nil, nil
	}
	if idle := time.Since(idleAt); idle >= fastIdleTimeout || idle >= fastPeekAfter && peerClosed(raw) {
		_ = conn.Close()
		return nil, nil
	}
	return conn, raw
}

// put keeps conn as the idle connection.
func (o *ownConn) put(conn, raw net.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		_ = conn.Close()
		return
	}
	o.conn, o.raw, o.idleAt = conn, raw, time.Now()
	if !o.armed {
		o.armed = true
		if o.timer == nil {
			o.timer = time.AfterFunc(fastIdleTimeout, o.expire)
		} else {
			o.timer.Reset(fastIdleTimeout)
		}
	}
}

// expire closes the idle connection once idle fastIdleTimeout; the timer is
// reset, not stopped, by the requests meanwhile.
func (o *ownConn) expire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn == nil { // in use (put arms the timer again) or closed
		o.armed = false
		return
	}
	if left := fastIdleTimeout - time.Since(o.idleAt); left > 0 {
		o.timer.Reset(left)
		return
	}
	o.closeIdleLocked()
	o.armed = false
}

// closeIdle closes the idle connection, if any.
func (o *ownConn) closeIdle() {
	o.mu.Lock()
	o.closeIdleLocked()
	o.mu.Unlock()
}

func (o *ownConn) closeIdleLocked() {
	if o.conn != nil {
		_ = o.conn.Close()
		o.conn, o.raw = nil, nil
	}
}

// close closes the idle connection and any later put back.
func (o *ownConn) close() {
	o.mu.Lock()
	o.closed = true
	o.closeIdleLocked()
	if o.timer != nil {
		o.timer.Stop()
		o.armed = false
	}
	o.mu.Unlock()
}

// ownTransport is the fast engine's fasthttp.RoundTripper without
// SharedPool: it sends each request over its session's own connection.
type ownTransport struct{}

var errNoSession = errors.New("client: a fast request without its session")

// RoundTrip sends req over the session's connection, dialling one if it has
// none. It asks the HostClient to retry (RetryIfErr decides) only a request
// that failed on a reused connection.
func (ownTransport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (retry bool, err error) {
	s, ok := req.UserValue(sessionKey{}).(*Session)
	if !ok {
		return false, errNoSession
	}
	f := &s.fast
	conn, raw := f.own.take()
	reused := conn != nil
	if !reused {
		if conn, raw, err = s.c.dialFast(f.ctx, f.deadline); err != nil {
			return false, err
		}
	}
	keep, err := exchange(hc, f.ctx, conn, req, resp, f.deadline)
	if keep {
		f.own.put(conn, raw)
	} else {
		_ = conn.Close()
	}
	return reused && err != nil && f.ctx.Err() == nil, err
}

// exchange writes req to conn and reads resp, within deadline and until ctx
// ends. keep reports whether conn may carry the next request.
func exchange(hc *fasthttp.HostClient, ctx context.Context, conn net.Conn, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) (keep bool, err error) {
	if err = conn.SetDeadline(deadline); err != nil {
		return false, err
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	}
	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil) // the pool must not keep the connection
	hc.ReleaseWriter(bw)
	if err == nil {
		if req.Header.IsHead() {
			resp.SkipBody = true
		}
		br := hc.AcquireReader(conn)
		err = resp.ReadLimitBody(br, hc.MaxResponseBodySize)
		keep = err == nil && br.Buffered() == 0 && !req.ConnectionClose() && !resp.ConnectionClose()
		br.Reset(nil)
		hc.ReleaseReader(br)
	}
	if stop != nil && !stop() { // ctx ended: the deadline may be in the past
		keep = false
		if err != nil {
			return false, ctx.Err()
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = fasthttp.ErrTimeout // as fasthttp's own transport says it
	}
	return keep, err
}

// dialFast opens a session's connection to the -host, TLS handshake included,
// within deadline and until ctx ends. raw is the TCP connection under conn.
func (c *Client) dialFast(ctx context.Context, deadline time.Time) (conn, raw net.Conn, err error) {
	d := net.Dialer{Deadline: deadline} // both address families, as fasthttp's DialDualStack
	if raw, err = d.DialContext(ctx, "tcp", c.fast.Addr); err != nil {
		return nil, nil, err
	}
	if c.fastTLS == nil {
		return raw, raw, nil
	}
	tc := tls.Client(raw, c.fastTLS)
	if err = raw.SetDeadline(deadline); err == nil {
		err = tc.HandshakeContext(ctx)
	}
	if err != nil {
		_ = raw.Close()
		return nil, nil, err
	}
	return tc, raw, nil
}
