package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/stats"
)

type sink struct {
	mu  sync.Mutex
	got []stats.Result
}

func (s *sink) Record(r stats.Result) { s.mu.Lock(); s.got = append(s.got, r); s.mu.Unlock() }

func (s *sink) last(t *testing.T) stats.Result {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.got)
	return s.got[len(s.got)-1]
}

func newTestClient(t *testing.T, h http.Handler, opts Options) (*Client, *sink) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rec := &sink{}
	c, err := New(srv.URL, rec, opts)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdle)
	return c, rec
}

func TestParseHost(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"http://localhost:8000", "https://x.example.com/", "http://127.0.0.1:1/api"} {
		_, err := ParseHost(ok)
		assert.NoError(t, err, ok)
	}
	for raw, want := range map[string]string{
		"localhost:8000":        "scheme must be http or https",
		"ftp://x":               "scheme must be http or https",
		"http://":               "no host name",
		"http://x/?a=1":         "query",
		"http://[::1":           "host \"http://[::1\"",
		"":                      "scheme",
		"http://:8000":          "no host name",
		"https://user@:80/path": "no host name",
	} {
		_, err := ParseHost(raw)
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
	}
}

func TestAcceptedStatusesAndFailureText(t *testing.T) {
	t.Parallel()
	c, rec := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := map[string]int{"/ok": 200, "/unauth": 401, "/down": 503}[r.URL.Path]
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"a":1}`))
	}), Options{})
	s := c.NewSession()
	defer s.Close()
	ctx := t.Context()

	r := s.Do(ctx, Request{Method: "GET", Path: "/ok"}, time.Time{})
	assert.True(t, r.OK())
	assert.Nil(t, r.Body, "body not kept unless asked")
	assert.EqualValues(t, 7, rec.last(t).Bytes)
	assert.Equal(t, "/ok", rec.last(t).Name)

	r = s.Do(ctx, Request{Method: "GET", Path: "/unauth", Name: "unauth", Accept: []int{200, 401}}, time.Time{})
	assert.True(t, r.OK())
	assert.Equal(t, "unauth", rec.last(t).Name)

	r = s.Do(ctx, Request{Method: "GET", Path: "/down", Accept: []int{200}}, time.Time{})
	assert.False(t, r.OK())
	assert.Equal(t, "Got status code 503", r.Failure)
	assert.Equal(t, "Got status code 503", rec.last(t).Error)
	assert.Equal(t, 503, rec.last(t).Status)

	r = s.Do(ctx, Request{Method: "GET", Path: "/ok", Check: func(int, []byte) error { return errors.New("no id in body") }}, time.Time{})
	assert.Equal(t, "no id in body", r.Failure)
	assert.Equal(t, `{"a":1}`, string(r.Body))
}

func TestSessionsKeepTheirOwnCookiesAndHeaders(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]string{}
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: r.URL.Query().Get("u")})
			return
		}
		ck, _ := r.Cookie("sid")
		mu.Lock()
		seen[ck.Value] = r.Header.Get("Authorization")
		mu.Unlock()
	}), Options{})
	a, b := c.NewSession(), c.NewSession()
	a.SetHeader("Authorization", "Bearer A")
	b.SetHeader("Authorization", "Bearer B")
	ctx := t.Context()
	require.True(t, a.Do(ctx, Request{Method: "GET", Path: "/login?u=a"}, time.Time{}).OK())
	require.True(t, b.Do(ctx, Request{Method: "GET", Path: "/login?u=b"}, time.Time{}).OK())
	a.Do(ctx, Request{Method: "GET", Path: "/me"}, time.Time{})
	b.Do(ctx, Request{Method: "GET", Path: "/me"}, time.Time{})
	assert.Equal(t, map[string]string{"a": "Bearer A", "b": "Bearer B"}, seen)
}

func TestJSONBodyIsSent(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		w.Header().Set("X-CT", r.Header.Get("Content-Type"))
		_, _ = w.Write(b[:n])
	}), Options{})
	s := c.NewSession()
	r := s.Do(t.Context(), Request{Method: "POST", Path: "/echo", JSON: []byte(`{"x":1}`), Keep: true}, time.Time{})
	assert.Equal(t, `{"x":1}`, string(r.Body))
}

func TestBodyReadIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	c, rec := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(big))
	}), Options{MaxBody: 64 << 10})
	s := c.NewSession()
	r := s.Do(t.Context(), Request{Method: "GET", Path: "/big"}, time.Time{})
	assert.Contains(t, r.Failure, "ResponseTooLarge")
	assert.EqualValues(t, 64<<10, rec.last(t).Bytes)
	r = s.Do(t.Context(), Request{Method: "GET", Path: "/big", Keep: true}, time.Time{})
	assert.Contains(t, r.Failure, "ResponseTooLarge")
	assert.Len(t, r.Body, 64<<10)
}

func TestErrorNames(t *testing.T) {
	t.Parallel()
	// Connection refused: a port that was just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	rec := &sink{}
	c, err := New("http://"+addr, rec, Options{Timeout: 2 * time.Second})
	require.NoError(t, err)
	r := c.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/"}, time.Time{})
	assert.True(t, strings.HasPrefix(r.Failure, "ConnectionRefusedError"), r.Failure)

	// Timeout: a handler slower than the request timeout.
	release := make(chan struct{})
	c2, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), Options{Timeout: 100 * time.Millisecond})
	r = c2.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/slow"}, time.Time{})
	close(release)
	assert.True(t, strings.HasPrefix(r.Failure, "Timeout"), r.Failure)

	// Server closes the connection before answering.
	c3, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}), Options{})
	r = c3.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/close"}, time.Time{})
	assert.True(t, strings.HasPrefix(r.Failure, "RemoteDisconnected") || strings.HasPrefix(r.Failure, "ConnectionResetError"), r.Failure)

	// Cancelled by the run.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r = c3.NewSession().Do(ctx, Request{Method: "GET", Path: "/x"}, time.Time{})
	assert.True(t, strings.HasPrefix(r.Failure, "Cancelled"), r.Failure)

	// An unresolvable name.
	c4, err := New("http://no-such-host.invalid", rec, Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	r = c4.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/"}, time.Time{})
	assert.True(t, strings.HasPrefix(r.Failure, "NameResolutionError"), r.Failure)
}

func TestIntendedStartIsRecorded(t *testing.T) {
	t.Parallel()
	c, rec := newTestClient(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), Options{})
	intended := time.Now().Add(-time.Second)
	c.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/"}, intended)
	got := rec.last(t)
	assert.Equal(t, intended, got.Intended)
	assert.GreaterOrEqual(t, got.ResponseTime(), time.Second)
}

func TestFailureKind(t *testing.T) {
	t.Parallel()
	assert.Equal(t, FailTimeout, FailureKind("Timeout: no complete response within the request timeout"))
	assert.Equal(t, FailRefused, FailureKind(ErrorName(syscall.ECONNREFUSED)))
	assert.Equal(t, "", FailureKind(StatusFailure(503)), "a status failure has no transport kind")
	assert.Equal(t, "", FailureKind("Login failed: response is not JSON (9 bytes)"), "a check's failure has no transport kind")
	assert.Equal(t, "Got status code 429", StatusFailure(429))
}
