package perf

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
)

// interruptedWatch bounds the server watch's stop after a stop request: the
// reports must come at once, whatever the server does.
const interruptedWatch = 250 * time.Millisecond

// watch starts polling the server's health and scraping its metrics, out of
// band of the load; stop returns the server's view, nil when both are off.
// After an interrupt (interrupted true) it waits for the server at most
// interruptedWatch.
func watch(ctx context.Context, host string) (stop func(snap stats.Snapshot, interrupted bool) *runfile.Server) {
	health := orOff(flagHealthEvery.orDefault(monitor.DefaultHealthEvery))
	metrics := orOff(flagMetricsEvery.orDefault(monitor.DefaultMetricsEvery))
	off := func(stats.Snapshot, bool) *runfile.Server { return nil }
	if health < 0 && metrics < 0 {
		return off
	}
	m, err := monitor.Start(ctx, monitor.Options{Base: host, HealthEvery: health, MetricsEvery: metrics, Insecure: *flagInsecure})
	if err != nil {
		fmt.Printf("note: the server is not watched: %v\n", err)
		return off
	}
	return func(snap stats.Snapshot, interrupted bool) *runfile.Server {
		var limit time.Duration
		if interrupted {
			limit = interruptedWatch
		}
		rep := m.StopWithin(limit)
		return &runfile.Server{HealthEvery: health, MetricsEvery: metrics, Report: rep, Rows: serverRows(rep.Endpoints, snap)}
	}
}

// orOff maps a zero period (the flag's "off") to the monitor's negative one.
func orOff(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// serverRows pairs the server's routes with the client's entries. Compare
// matches entries to routes; the client percentiles of a route are then taken
// from all its entries merged ("GET /status" and "GET /status (auth)" are
// both GET /status to the server), not from the busiest one.
func serverRows(server []monitor.Endpoint, snap stats.Snapshot) []monitor.Row {
	type key struct{ method, route string }
	merged := map[key]*stats.Entry{}
	var client []monitor.ClientEntry
	for _, e := range snap.Entries {
		m, r := monitor.ClientRoute(e.Method, e.Name)
		k := key{m, r}
		if merged[k] == nil {
			merged[k] = &stats.Entry{Service: stats.NewHistogram()}
		}
		merged[k].Merge(e)
		client = append(client, monitor.ClientEntry{Method: e.Method, Name: e.Name, Requests: e.Requests})
	}
	rows := monitor.Compare(server, client)
	for i, r := range rows {
		if e := merged[key{r.Method, r.Route}]; e != nil {
			rows[i].ClientP50MS, rows[i].ClientP95MS, rows[i].ClientP99MS = e.ServiceMS(50), e.ServiceMS(95), e.ServiceMS(99)
		}
	}
	return rows
}

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
	if err := checkReachable(ctx, srv.URL, false); err != nil {
		t.Fatal(err)
	}
	stop := watch(ctx, srv.URL)

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
