package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
)

// The server watch's default periods.
const (
	defaultHealthEvery  = monitor.DefaultHealthEvery
	defaultMetricsEvery = monitor.DefaultMetricsEvery
)

// interruptedWatch bounds the server watch's stop after a stop request: the
// reports must come at once, whatever the server does.
const interruptedWatch = 250 * time.Millisecond

// watch starts polling the server's health and scraping its metrics, out of
// band of the load; stop returns the server's view, nil when both are off.
// After an interrupt (interrupted true) it waits for the server at most
// interruptedWatch.
func watch(ctx context.Context, p Plan, host string) (stop func(snap stats.Snapshot, interrupted bool) *runfile.Server) {
	off := func(stats.Snapshot, bool) *runfile.Server { return nil }
	if p.HealthEvery < 0 && p.MetricsEvery < 0 {
		return off
	}
	m, err := monitor.Start(ctx, monitor.Options{Base: host, HealthEvery: p.HealthEvery, MetricsEvery: p.MetricsEvery, Insecure: p.Insecure})
	if err != nil {
		fmt.Fprintf(p.Out, "note: the server is not watched: %v\n", err)
		return off
	}
	return func(snap stats.Snapshot, interrupted bool) *runfile.Server {
		var limit time.Duration
		if interrupted {
			limit = interruptedWatch
		}
		rep := m.StopWithin(limit)
		return &runfile.Server{HealthEvery: p.HealthEvery, MetricsEvery: p.MetricsEvery, Report: rep, Rows: serverRows(rep.Endpoints, snap)}
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
