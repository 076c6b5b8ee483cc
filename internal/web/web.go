// Package web is the harness's live web UI, Locust's :8089: a page with the
// statistics table, charts, failures, exceptions, graded targets and report
// downloads of the running swarm, and controls to rescale, stop and reset it
// (and, in idle mode, to start a new swarm and to quit).
//
// The package knows nothing of go test: the load test implements Controller
// and serves New(controller) on a listener from Listen.
//
// Routes:
//
//	GET  /                  the page (index.html, app.js, app.css, uPlot), precompressed
//	GET  /static/...        the page's files
//	GET  /api/state         {"status": Status, "run": {...} or null}
//	POST /api/stop          stop the swarm
//	POST /api/scale         {"users": N, "spawn_rate": R}
//	POST /api/reset         reset the statistics
//	POST /api/start         {"host", "users", "spawn_rate", "classes", "duration"} (idle mode)
//	POST /api/quit          end the test (idle mode)
//	GET  /reports/...       stats.csv, stats_history.csv, failures.csv, exceptions.csv, run.json, report.html
//	GET  /metrics           Prometheus metrics of the run, the Go runtime and the process
//
// Every POST must carry Content-Type: application/json and must not come from
// another origin (see sameOrigin), so a page on another site cannot drive the
// swarm through the user's browser.
package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/runfile"
)

// Controller is what the UI drives: the load test implements it.
type Controller interface {
	Status() Status                           // current state, cheap
	Run() (runfile.Run, bool)                 // the current or last run (snapshot so far, graded as it stands); false: none yet
	Stop() error                              // stop the running swarm gracefully
	Scale(users int, spawnRate float64) error // change the user count and spawn rate while running
	Reset() error                             // reset statistics (Locust's reset button)
	Start(s Swarm) error                      // idle mode only: start a swarm; error when one is running or not idle mode
	Quit() error                              // idle mode only: end the test
}

// The states a Status reports.
const (
	StateIdle     = "idle"
	StateSpawning = "spawning"
	StateRunning  = "running"
	StateStopping = "stopping"
	StateStopped  = "stopped"
)

// States lists every state, in the order a run goes through them.
var States = []string{StateIdle, StateSpawning, StateRunning, StateStopping, StateStopped}

// Status is the swarm's state as the page's control bar shows it.
type Status struct {
	State       string   `json:"state"` // "idle", "spawning", "running", "stopping", "stopped"
	Scenario    string   `json:"scenario"`
	Host        string   `json:"host"`
	Users       int      `json:"users"` // running now
	TargetUsers int      `json:"target_users"`
	SpawnRate   float64  `json:"spawn_rate"`
	Idle        bool     `json:"idle"`            // idle mode: Start and Quit are available
	Classes     []string `json:"classes"`         // the classes of the swarm running (or last run); in idle mode between swarms, the classes a swarm can pick
	Error       string   `json:"error,omitempty"` // the last control error or run failure
}

// Swarm is what a new test asks for in idle mode.
type Swarm struct {
	Host      string        `json:"host"`
	Users     int           `json:"users"`
	SpawnRate float64       `json:"spawn_rate"`
	Classes   []string      `json:"classes"`
	Duration  time.Duration `json:"-"` // from "duration" (a string like "60s", or empty: until stopped) in the request body
}

// maxBody bounds a control request's body.
const maxBody = 64 << 10

// New returns the UI's handler, every route above, driving c.
func New(c Controller) http.Handler {
	mux := http.NewServeMux()
	static := staticHandler()
	mux.Handle("GET /{$}", static)
	mux.Handle("GET /static/", http.StripPrefix("/static", static))

	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		st := state{Status: normStatus(c.Status())}
		if run, ok := c.Run(); ok {
			st.Run = newRunView(run)
		}
		writeJSON(w, r, http.StatusOK, st)
	})

	controls := map[string]func(*http.Request) (int, error){
		"/api/stop":  func(*http.Request) (int, error) { return controllerErr(c.Stop()) },
		"/api/reset": func(*http.Request) (int, error) { return controllerErr(c.Reset()) },
		"/api/quit":  func(*http.Request) (int, error) { return controllerErr(c.Quit()) },
		"/api/scale": func(r *http.Request) (int, error) {
			users, rate, err := parseScale(r, c.Status())
			if err != nil {
				return http.StatusBadRequest, err
			}
			return controllerErr(c.Scale(users, rate))
		},
		"/api/start": func(r *http.Request) (int, error) {
			s, err := parseStart(r, c.Status())
			if err != nil {
				return http.StatusBadRequest, err
			}
			return controllerErr(c.Start(s))
		},
	}
	for path, do := range controls {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", http.MethodPost)
				writeError(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use POST", r.Method, path))
				return
			}
			if code, err := checkPost(r); err != nil {
				writeError(w, r, code, err.Error())
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if code, err := do(r); err != nil {
				writeError(w, r, code, err.Error())
				return
			}
			writeJSON(w, r, http.StatusOK, map[string]Status{"status": normStatus(c.Status())})
		})
	}

	for file, rep := range reports {
		mux.HandleFunc("GET /reports/"+file, func(w http.ResponseWriter, r *http.Request) {
			serveReport(w, r, c, file, rep)
		})
	}

	mux.Handle("GET /metrics", metricsHandler(c))
	return secureHeaders(mux)
}

// state is /api/state's body.
type state struct {
	Status Status   `json:"status"`
	Run    *runView `json:"run"`
}

// normStatus gives the page lists, never null.
func normStatus(s Status) Status {
	if s.Classes == nil {
		s.Classes = []string{}
	}
	return s
}

// controllerErr maps a Controller's refusal ("not in idle mode", "a swarm is
// running") to 409 Conflict.
func controllerErr(err error) (int, error) {
	if err != nil {
		return http.StatusConflict, err
	}
	return http.StatusOK, nil
}

// contentSecurityPolicy lets the page load only its own files and talk only to
// its own origin, and keeps it out of other sites' frames.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// gzipOver is the size from which a JSON response is gzipped for a client
// that accepts it: a long run's series makes /api/state large.
const gzipOver = 8 << 10

// writeJSON writes v with code, uncached.
func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "encoding the response: " + err.Error()})
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if len(b) > gzipOver && acceptsGzip(r) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // the level is valid
		_, _ = zw.Write(b)
		if zw.Close() == nil {
			b = buf.Bytes()
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// acceptsGzip reports whether the request accepts a gzip body.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func writeError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	writeJSON(w, r, code, map[string]string{"error": msg})
}

// Listen listens on addr for the UI and returns the listener and the URL to
// print. An address without a host (":8089", or a bare port "8089") binds the
// loopback interface, 127.0.0.1, so the controls are not offered to the
// network; name an address to bind it, e.g. "0.0.0.0:8089" for every interface.
// For an unspecified address the URL names the loopback address, which reaches it.
func Listen(addr string) (net.Listener, string, error) {
	if addr == "" {
		return nil, "", errors.New("web: empty listen address (want e.g. :8089, 127.0.0.1:8089 or 0.0.0.0:8089)")
	}
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("web: listen address %q: %w (want host:port or a port)", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, "", fmt.Errorf("web: %w", err)
	}
	return ln, listenURL(host, ln.Addr()), nil
}

// listenURL is the URL a browser on this machine opens for a listener asked
// to bind host: the host as named, with the loopback address for an
// unspecified one (0.0.0.0 or ::), and the port bound.
func listenURL(host string, a net.Addr) string {
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
