package client

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"

	"github.com/xagent/perfharness/internal/stats"
)

// engines are run through the same cases: they must record, judge and name
// failures alike.
var engines = []string{EngineNet, EngineFast}

func forEngines(t *testing.T, f func(t *testing.T, engine string)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e, func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}

func newEngineClient(t *testing.T, engine string, h http.Handler, opts Options) (*Client, *sink, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.Engine = engine
	rec := &sink{}
	c, err := New(srv.URL, rec, opts)
	require.NoError(t, err)
	require.Equal(t, engine, c.Engine())
	t.Cleanup(c.CloseIdle)
	return c, rec, srv
}

func get(path string) Request { return Request{Method: "GET", Path: path} }

func TestParseEngine(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": EngineNet, "net": EngineNet, "fast": EngineFast, " FAST ": EngineFast} {
		got, err := ParseEngine(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseEngine("fasthttp")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `client "fasthttp": must be net`)
	assert.Contains(t, err.Error(), "or fast")
	_, err = New("http://localhost:1", &sink{}, Options{Engine: "h2"})
	assert.ErrorContains(t, err, `client "h2"`)
}

func TestEnginesRecordSuccess(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		c, rec, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"id":42}`))
		}), Options{})
		s := c.NewSession()
		defer s.Close()
		intended := time.Now()
		r := s.Do(t.Context(), Request{Method: "GET", Path: "/item?id=42", Name: "item"}, intended)
		require.True(t, r.OK(), r.Failure)
		assert.Equal(t, 200, r.Status)
		assert.Nil(t, r.Body, "body not kept unless asked")
		got := rec.last(t)
		assert.Equal(t, "GET", got.Method)
		assert.Equal(t, "item", got.Name)
		assert.Equal(t, 200, got.Status)
		assert.EqualValues(t, 9, got.Bytes)
		assert.Empty(t, got.Error)
		assert.Equal(t, intended, got.Intended)
		assert.Positive(t, got.Latency)

		r = s.Do(t.Context(), Request{Method: "GET", Path: "/item", Keep: true}, time.Time{})
		assert.Equal(t, `{"id":42}`, string(r.Body))
		assert.EqualValues(t, 9, rec.last(t).Bytes)
	})
}

func TestEnginesSendHeaders(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		var seen http.Header
		c, _, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = r.Header.Clone()
			mu.Unlock()
		}), Options{})
		s := c.NewSession()
		s.SetHeader("Authorization", "Bearer A")
		s.SetHeader("X-Tenant", "t1")
		r := s.Do(t.Context(), Request{Method: "GET", Path: "/", Header: http.Header{
			"X-Tenant":  {"t2"}, // replaces the session's
			"X-Request": {"r1", "r2"},
		}}, time.Time{})
		require.True(t, r.OK(), r.Failure)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, "Bearer A", seen.Get("Authorization"))
		assert.Equal(t, []string{"t2"}, seen.Values("X-Tenant"))
		assert.Equal(t, []string{"r1", "r2"}, seen.Values("X-Request"))
		assert.Equal(t, "Go-http-client/1.1", seen.Get("User-Agent"), "one user agent for both engines")
		assert.Empty(t, seen.Get("Accept-Encoding"), "no compression unless asked")
	})
}

func TestEnginesSendJSON(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		c, rec, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-CT", r.Header.Get("Content-Type"))
			_, _ = w.Write([]byte(r.Method + " " + r.Header.Get("Content-Type") + " " + string(b)))
		}), Options{})
		s := c.NewSession()
		body := []byte(`{"x":1}`)
		r := s.Do(t.Context(), Request{Method: "POST", Path: "/echo", JSON: body, Keep: true,
			Header: http.Header{"Content-Type": {"text/plain"}}}, time.Time{})
		require.True(t, r.OK(), r.Failure)
		assert.Equal(t, `POST application/json {"x":1}`, string(r.Body))
		assert.EqualValues(t, len(r.Body), rec.last(t).Bytes)
	})
}

func TestEnginesJudgeAcceptAndCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path string
		accept     []int
		check      func(int, []byte) error
		failure    string
		status     int
	}{
		{name: "2xx", path: "/201", status: 201},
		{name: "500", path: "/500", failure: "Got status code 500", status: 500},
		{name: "401 accepted", path: "/401", accept: []int{200, 401}, status: 401},
		{name: "200 not accepted", path: "/200", accept: []int{201}, failure: "Got status code 200", status: 200},
		{name: "check fails", path: "/200", check: func(_ int, b []byte) error {
			return errors.New("no id in " + string(b))
		}, failure: "no id in /200", status: 200},
		{name: "check passes", path: "/200", check: func(int, []byte) error { return nil }, status: 200},
		{name: "check not run on 500", path: "/500", check: func(int, []byte) error { panic("called") }, failure: "Got status code 500", status: 500},
	}
	forEngines(t, func(t *testing.T, engine string) {
		c, rec, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			code := map[string]int{"/200": 200, "/201": 201, "/401": 401, "/500": 500}[r.URL.Path]
			w.WriteHeader(code)
			_, _ = w.Write([]byte(r.URL.Path))
		}), Options{})
		s := c.NewSession()
		for _, tc := range cases {
			r := s.Do(t.Context(), Request{Method: "GET", Path: tc.path, Accept: tc.accept, Check: tc.check}, time.Time{})
			assert.Equal(t, tc.failure, r.Failure, tc.name)
			assert.Equal(t, tc.status, r.Status, tc.name)
			got := rec.last(t)
			assert.Equal(t, tc.failure, got.Error, tc.name)
			assert.Equal(t, tc.status, got.Status, tc.name)
			assert.EqualValues(t, len(tc.path), got.Bytes, tc.name)
			if tc.check != nil {
				assert.Equal(t, tc.path, string(r.Body), tc.name)
			}
		}
	})
}

func TestEnginesKeepCookiesPerSession(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		seen := map[string]string{}
		c, _, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/login":
				http.SetCookie(w, &http.Cookie{Name: "sid", Value: r.URL.Query().Get("u"), Path: "/", HttpOnly: true})
				return
			case "/old": // a redirect on the host, cookies follow
				http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
				http.Redirect(w, r, "/me", http.StatusFound)
				return
			}
			ck, err := r.Cookie("sid")
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			hop, _ := r.Cookie("hop")
			mu.Lock()
			seen[ck.Value] = r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
			if hop != nil {
				seen[ck.Value] += " hop=" + hop.Value
			}
			mu.Unlock()
		}), Options{})
		a, b := c.NewSession(), c.NewSession()
		a.SetHeader("Authorization", "Bearer A")
		b.SetHeader("Authorization", "Bearer B")
		ctx := t.Context()
		require.False(t, a.Do(ctx, get("/me"), time.Time{}).OK(), "no cookie yet")
		require.True(t, a.Do(ctx, get("/login?u=a"), time.Time{}).OK())
		require.True(t, b.Do(ctx, get("/login?u=b"), time.Time{}).OK())
		require.True(t, a.Do(ctx, get("/me"), time.Time{}).OK())
		r := b.Do(ctx, Request{Method: "POST", Path: "/old", JSON: []byte(`{}`)}, time.Time{})
		require.True(t, r.OK(), r.Failure)
		assert.Equal(t, 200, r.Status)
		assert.Equal(t, map[string]string{"a": "GET /me Bearer A", "b": "GET /me Bearer B hop=1"}, seen)
	})
}

func TestEnginesFollowRedirectsLikeNetHTTP(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		c, rec, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/loop":
				http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
			case "/307":
				http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
			case "/noloc":
				w.WriteHeader(http.StatusFound)
			default:
				b, _ := io.ReadAll(r.Body)
				_, _ = w.Write([]byte(r.Method + " " + string(b)))
			}
		}), Options{})
		s := c.NewSession()
		r := s.Do(t.Context(), Request{Method: "PUT", Path: "/307", JSON: []byte(`{"a":1}`), Keep: true}, time.Time{})
		require.True(t, r.OK(), r.Failure)
		assert.Equal(t, `PUT {"a":1}`, string(r.Body), "307 keeps method and body")
		r = s.Do(t.Context(), get("/loop"), time.Time{})
		assert.Equal(t, "RequestError: stopped after 10 redirects", r.Failure)
		assert.Equal(t, "RequestError: stopped after 10 redirects", rec.last(t).Error)
		r = s.Do(t.Context(), Request{Method: "GET", Path: "/noloc", Accept: []int{302}}, time.Time{})
		assert.True(t, r.OK(), r.Failure)
	})
}

func TestFastRefusesRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer other.Close()
	c, _, _ := newEngineClient(t, EngineFast, http.RedirectHandler(other.URL+"/x", http.StatusFound), Options{})
	r := c.NewSession().Do(t.Context(), get("/"), time.Time{})
	assert.True(t, strings.HasPrefix(r.Failure, "RequestError: redirect to http://127.0.0.1:"), r.Failure)
	assert.Contains(t, r.Failure, "-client fast talks to the -host only")
}

func TestEnginesKeepTheBasePathAndSendPathsAsNetHTTP(t *testing.T) {
	t.Parallel()
	paths := map[string]string{
		"/x?q=1":           "/api/x?q=1",
		"/a//b/../c?x=%20": "/api/a//b/../c?x=%20",
		"/a b/é?k=v":       "/api/a%20b/%C3%A9?k=v",
		"/p%2Fq#frag":      "/api/p%2Fq",
		"":                 "/api",
		"?only=query":      "/api?only=query",
	}
	forEngines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = r.RequestURI
			mu.Unlock()
		}))
		defer srv.Close()
		c, err := New(srv.URL+"/api/", &sink{}, Options{Engine: engine})
		require.NoError(t, err)
		defer c.CloseIdle()
		assert.Equal(t, srv.URL+"/api", c.Base())
		s := c.NewSession()
		for path, want := range paths {
			r := s.Do(t.Context(), get(path), time.Time{})
			require.True(t, r.OK(), r.Failure)
			mu.Lock()
			assert.Equal(t, want, got, "path %q", path)
			mu.Unlock()
		}
		r := s.Do(t.Context(), get("/bad%zz"), time.Time{})
		assert.True(t, strings.HasPrefix(r.Failure, "InvalidRequest: "), r.Failure)
		r = s.Do(t.Context(), Request{Method: "GE T", Path: "/"}, time.Time{})
		assert.True(t, strings.HasPrefix(r.Failure, "InvalidRequest: "), r.Failure)
	})
}

func TestEnginesCompression(t *testing.T) {
	t.Parallel()
	const text = "hello hello hello hello"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			_, _ = w.Write([]byte("plain:" + r.Header.Get("Accept-Encoding")))
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte(text))
		_ = zw.Close()
	})
	forEngines(t, func(t *testing.T, engine string) {
		c, rec, _ := newEngineClient(t, engine, h, Options{Compression: true})
		s := c.NewSession()
		r := s.Do(t.Context(), Request{Method: "GET", Path: "/", Keep: true}, time.Time{})
		require.True(t, r.OK(), r.Failure)
		assert.Equal(t, text, string(r.Body), "inflated")
		assert.EqualValues(t, len(text), rec.last(t).Bytes)
		r = s.Do(t.Context(), get("/"), time.Time{})
		require.True(t, r.OK(), r.Failure)
		assert.EqualValues(t, len(text), rec.last(t).Bytes, "inflated, not kept")
		r = s.Do(t.Context(), Request{Method: "GET", Path: "/", Keep: true, Header: http.Header{"Accept-Encoding": {"br"}}}, time.Time{})
		assert.Equal(t, "plain:br", string(r.Body), "the request's own encoding wins")

		off, _, _ := newEngineClient(t, engine, h, Options{})
		r = off.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/", Keep: true}, time.Time{})
		assert.Equal(t, "plain:", string(r.Body), "no Accept-Encoding without Compression")
	})
}

func TestEnginesBoundTheBody(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 20<<20)
	forEngines(t, func(t *testing.T, engine string) {
		c, rec, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/chunked" {
				w.(http.Flusher).Flush() // no Content-Length
			}
			_, _ = w.Write([]byte(big))
		}), Options{MaxBody: 1 << 20})
		s := c.NewSession()
		for _, path := range []string{"/big", "/chunked"} {
			for _, keep := range []bool{false, true} {
				r := s.Do(t.Context(), Request{Method: "GET", Path: path, Keep: keep}, time.Time{})
				assert.Equal(t, "ResponseTooLarge: response body exceeds the read limit", r.Failure, path)
				assert.Equal(t, FailResponseTooLarge, FailureKind(rec.last(t).Error))
				assert.Equal(t, 200, rec.last(t).Status)
				assert.LessOrEqual(t, rec.last(t).Bytes, int64(1<<20))
			}
		}
	})
}

func TestEnginesNameTransportErrors(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		t.Run("refused", func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close())
			rec := &sink{}
			c, err := New("http://"+addr, rec, Options{Engine: engine, Timeout: 2 * time.Second})
			require.NoError(t, err)
			r := c.NewSession().Do(t.Context(), get("/"), time.Time{})
			assert.Equal(t, "ConnectionRefusedError: connection refused", r.Failure)
			assert.Equal(t, r.Failure, rec.last(t).Error)
			assert.Error(t, r.Err)
		})
		t.Run("closed before answering", func(t *testing.T) {
			t.Parallel()
			c, _, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
			}), Options{})
			r := c.NewSession().Do(t.Context(), get("/"), time.Time{})
			assert.True(t, FailureKind(r.Failure) == FailDisconnected || FailureKind(r.Failure) == FailReset, r.Failure)
		})
		t.Run("closed mid-body", func(t *testing.T) {
			t.Parallel()
			c, _, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				if r.URL.Path == "/chunked" {
					_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
				} else {
					_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
				}
				_ = buf.Flush()
				_ = conn.Close()
			}), Options{})
			s := c.NewSession()
			for _, path := range []string{"/length", "/chunked"} {
				for _, keep := range []bool{false, true} {
					r := s.Do(t.Context(), Request{Method: "GET", Path: path, Keep: keep}, time.Time{})
					assert.Equal(t, "RemoteDisconnected: server closed the connection without a complete response", r.Failure, path)
				}
			}
		})
		t.Run("timeout", func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			c, rec, _ := newEngineClient(t, engine, stall(release), Options{Timeout: 100 * time.Millisecond})
			defer close(release)
			start := time.Now()
			r := c.NewSession().Do(t.Context(), get("/slow"), time.Time{})
			assert.Equal(t, "Timeout: no complete response within the request timeout", r.Failure)
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.GreaterOrEqual(t, rec.last(t).Latency, 100*time.Millisecond)

			// The context's deadline, when sooner, bounds the request too.
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			c2, _, _ := newEngineClient(t, engine, stall(release), Options{Timeout: time.Minute})
			r = c2.NewSession().Do(ctx, get("/slow"), time.Time{})
			assert.Equal(t, FailTimeout, FailureKind(r.Failure), r.Failure)
		})
		t.Run("cancelled", func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			posted := make(chan struct{}, 1) // the POST below reached the server
			c, rec, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "POST" {
					select {
					case posted <- struct{}{}:
					default:
					}
				}
				stall(release).ServeHTTP(w, r)
			}), Options{Timeout: time.Minute})
			defer close(release)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			r := c.NewSession().Do(ctx, get("/"), time.Time{})
			assert.Equal(t, "Cancelled: the run stopped while the request was in flight", r.Failure)
			assert.ErrorIs(t, r.Err, context.Canceled)

			// In flight (the server holds it): Do returns promptly, well
			// before the request timeout.
			ctx, cancel = context.WithCancel(t.Context())
			go func() {
				select {
				case <-posted:
				case <-t.Context().Done(): // the POST never arrived: the test fails below
				}
				cancel()
			}()
			start := time.Now()
			r = c.NewSession().Do(ctx, Request{Method: "POST", Path: "/", JSON: []byte(`{}`)}, time.Time{})
			assert.Equal(t, FailCancelled, FailureKind(r.Failure), r.Failure)
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.Equal(t, r.Failure, rec.last(t).Error)
		})
		t.Run("name resolution", func(t *testing.T) {
			t.Parallel()
			c, err := New("http://no-such-host.invalid", &sink{}, Options{Engine: engine, Timeout: 5 * time.Second})
			require.NoError(t, err)
			r := c.NewSession().Do(t.Context(), get("/"), time.Time{})
			assert.True(t, strings.HasPrefix(r.Failure, "NameResolutionError: "), r.Failure)
		})
	})
}

// stall is a handler that answers when release closes or the client goes.
func stall(release chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}

func TestEnginesTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close) // after the parallel subtests
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	forEngines(t, func(t *testing.T, engine string) {
		c, err := New(srv.URL, &sink{}, Options{Engine: engine})
		require.NoError(t, err)
		r := c.NewSession().Do(t.Context(), get("/"), time.Time{})
		assert.True(t, strings.HasPrefix(r.Failure, "SSLError: certificate verification failed (use -insecure to accept it): x509: "), r.Failure)

		c, err = New(srv.URL, &sink{}, Options{Engine: engine, Insecure: true})
		require.NoError(t, err)
		defer c.CloseIdle()
		r = c.NewSession().Do(t.Context(), Request{Method: "GET", Path: "/", Keep: true}, time.Time{})
		require.True(t, r.OK(), r.Failure)
		assert.Equal(t, "HTTP/1.1", string(r.Body))

		c, err = New(strings.Replace(plain.URL, "http:", "https:", 1), &sink{}, Options{Engine: engine})
		require.NoError(t, err)
		r = c.NewSession().Do(t.Context(), get("/"), time.Time{})
		if engine == EngineNet { // net/http words the tls.RecordHeaderError itself
			assert.Equal(t, "RequestError: http: server gave HTTP response to HTTPS client", r.Failure)
		} else {
			assert.Equal(t, "SSLError: the server did not speak TLS", r.Failure)
		}
	})
}

// TestEnginesDoNotShareBodies: a closed session's body buffer goes back to a
// pool; sessions made later must never write into each other's bodies.
func TestEnginesDoNotShareBodies(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, engine string) {
		c, _, _ := newEngineClient(t, engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(r.URL.Path))
		}), Options{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 20 {
					s := c.NewSession()
					path := "/" + strings.Repeat(string(rune('a'+i)), j+1)
					for range 3 {
						r := s.Do(t.Context(), Request{Method: "GET", Path: path, Keep: true}, time.Time{})
						assert.Equal(t, path, string(r.Body))
					}
					s.Close()
				}
			})
		}
		wg.Wait()
	})
}

func TestFastErrorNames(t *testing.T) {
	t.Parallel()
	for err, kind := range map[error]string{
		fasthttp.ErrNoFreeConns:                           FailPoolExhausted,
		fasthttp.ErrTimeout:                               FailTimeout,
		fasthttp.ErrDialTimeout:                           FailTimeout,
		fasthttp.ErrTLSHandshakeTimeout:                   FailTimeout,
		fasthttp.ErrConnectionClosed:                      FailDisconnected,
		fasthttp.ErrBodyTooLarge:                          FailResponseTooLarge,
		errors.Join(errors.New("x"), fasthttp.ErrTimeout): FailTimeout,
	} {
		name := ErrorName(err)
		assert.Equal(t, kind, FailureKind(name), name)
	}
	assert.True(t, strings.HasPrefix(ErrorName(fasthttp.ErrNoFreeConns), "PoolExhausted: no free connection"))
}

// BenchmarkEngine compares the engines on one small GET, users in parallel,
// each over its own connection (net, fast) or a shared pool (-shared).
func BenchmarkEngine(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	for _, engine := range engines {
		for _, shared := range poolModes {
			name := engine
			if shared {
				name += "-shared"
			}
			b.Run(name, func(b *testing.B) { benchEngine(b, srv.URL, Options{Engine: engine, SharedPool: shared}) })
		}
	}
}

func benchEngine(b *testing.B, url string, opts Options) {
	c, err := New(url, nopRecorder{}, opts)
	require.NoError(b, err)
	defer c.CloseIdle()
	ctx := b.Context() // cancellable, as a run's
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := c.NewSession()
		defer s.Close()
		for pb.Next() {
			if r := s.Do(ctx, get("/health"), time.Time{}); !r.OK() {
				b.Error(r.Failure)
				return
			}
		}
	})
}

type nopRecorder struct{}

func (nopRecorder) Record(stats.Result) {}
