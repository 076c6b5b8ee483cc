package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/runfile"
)

// do serves one request through New(f) and returns the recorded response.
func do(t *testing.T, h http.Handler, method, path, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:8089"+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

func decodeTo[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), "body: %s", w.Body.String())
	return v
}

func TestAssetsContentNegotiation(t *testing.T) {
	h := New(newFake())
	files := Assets()
	var big []string // every file with compressed copies
	require.NoError(t, fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".br") || strings.HasSuffix(p, ".gz") {
			return err
		}
		info, err := d.Info()
		if err == nil && info.Size() > 1024 {
			big = append(big, p)
		}
		return err
	}))
	require.Subset(t, big, []string{"index.html", "app.js", "app.css", "uPlot.iife.min.js"})

	for _, name := range big {
		want, err := fs.ReadFile(files, name)
		require.NoError(t, err)
		url := "/static/" + name
		if name == "index.html" {
			url = "/"
		}
		for _, tc := range []struct{ accept, encoding string }{
			{"br", "br"}, {"gzip", "gzip"}, {"", ""}, {"identity", ""}, {"gzip, deflate, br, zstd", "br"},
		} {
			w := do(t, h, "GET", url, "", map[string]string{"Accept-Encoding": tc.accept})
			require.Equal(t, http.StatusOK, w.Code, "%s %q", url, tc.accept)
			assert.Equal(t, tc.encoding, w.Header().Get("Content-Encoding"), "%s %q", url, tc.accept)
			assert.Contains(t, w.Header().Values("Vary"), "Accept-Encoding", url)
			var r io.Reader = w.Body
			switch tc.encoding {
			case "br":
				r = brotli.NewReader(w.Body)
			case "gzip":
				zr, err := gzip.NewReader(w.Body)
				require.NoError(t, err)
				r = zr
			}
			got, err := io.ReadAll(r)
			require.NoError(t, err, "%s %q", url, tc.accept)
			assert.True(t, bytes.Equal(want, got), "%s with Accept-Encoding %q decodes to the embedded original", url, tc.accept)
			if tc.encoding != "" {
				assert.Less(t, w.Body.Len(), len(want), "%s: the compressed copy is sent", url)
			}
		}
	}

	w := do(t, h, "GET", "/static/app.js", "", nil)
	assert.Contains(t, w.Header().Get("Content-Type"), "javascript")
	w = do(t, h, "GET", "/", "", nil)
	assert.Contains(t, w.Header().Get("Content-Type"), "text/html")
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'")
	assert.Contains(t, w.Body.String(), `id="stats-table"`)
	assert.Equal(t, http.StatusNotFound, do(t, h, "GET", "/static/nope.js", "", nil).Code)
	assert.Equal(t, http.StatusNotFound, do(t, h, "GET", "/nope", "", nil).Code)
}

func TestControlCallsController(t *testing.T) {
	for _, tc := range []struct {
		path, body, call string
	}{
		{"/api/stop", "", "Stop"},
		{"/api/stop", "{}", "Stop"},
		{"/api/reset", "", "Reset"},
		{"/api/quit", "", "Quit"},
		{"/api/scale", `{"users": 7, "spawn_rate": 2.5}`, "Scale(7, 2.5)"},
		{"/api/scale", `{"users": 0, "spawn_rate": 1}`, "Scale(0, 1)"},
		{"/api/scale", `{"users": 9}`, "Scale(9, 2)"}, // the current spawn rate
		{"/api/start", `{"host": "http://127.0.0.1:9000", "users": 3, "spawn_rate": 1.5, "classes": ["XAgentStressUser"], "duration": "60s"}`,
			"Start(http://127.0.0.1:9000, 3, 1.5, [XAgentStressUser], 1m0s)"},
		{"/api/start", `{"users": 3, "duration": "90"}`, "Start(http://127.0.0.1:8000, 3, 2, [], 1m30s)"},
		{"/api/start", `{"host": "https://x.example:8443/api", "users": 1, "spawn_rate": 1, "duration": ""}`,
			"Start(https://x.example:8443/api, 1, 1, [], 0s)"},
	} {
		t.Run(tc.path+" "+tc.body, func(t *testing.T) {
			f := newFake()
			w := do(t, New(f), "POST", tc.path, tc.body, jsonCT)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, []string{tc.call}, f.Calls())
			got := decodeTo[map[string]Status](t, w)
			assert.Equal(t, f.Status(), got["status"], "the response carries the status after the call")
		})
	}
}

