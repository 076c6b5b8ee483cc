package fakeapi

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newTestServer builds a Server and closes it when the test ends.
func newTestServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := New(opts)
	require.NoError(tb, err)
	tb.Cleanup(s.Close)
	return s
}

// req is one handler-level request.
type req struct {
	method, path, body string
	header             map[string]string
}

// serve runs one request through the handler.
func serve(h http.Handler, rq req) *httptest.ResponseRecorder {
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, "http://fake.test"+rq.path, body)
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// bearer returns an Authorization header map.
func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

// issue mints a token or fails the test.
func issue(tb testing.TB, s *Server, sub, role string, ttl time.Duration) string {
	tb.Helper()
	tok, err := s.IssueToken(sub, role, ttl)
	require.NoError(tb, err)
	return tok
}

// jsonBody decodes a recorder's JSON body into a map.
func jsonBody(tb testing.TB, w *httptest.ResponseRecorder) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(w.Body.Bytes(), &m), "body %q", w.Body.String())
	return m
}

// keys lists a JSON object's keys.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// dig follows a dotted path ("user.role", "detail.0.type") into decoded JSON.
func dig(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock starts at a fixed instant.
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

// Now reads the clock.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// loopback serves s on a real loopback listener and returns its URL and a
// keep-alive client; both are torn down when the test ends.
func loopback(tb testing.TB, s http.Handler, conns int) (string, *http.Client) {
	tb.Helper()
	ts := httptest.NewServer(s)
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	tb.Cleanup(func() {
		tr.CloseIdleConnections()
		ts.Close()
	})
	return ts.URL, &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// discardWriter is a reusable ResponseWriter for allocation counts.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(s int)   { d.status = s }
func (d *discardWriter) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}

// newFlagSet returns a silent flag set that reports errors.
func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// newFlagSetWith returns a flag set bound to o.
func newFlagSetWith(o *Options) *flag.FlagSet {
	fs := newFlagSet()
	o.RegisterFlags(fs)
	return fs
}
