package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/client"
)

// checkPost refuses a control request that may come from another site: the
// page's own requests pass, as do requests from tools (curl, scripts) that send
// neither Origin nor Sec-Fetch-Site, provided they send JSON.
func checkPost(r *http.Request) (int, error) {
	if err := sameOrigin(r); err != nil {
		return http.StatusForbidden, err
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		if ct == "" {
			ct = "none"
		}
		// A cross-site HTML form can send text/plain, form or multipart
		// bodies without a preflight, never application/json.
		return http.StatusUnsupportedMediaType, fmt.Errorf("control requests need Content-Type: application/json (got %s)", ct)
	}
	return http.StatusOK, nil
}

// sameOrigin checks a request's Origin, else its Sec-Fetch-Site, against the
// request's own origin.
func sameOrigin(r *http.Request) error {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	own := scheme + r.Host
	if origin := r.Header.Get("Origin"); origin != "" {
		if !strings.EqualFold(origin, own) {
			return fmt.Errorf("cross-origin request refused: Origin %s is not %s", origin, own)
		}
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("cross-site request refused: Sec-Fetch-Site is %s, not same-origin", site)
	}
	return nil
}

// decodeBody decodes a JSON object into v; an empty body leaves v as it is.
// Unknown fields are errors, so a misspelt field is not silently ignored.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("request body over %d bytes", tooBig.Limit)
		}
		return fmt.Errorf("reading the request body: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return fmt.Errorf("%s: want %s, got JSON %s", typ.Field, kindName(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Errorf("request body: %w", err)
	}
	if dec.More() {
		return errors.New("request body: more than one JSON value")
	}
	return nil
}

func kindName(k string) string {
	switch {
	case strings.HasPrefix(k, "int"):
		return "a whole number"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "slice":
		return "a list"
	}
	return "a " + k
}

type scaleRequest struct {
	Users     *int     `json:"users"`
	SpawnRate *float64 `json:"spawn_rate"`
}

// parseScale reads /api/scale's body: users is required; spawn_rate defaults
// to the current one.
func parseScale(r *http.Request, cur Status) (int, float64, error) {
	var req scaleRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, 0, err
	}
	if req.Users == nil {
		return 0, 0, errors.New(`users is required, e.g. {"users": 10, "spawn_rate": 2}`)
	}
	rate := cur.SpawnRate
	if req.SpawnRate != nil {
		rate = *req.SpawnRate
	}
	if err := checkUsersRate(*req.Users, rate); err != nil {
		return 0, 0, err
	}
	return *req.Users, rate, nil
}

func checkUsersRate(users int, rate float64) error {
	if users < 0 {
		return fmt.Errorf("users must be >= 0, got %d", users)
	}
	if !(rate > 0) || rate > 1e9 {
		return fmt.Errorf("spawn_rate must be > 0 (users started per second), got %s", strconv.FormatFloat(rate, 'g', -1, 64))
	}
	return nil
}

type startRequest struct {
	Host      string   `json:"host"`
	Users     *int     `json:"users"`
	SpawnRate *float64 `json:"spawn_rate"`
	Classes   []string `json:"classes"`
	Duration  string   `json:"duration"`
}

// parseStart reads /api/start's body. An empty host is the current one; users
// is required; spawn_rate defaults to the current one; classes must be among
// the status's (when it lists any); duration is a Go duration ("90s", "5m") or
// whole seconds, empty for until stopped.
func parseStart(r *http.Request, cur Status) (Swarm, error) {
	var req startRequest
	if err := decodeBody(r, &req); err != nil {
		return Swarm{}, err
	}
	s := Swarm{Host: strings.TrimSpace(req.Host), Classes: req.Classes}
	if s.Host == "" {
		s.Host = cur.Host
	}
	if err := checkHost(s.Host); err != nil {
		return Swarm{}, err
	}
	if req.Users == nil {
		return Swarm{}, errors.New(`users is required, e.g. {"host": "http://127.0.0.1:8000", "users": 10, "spawn_rate": 2}`)
	}
	s.Users = *req.Users
	s.SpawnRate = cur.SpawnRate
	if req.SpawnRate != nil {
		s.SpawnRate = *req.SpawnRate
	}
	if err := checkUsersRate(s.Users, s.SpawnRate); err != nil {
		return Swarm{}, err
	}
	if len(cur.Classes) > 0 {
		for _, c := range s.Classes {
			if !slices.Contains(cur.Classes, c) {
				return Swarm{}, fmt.Errorf("unknown class %q (have %s)", c, strings.Join(cur.Classes, ", "))
			}
		}
	}
	d, err := parseDuration(req.Duration)
	if err != nil {
		return Swarm{}, err
	}
	s.Duration = d
	return s, nil
}

// checkHost checks a swarm's host as -host is checked.
func checkHost(h string) error {
	if h == "" {
		return errors.New("host is required, e.g. http://127.0.0.1:8000")
	}
	_, err := client.ParseHost(h)
	return err
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, aerr := strconv.ParseUint(s, 10, 32)
		if aerr != nil {
			return 0, fmt.Errorf("duration %q: want e.g. 60s, 5m or 1h30m, or empty to run until stopped", s)
		}
		d = time.Duration(secs) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q: must not be negative", s)
	}
	return d, nil
}