func TestControlValidation(t *testing.T) {
	for _, tc := range []struct{ path, body, want string }{
		{"/api/scale", `{"users": -1, "spawn_rate": 1}`, "users must be >= 0"},
		{"/api/scale", `{"users": 1, "spawn_rate": 0}`, "spawn_rate must be > 0"},
		{"/api/scale", `{"users": 1, "spawn_rate": -2}`, "spawn_rate must be > 0"},
		{"/api/scale", `{"spawn_rate": 1}`, "users is required"},
		{"/api/scale", ``, "users is required"},
		{"/api/scale", `{"users": 1.5}`, "users: want a whole number"},
		{"/api/scale", `{"users": "7"}`, "users: want a whole number"},
		{"/api/scale", `{"users": 1, "spawnrate": 1}`, `unknown field "spawnrate"`},
		{"/api/scale", `{"users": 1`, "request body"},
		{"/api/scale", `{"users": 1} {"users": 2}`, "more than one JSON value"},
		{"/api/start", `{"host": "ftp://x", "users": 1, "spawn_rate": 1}`, "scheme must be http or https"},
		{"/api/start", `{"host": "not a url", "users": 1, "spawn_rate": 1}`, "scheme must be http or https"},
		{"/api/start", `{"host": "http://", "users": 1, "spawn_rate": 1}`, "no host name"},
		{"/api/start", `{"host": "http://x:1/?q=1", "users": 1, "spawn_rate": 1}`, "must not have a query"},
		{"/api/start", `{"host": "http://x", "users": -3, "spawn_rate": 1}`, "users must be >= 0"},
		{"/api/start", `{"host": "http://x", "users": 1, "spawn_rate": 0}`, "spawn_rate must be > 0"},
		{"/api/start", `{"host": "http://x", "spawn_rate": 1}`, "users is required"},
		{"/api/start", `{"host": "http://x", "users": 1, "classes": ["Nope"]}`, `unknown class "Nope"`},
		{"/api/start", `{"host": "http://x", "users": 1, "duration": "soon"}`, `duration "soon"`},
		{"/api/start", `{"host": "http://x", "users": 1, "duration": "-5s"}`, "must not be negative"},
		{"/api/start", `{"host": "http://x", "users": 1, "duration": 60}`, "duration: want a string"},
		{"/api/scale", `{"users": 1, "pad": "` + strings.Repeat("x", maxBody) + `"}`, "request body over"},
	} {
		t.Run(tc.path+" "+tc.want, func(t *testing.T) {
			f := newFake()
			w := do(t, New(f), "POST", tc.path, tc.body, jsonCT)
			assert.Equal(t, http.StatusBadRequest, w.Code)
			assert.Contains(t, decodeTo[map[string]string](t, w)["error"], tc.want)
			assert.Empty(t, f.Calls(), "the controller is not called on bad input")
		})
	}

	t.Run("no host anywhere", func(t *testing.T) {
		f := newFake()
		f.status.Host = ""
		w := do(t, New(f), "POST", "/api/start", `{"users": 1}`, jsonCT)
		assert.Equal(t, http.StatusBadRequest, w.Code)
		assert.Contains(t, w.Body.String(), "host is required")
	})
}

