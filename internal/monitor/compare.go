package monitor

import (
	"cmp"
	"slices"
	"strings"
)

// ClientEntry is one client-side statistics entry (a load-test request name).
type ClientEntry struct {
	Method, Name        string
	Requests            int64
	P50MS, P95MS, P99MS float64
}

// Row pairs a server route with the client entries that hit it.
type Row struct {
	Method         string   `json:"method"`
	Route          string   `json:"route"`
	ClientName     string   `json:"client_name"`
	ServerRequests float64  `json:"server_requests"`
	ClientRequests int64    `json:"client_requests"`
	ServerP50      Quantile `json:"server_p50"`
	ServerP95      Quantile `json:"server_p95"`
	ServerP99      Quantile `json:"server_p99"`
	ClientP50MS    float64  `json:"client_p50_ms"`
	ClientP95MS    float64  `json:"client_p95_ms"`
	ClientP99MS    float64  `json:"client_p99_ms"`
}

// Compare matches client entries to server routes. A client name such as
// "GET /goals (auth)" or "/status (stress)" loses its method prefix and its
// trailing parenthesised tag, and its path is mapped with RouteTemplate.
// Several entries may land on one route: their requests are summed, the
// percentiles are those of the entry with the most requests, and ClientName
// lists every name (most requests first) joined by ", ". Server routes no
// client entry hit appear with ClientRequests 0; client entries with no server
// route appear with ServerRequests 0 and no server quantiles. The client's
// "Aggregated" total is skipped.
//
// ServerRequests are Endpoint.Requests, from which the Monitor has already
// subtracted its own polls of /health, /ready and /metrics, so that both
// sides count the same requests. A route with no request on either side (one
// only the monitor polled, such as /metrics) has no row. Rows are sorted by
// route, then method.
func Compare(server []Endpoint, client []ClientEntry) []Row {
	type key struct{ method, route string }
	rows := map[key]*Row{}
	get := func(k key) *Row {
		r := rows[k]
		if r == nil {
			r = &Row{Method: k.method, Route: k.route}
			rows[k] = r
		}
		return r
	}
	for _, e := range server {
		if e.Requests <= 0 {
			continue // only the monitor's own polls, or nothing
		}
		r := get(key{strings.ToUpper(e.Method), e.Route})
		r.ServerRequests += e.Requests
		r.ServerP50, r.ServerP95, r.ServerP99 = e.P50, e.P95, e.P99
	}
	groups := map[key][]ClientEntry{}
	for _, c := range client {
		if c.Name == "Aggregated" && (c.Method == "" || c.Method == "Aggregated") {
			continue
		}
		m, route := ClientRoute(c.Method, c.Name)
		k := key{m, route}
		groups[k] = append(groups[k], c)
	}
	for k, g := range groups {
		slices.SortStableFunc(g, func(a, b ClientEntry) int {
			if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		var n int64
		for _, c := range g {
			n += c.Requests
		}
		if n <= 0 && rows[k] == nil {
			continue
		}
		r := get(k)
		names := make([]string, len(g))
		for i, c := range g {
			names[i] = c.Name
		}
		r.ClientRequests = n
		r.ClientName = strings.Join(names, ", ")
		r.ClientP50MS, r.ClientP95MS, r.ClientP99MS = g[0].P50MS, g[0].P95MS, g[0].P99MS
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		if c := strings.Compare(a.Route, b.Route); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

// httpMethods are the words recognised as a method prefix of a request name.
var httpMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}

// ClientRoute reads the method and route template of a client request name
// ("GET /goals/{id} (auth)" → GET, /goals/{id}), as Compare matches them.
func ClientRoute(method, name string) (string, string) {
	n := strings.TrimSpace(name)
	if first, rest, ok := strings.Cut(n, " "); ok && slices.Contains(httpMethods, strings.ToUpper(first)) {
		if method == "" {
			method = first
		}
		n = strings.TrimSpace(rest)
	}
	if strings.HasSuffix(n, ")") {
		if i := strings.LastIndex(n, "("); i > 0 {
			n = strings.TrimSpace(n[:i])
		}
	}
	return strings.ToUpper(method), RouteTemplate(n)
}
