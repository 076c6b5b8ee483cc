package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/monitor"
	"github.com/xagent/perfharness/internal/runfile"
)

// TestServerRowsWithoutRequestsAreLeftOut: a run file from before the
// monitor dropped them has a "GET /metrics 0 0" row with the scrapes'
// quantiles; the console leaves it out.
func TestServerRowsWithoutRequestsAreLeftOut(t *testing.T) {
	q := monitor.Quantile{MS: 5, LowerMS: 0, UpperMS: 10, Bounded: true}
	s := &runfile.Server{HealthEvery: -1, MetricsEvery: -1, Rows: []monitor.Row{
		{Method: "GET", Route: "/healthz", ClientName: "GET /healthz (stress)", ClientRequests: 7},
		{Method: "GET", Route: "/metrics", ServerP50: q, ServerP95: q, ServerP99: q},
		{Method: "GET", Route: "/status", ClientName: "GET /status", ServerRequests: 3, ClientRequests: 3, ServerP50: q},
	}}
	var buf bytes.Buffer
	require.NoError(t, WriteServer(&buf, s))
	out := buf.String()
	assert.NotContains(t, out, "/metrics")
	assert.Contains(t, out, "GET     /healthz")
	assert.Contains(t, out, "GET     /status")
	assert.Len(t, ServerRows(s), 2)

	s.Rows = s.Rows[1:2]
	buf.Reset()
	require.NoError(t, WriteServer(&buf, s))
	assert.NotContains(t, buf.String(), "Server vs client", "no row left: no table")
}