func TestControlConflict(t *testing.T) {
	f := newFake()
	f.err = errBusy
	for _, path := range []string{"/api/stop", "/api/reset", "/api/quit"} {
		w := do(t, New(f), "POST", path, "", jsonCT)
		assert.Equal(t, http.StatusConflict, w.Code, path)
		assert.Equal(t, map[string]string{"error": "a swarm is running"}, decodeTo[map[string]string](t, w), path)
	}
	w := do(t, New(f), "POST", "/api/start", `{"users": 1}`, jsonCT)
	assert.Equal(t, http.StatusConflict, w.Code)
	w = do(t, New(f), "POST", "/api/scale", `{"users": 1}`, jsonCT)
	assert.Equal(t, http.StatusConflict, w.Code)
	assert.Len(t, f.Calls(), 5)

	st := decodeTo[state](t, do(t, New(f), "GET", "/api/state", "", nil))
	assert.Equal(t, "a swarm is running", st.Status.Error, "the status reports the last control error")
}

func TestControlCSRF(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
		code   int
		want   string
	}{
		{"cross-origin", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/json"}, 403, "cross-origin request refused"},
		{"other port", map[string]string{"Origin": "http://127.0.0.1:9999", "Content-Type": "application/json"}, 403, "cross-origin"},
		{"other scheme", map[string]string{"Origin": "https://127.0.0.1:8089", "Content-Type": "application/json"}, 403, "cross-origin"},
		{"null origin", map[string]string{"Origin": "null", "Content-Type": "application/json"}, 403, "cross-origin"},
		{"origin beats fetch site", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, 403, "cross-origin"},
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, 403, "Sec-Fetch-Site is cross-site"},
		{"same-site", map[string]string{"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}, 403, "Sec-Fetch-Site is same-site"},
		{"text/plain", map[string]string{"Content-Type": "text/plain"}, 415, "Content-Type: application/json"},
		{"form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type: application/json"},
		{"multipart", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 415, "Content-Type: application/json"},
		{"no content type", map[string]string{}, 415, "(got none)"},
		{"same origin", map[string]string{"Origin": "http://127.0.0.1:8089", "Content-Type": "application/json"}, 200, ""},
		{"same origin, charset", map[string]string{"Origin": "http://127.0.0.1:8089", "Content-Type": "application/json; charset=utf-8"}, 200, ""},
		{"fetch same-origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, 200, ""},
		{"fetch none", map[string]string{"Sec-Fetch-Site": "none", "Content-Type": "application/json"}, 200, ""},
		{"curl", map[string]string{"Content-Type": "application/json"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/stop", "/api/scale", "/api/reset", "/api/start", "/api/quit"} {
				f := newFake()
				f.status.State = StateIdle
				body := `{"users": 3, "spawn_rate": 1}`
				w := do(t, New(f), "POST", path, body, tc.header)
				require.Equal(t, tc.code, w.Code, "%s: %s", path, w.Body.String())
				if tc.code == 200 {
					assert.Len(t, f.Calls(), 1, path)
					continue
				}
				assert.Contains(t, decodeTo[map[string]string](t, w)["error"], tc.want, path)
				assert.Empty(t, f.Calls(), "%s: the controller must not be called", path)
			}
		})
	}
}

func TestControlMethodNotAllowed(t *testing.T) {
	f := newFake()
	for _, path := range []string{"/api/stop", "/api/scale", "/api/reset", "/api/start", "/api/quit"} {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			w := do(t, New(f), m, path, "", jsonCT)
			assert.Equal(t, http.StatusMethodNotAllowed, w.Code, "%s %s", m, path)
			assert.Equal(t, "POST", w.Header().Get("Allow"))
			assert.Contains(t, w.Body.String(), "use POST")
		}
	}
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, New(f), "POST", "/api/state", "", jsonCT).Code)
	assert.Empty(t, f.Calls())
}

func TestStateWithoutRun(t *testing.T) {
	f := newFake()
	f.status.Classes = nil
	w := do(t, New(f), "GET", "/api/state", "", nil)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.JSONEq(t, `{"status": {"state": "running", "scenario": "TestLoadLight", "host": "http://127.0.0.1:8000",
		"users": 4, "target_users": 5, "spawn_rate": 2, "idle": false, "classes": []}, "run": null}`, w.Body.String())
}

