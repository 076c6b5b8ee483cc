package harness

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/stats"
)

// TestServerRowsAreTheLoadOnly watches the fake as a run does: after the
// reachability probe, with the default periods. The rows are the routes the
// load hit, with the server's counts equal to the client's; the probe, the
// monitor's /health and /ready polls and its /metrics scrapes make none.
func TestServerRowsAreTheLoadOnly(t *testing.T) {
	t.Parallel()
	fake, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var polls atomic.Int64 // /health and /ready answers: the fake counted them
	polled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.ServeHTTP(w, r)
		if (r.URL.Path == "/health" || r.URL.Path == "/ready") && polls.Add(1) == 2 {
			close(polled)
		}
	}))
	t.Cleanup(func() { srv.Close(); fake.Close() })
	ctx := t.Context()
	if err := CheckReachable(ctx, srv.URL, false); err != nil {
		t.Fatal(err)
	}
	stop := watch(ctx, Plan{Env: Env{Out: io.Discard}, HealthEvery: defaultHealthEvery, MetricsEvery: defaultMetricsEvery}, srv.URL)

	rec := stats.NewRecorder()
	hc := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	for i := range 5 {
		path, name := "/status", "GET /status"
		if i >= 3 {
			path, name = "/goals", "GET /goals (auth)" // no token: refused, a status of its own
		}
		began := time.Now()
		resp, err := hc.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rec.Record(stats.Result{Method: "GET", Name: name, Start: began, Latency: time.Since(began), Status: resp.StatusCode})
	}
	// Both probes polled at least once (the first polls go out at the start).
	select {
	case <-polled:
	case <-time.After(30 * time.Second):
		t.Fatal("no /health and /ready polls in 30s")
	}
	sv := stop(rec.Close(), false)
	if sv == nil {
		t.Fatal("not watched")
	}
	var got []string
	for _, r := range sv.Rows {
		got = append(got, r.Method+" "+r.Route)
		if int64(r.ServerRequests) != r.ClientRequests {
			t.Errorf("%s %s: the server counted %v requests, the client %d", r.Method, r.Route, r.ServerRequests, r.ClientRequests)
		}
		if !r.ServerP50.Bounded || !r.ServerP99.Bounded {
			t.Errorf("%s %s: no server quantiles: %+v", r.Method, r.Route, r)
		}
	}
	if want := []string{"GET /goals", "GET /status"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v (endpoints %+v, notes %v)", got, want, sv.Report.Endpoints, sv.Report.Notes)
	}
	if len(sv.Report.Notes) > 0 {
		t.Errorf("notes: %v", sv.Report.Notes)
	}
}