// keys returns an object's keys, sorted.
func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%T is not an object", v)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestStateShape(t *testing.T) {
	f := newFake()
	run := testRun()
	f.setRun(run)
	w := do(t, New(f), "GET", "/api/state", "", nil)
	require.Equal(t, http.StatusOK, w.Code)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	assert.Equal(t, []string{"run", "status"}, keys(t, raw))
	assert.Equal(t, []string{"classes", "host", "idle", "scenario", "spawn_rate", "state", "target_users", "users"}, keys(t, raw["status"]))
	r := raw["run"].(map[string]any)
	assert.Equal(t, []string{"alerts", "checks", "duration_s", "end", "entries", "exceptions", "failures", "generator",
		"host", "scenario", "series", "start", "stopped", "users", "verdict"}, keys(t, r))
	entries := r["entries"].([]any)
	require.Len(t, entries, 3)
	assert.Equal(t, []string{"aggregate", "avg_bytes", "avg_ms", "fail_ps", "failures", "max_ms", "median_ms", "method",
		"min_ms", "name", "p95_ms", "p99_ms", "requests", "rps"}, keys(t, entries[0]))
	assert.Equal(t, []string{"fail_ps", "p50_ms", "p95_ms", "rps", "time", "users"}, keys(t, r["series"]))
	assert.Equal(t, []string{"error", "method", "name", "occurrences"}, keys(t, r["failures"].([]any)[0]))
	assert.Equal(t, []string{"count", "message", "traceback"}, keys(t, r["exceptions"].([]any)[0]))
	assert.Equal(t, []string{"endpoint", "gated", "grade", "message", "metric", "pass", "unit", "value"}, keys(t, r["checks"].([]any)[0]))
	assert.Equal(t, []string{"fired", "limit", "message", "name", "value"}, keys(t, r["alerts"].([]any)[0]))
	assert.Equal(t, []string{"advice", "clock", "dropped", "iterations", "lag_max_ms", "lag_p99_ms", "model", "notes", "rate",
		"reasons", "saturated"}, keys(t, r["generator"]))
	assert.Equal(t, []string{"pass", "reasons"}, keys(t, r["verdict"]))

	// The values, through the typed view.
	st := decodeTo[struct {
		Run struct {
			Scenario  string
			DurationS float64 `json:"duration_s"`
			Start     string
			Entries   []struct {
				Method, Name       string
				Requests, Failures int64
				MedianMS           float64 `json:"median_ms"`
				P95MS              float64 `json:"p95_ms"`
				P99MS              float64 `json:"p99_ms"`
				AvgMS              float64 `json:"avg_ms"`
				MinMS              float64 `json:"min_ms"`
				MaxMS              float64 `json:"max_ms"`
				AvgBytes           float64 `json:"avg_bytes"`
				RPS                float64
				FailPS             float64 `json:"fail_ps"`
				Aggregate          bool
			}
			Series struct {
				Time, RPS []float64
				Users     []int
				FailPS    []float64 `json:"fail_ps"`
				P50MS     []float64 `json:"p50_ms"`
				P95MS     []float64 `json:"p95_ms"`
			}
			Checks []struct {
				Endpoint, Metric, Unit, Grade string
				Value                         *float64
				Gated, Pass                   bool
			}
			Generator struct {
				Model     string
				LagP99MS  float64 `json:"lag_p99_ms"`
				Dropped   int64
				Saturated bool
				Reasons   []string
			}
			Verdict struct {
				Pass    bool
				Reasons []string
			}
		}
	}](t, w)
	got := st.Run
	assert.Equal(t, "TestLoadLight", got.Scenario)
	assert.Equal(t, 10.0, got.DurationS)
	assert.Equal(t, "2026-03-01T12:00:00Z", got.Start)
	s := run.Stats
	for i, want := range append(slices.Clone(s.Entries), s.Total) {
		e := got.Entries[i]
		assert.Equal(t, want.Requests, e.Requests, want.Name)
		assert.Equal(t, want.Failures, e.Failures, want.Name)
		assert.InDelta(t, want.ServiceMS(50), e.MedianMS, 1e-9)
		assert.InDelta(t, want.ServiceMS(95), e.P95MS, 1e-9)
		assert.InDelta(t, want.ServiceMS(99), e.P99MS, 1e-9)
		assert.InDelta(t, want.AvgMS(), e.AvgMS, 1e-9)
		assert.InDelta(t, want.MinMS(), e.MinMS, 1e-9)
		assert.InDelta(t, want.MaxMS(), e.MaxMS, 1e-9)
		assert.InDelta(t, want.AvgContentBytes(), e.AvgBytes, 1e-9)
		assert.InDelta(t, s.RPS(want), e.RPS, 1e-9)
		assert.InDelta(t, s.FailPS(want), e.FailPS, 1e-9)
		assert.Equal(t, i == len(s.Entries), e.Aggregate)
	}
	total := got.Entries[2]
	assert.Equal(t, "Aggregated", total.Name)
	assert.Empty(t, total.Method)
	assert.Equal(t, int64(110), total.Requests)
	assert.Equal(t, 11.0, total.RPS, "requests over the snapshot's 10 s")
	assert.Equal(t, []float64{float64(t0.Unix() + 1), float64(t0.Unix() + 2), float64(t0.Unix() + 3)}, got.Series.Time)
	assert.Equal(t, []int{3, 4, 5}, got.Series.Users)
	assert.Equal(t, []float64{10, 11, 12}, got.Series.RPS)
	assert.Equal(t, []float64{0, 1, 2}, got.Series.FailPS)
	assert.Equal(t, []float64{20, 21, 22}, got.Series.P50MS)
	assert.Equal(t, []float64{90, 91, 92}, got.Series.P95MS)
	require.Len(t, got.Checks, 3)
	assert.Equal(t, "Acceptable", got.Checks[0].Grade)
	assert.Equal(t, "ms", got.Checks[0].Unit)
	assert.Equal(t, "Poor", got.Checks[1].Grade)
	assert.Equal(t, "POST /goals", got.Checks[1].Endpoint)
	assert.Empty(t, got.Checks[2].Grade, "an ungradable check has no grade")
	assert.Equal(t, "arrivals", got.Generator.Model)
	assert.Equal(t, 1500.0, got.Generator.LagP99MS)
	assert.True(t, got.Generator.Saturated)
	assert.Equal(t, int64(20), got.Generator.Dropped)
	assert.False(t, got.Verdict.Pass)
	assert.Equal(t, run.Verdict.Reasons, got.Verdict.Reasons)
}

func TestStateNonFinite(t *testing.T) {
	f := newFake()
	run := testRun()
	run.Checks[0].Value = nan()
	run.Stats.Series[0].P95MS = nan()
	f.setRun(run)
	w := do(t, New(f), "GET", "/api/state", "", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"p95_ms":[null,91,92]`)
	assert.Contains(t, w.Body.String(), `"value":null`)
}

func TestReports(t *testing.T) {
	files := ReportFiles()
	require.Len(t, files, 6)
	t.Run("no run", func(t *testing.T) {
		h := New(newFake())
		for _, name := range files {
			w := do(t, h, "GET", "/reports/"+name, "", nil)
			assert.Equal(t, http.StatusNotFound, w.Code, name)
			assert.Contains(t, w.Body.String(), "no run yet", name)
			assert.Empty(t, w.Header().Get("Content-Disposition"), name)
		}
	})
	t.Run("run", func(t *testing.T) {
		f := newFake()
		f.setRun(testRun())
		h := New(f)
		wantStart := map[string]string{
			"stats.csv":         "Type,Name,Request Count,Failure Count,",
			"stats_history.csv": "Timestamp,User Count,Type,Name,",
			"failures.csv":      "Method,Name,Error,Occurrences",
			"exceptions.csv":    "Count,Message,Traceback,Nodes",
			"run.json":          "{",
			"report.html":       "<!DOCTYPE html>",
		}
		for _, name := range files {
			w := do(t, h, "GET", "/reports/"+name, "", nil)
			require.Equal(t, http.StatusOK, w.Code, name)
			assert.Equal(t, `attachment; filename="TestLoadLight_`+name+`"`, w.Header().Get("Content-Disposition"), name)
			assert.True(t, strings.HasPrefix(w.Body.String(), wantStart[name]), "%s starts %q", name, w.Body.String()[:min(60, w.Body.Len())])
		}
		w := do(t, h, "GET", "/reports/failures.csv", "", nil)
		assert.Contains(t, w.Body.String(), "POST,POST /goals,Got status code 503,10")
		w = do(t, h, "GET", "/reports/run.json", "", nil)
		back, err := runfile.Decode(w.Body)
		require.NoError(t, err)
		assert.Equal(t, int64(110), back.Stats.Total.Requests)
		assert.Equal(t, http.StatusNotFound, do(t, h, "GET", "/reports/other.csv", "", nil).Code)
	})
}

func TestListenLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0", "127.0.0.1:0"} {
		ln, url, err := Listen(addr)
		require.NoError(t, err, addr)
		tcp := ln.Addr().(*net.TCPAddr)
		assert.True(t, tcp.IP.Equal(net.IPv4(127, 0, 0, 1)), "%s binds %s, want loopback", addr, tcp.IP)
		assert.Positive(t, tcp.Port)
		assert.Equal(t, "http://"+ln.Addr().String()+"/", url)
		require.NoError(t, ln.Close())
	}
	for _, addr := range []string{"", "nonsense", "127.0.0.1:99999"} {
		_, _, err := Listen(addr)
		assert.Error(t, err, addr)
	}
	ln, url, err := Listen("0.0.0.0:0")
	require.NoError(t, err)
	defer ln.Close()
	assert.True(t, ln.Addr().(*net.TCPAddr).IP.IsUnspecified(), "a named address is bound as named")
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), "the URL to open locally: %s", url)
}

// TestServeOverTCP serves the handler on a real listener from Listen, as the
// load test will.
func TestServeOverTCP(t *testing.T) {
	ln, url, err := Listen(":0")
	require.NoError(t, err)
	f := newFake()
	srv := &http.Server{Handler: New(f), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		require.NoError(t, srv.Close())
		<-done
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	res, err := client.Get(url + "api/state")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	res, err = client.Post(url+"api/stop", "application/json", nil)
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{"Stop"}, f.Calls())
}

func TestStateGzip(t *testing.T) {
	f := newFake()
	run := testRun()
	for i := range 2000 { // a long run's series
		run.Stats.Series = append(run.Stats.Series, run.Stats.Series[i%3])
	}
	f.setRun(run)
	h := New(f)
	plain := do(t, h, "GET", "/api/state", "", nil)
	require.Equal(t, http.StatusOK, plain.Code)
	assert.Empty(t, plain.Header().Get("Content-Encoding"))
	require.Greater(t, plain.Body.Len(), gzipOver)
	for _, accept := range []string{"gzip", "gzip, deflate, br", "br;q=1, GZIP;q=0.5"} {
		w := do(t, h, "GET", "/api/state", "", map[string]string{"Accept-Encoding": accept})
		require.Equal(t, "gzip", w.Header().Get("Content-Encoding"), accept)
		assert.Less(t, w.Body.Len(), plain.Body.Len()/3, accept)
		zr, err := gzip.NewReader(w.Body)
		require.NoError(t, err)
		got, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, plain.Body.String(), string(got), accept)
	}
	for _, accept := range []string{"br", "gzip;q=0", "identity"} {
		w := do(t, h, "GET", "/api/state", "", map[string]string{"Accept-Encoding": accept})
		assert.Empty(t, w.Header().Get("Content-Encoding"), accept)
	}
	// Small responses are not worth it.
	w := do(t, New(newFake()), "GET", "/api/state", "", map[string]string{"Accept-Encoding": "gzip"})
	assert.Empty(t, w.Header().Get("Content-Encoding"))
}
