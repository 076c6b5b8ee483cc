package fakeapi

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultSecretKey is X-Agent's default SECRET_KEY, used to sign and verify tokens.
const DefaultSecretKey = "change-me-in-production"

// DefaultMaxGoals is the default cap of the goal store; the oldest goal is evicted beyond it.
const DefaultMaxGoals = 100_000

// MaxBodyBytes is the largest request body the fake reads; larger bodies get 413.
const MaxBodyBytes = 1 << 20

// LatencyKind names a latency distribution.
type LatencyKind string

// The latency distributions a LatencySpec can describe.
const (
	LatencyFixed     LatencyKind = "fixed"
	LatencyUniform   LatencyKind = "uniform"
	LatencyLognormal LatencyKind = "lognormal"
)

// LatencySpec describes the extra delay added before a response is written.
//
// fixed waits Fixed; uniform waits between Min and Max; lognormal waits a
// log-normally distributed time with the given Median and 99th percentile
// (samples are capped at 10×P99 so one unlucky draw cannot stall a run).
type LatencySpec struct {
	Kind   LatencyKind
	Fixed  time.Duration
	Min    time.Duration
	Max    time.Duration
	Median time.Duration
	P99    time.Duration
}

// Validate reports whether the spec is usable, naming the offending field.
func (l LatencySpec) Validate() error {
	switch l.Kind {
	case LatencyFixed:
		if l.Fixed < 0 {
			return fmt.Errorf("latency fixed: Fixed %v is negative", l.Fixed)
		}
	case LatencyUniform:
		if l.Min < 0 {
			return fmt.Errorf("latency uniform: Min %v is negative", l.Min)
		}
		if l.Max < l.Min {
			return fmt.Errorf("latency uniform: Max %v is below Min %v", l.Max, l.Min)
		}
	case LatencyLognormal:
		if l.Median <= 0 {
			return fmt.Errorf("latency lognormal: Median %v must be positive", l.Median)
		}
		if l.P99 < l.Median {
			return fmt.Errorf("latency lognormal: P99 %v is below Median %v", l.P99, l.Median)
		}
	default:
		return fmt.Errorf("latency: unknown Kind %q (want fixed, uniform or lognormal)", l.Kind)
	}
	return nil
}

// String renders the spec in the form ParseLatencySpec reads.
func (l LatencySpec) String() string {
	switch l.Kind {
	case LatencyFixed:
		return "fixed:" + l.Fixed.String()
	case LatencyUniform:
		return "uniform:" + l.Min.String() + ":" + l.Max.String()
	case LatencyLognormal:
		return "lognormal:" + l.Median.String() + ":" + l.P99.String()
	}
	return string(l.Kind)
}

// lognormalZ99 is the standard normal quantile at 0.99.
const lognormalZ99 = 2.3263478740408408

// sample draws one delay; u1 and u2 are independent uniform numbers in [0, 1).
func (l LatencySpec) sample(u1, u2 float64) time.Duration {
	switch l.Kind {
	case LatencyFixed:
		return l.Fixed
	case LatencyUniform:
		return l.Min + time.Duration(u1*float64(l.Max-l.Min))
	case LatencyLognormal:
		if l.P99 == l.Median {
			return l.Median
		}
		sigma := math.Log(float64(l.P99)/float64(l.Median)) / lognormalZ99
		// Box-Muller; 1-u1 lies in (0, 1] so the logarithm is finite.
		z := math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
		d := float64(l.Median) * math.Exp(sigma*z)
		if limit := 10 * float64(l.P99); d > limit {
			d = limit
		}
		return time.Duration(d)
	}
	return 0
}

// ParseLatencySpec reads "fixed:50ms", "uniform:10ms:90ms" or "lognormal:20ms:200ms"
// (median then p99).
func ParseLatencySpec(s string) (LatencySpec, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	kind := LatencyKind(strings.ToLower(parts[0]))
	durs := make([]time.Duration, 0, 2)
	for _, p := range parts[1:] {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return LatencySpec{}, fmt.Errorf("latency spec %q: %w", s, err)
		}
		durs = append(durs, d)
	}
	want := map[LatencyKind]int{LatencyFixed: 1, LatencyUniform: 2, LatencyLognormal: 2}
	n, ok := want[kind]
	if !ok {
		return LatencySpec{}, fmt.Errorf("latency spec %q: unknown kind %q (want fixed:D, uniform:MIN:MAX or lognormal:MEDIAN:P99)", s, parts[0])
	}
	if len(durs) != n {
		return LatencySpec{}, fmt.Errorf("latency spec %q: %s takes %d duration(s), got %d", s, kind, n, len(durs))
	}
	spec := LatencySpec{Kind: kind}
	switch kind {
	case LatencyFixed:
		spec.Fixed = durs[0]
	case LatencyUniform:
		spec.Min, spec.Max = durs[0], durs[1]
	case LatencyLognormal:
		spec.Median, spec.P99 = durs[0], durs[1]
	}
	if err := spec.Validate(); err != nil {
		return LatencySpec{}, fmt.Errorf("latency spec %q: %w", s, err)
	}
	return spec, nil
}

// ParseLatencyFlag reads "KEY=SPEC", e.g. "/status=fixed:50ms", "GET /goals=uniform:1ms:5ms"
// or "*=lognormal:20ms:200ms", and checks that KEY names a route.
func ParseLatencyFlag(s string) (string, LatencySpec, error) {
	key, specText, ok := strings.Cut(s, "=")
	if !ok {
		return "", LatencySpec{}, fmt.Errorf("latency %q: want ROUTE=SPEC, e.g. /status=fixed:50ms", s)
	}
	key = strings.TrimSpace(key)
	if _, _, err := parseLatencyKey(key); err != nil {
		return "", LatencySpec{}, fmt.Errorf("latency %q: %w", s, err)
	}
	spec, err := ParseLatencySpec(specText)
	if err != nil {
		return "", LatencySpec{}, err
	}
	return key, spec, nil
}

// parseLatencyKey splits a Latency key into an optional method and a route;
// "*" yields routeAny.
func parseLatencyKey(key string) (method, route, error) {
	if key == "*" {
		return methodAny, routeAny, nil
	}
	m := methodAny
	path := key
	if before, after, ok := strings.Cut(key, " "); ok {
		m = methodOf(before)
		if m == methodOther {
			return 0, 0, fmt.Errorf("key %q: unknown method %q", key, before)
		}
		path = strings.TrimSpace(after)
	}
	rt, ok := routeByTemplate(path)
	if !ok {
		return 0, 0, fmt.Errorf("key %q: unknown route %q (known: %s, or *)", key, path, strings.Join(routeTemplates[:], ", "))
	}
	return m, rt, nil
}

// healthChecks are the dependency checks /health reports, in answer order.
var healthChecks = [...]string{"redis", "postgres", "chromadb"}

// Options are the behaviour knobs of a Server; every fault is off by default.
type Options struct {
	// SecretKey signs and verifies HS256 tokens; empty means DefaultSecretKey.
	SecretKey string
	// MaxGoals caps the goal store, evicting the oldest goal; 0 means DefaultMaxGoals.
	MaxGoals int
	// Now is the clock for timestamps, uptime, token expiry, the rate limiter,
	// HealthFlap and the stall window; nil means time.Now. Waits are real time.
	Now func() time.Time
	// Latency adds delay per route: keys are "*" (default), a route template
	// ("/status") or a method and a template ("GET /goals"); the most specific wins.
	// /metrics only gets latency from a key naming it.
	Latency map[string]LatencySpec
	// ErrorRate is the fraction (0–1) of requests answered with ErrorStatus instead
	// of the real answer; /metrics is never failed. Default 0.
	ErrorRate float64
	// ErrorStatus is the injected status, 500 or 503; 0 means 500.
	ErrorStatus int
	// Unhealthy names the checks (redis, postgres, chromadb) that fail, making
	// /health and /ready answer 503. Default none.
	Unhealthy []string
	// HealthFlap, when positive, alternates health every period starting healthy;
	// the unhealthy phases fail the Unhealthy checks, or redis when none is named.
	HealthFlap time.Duration
	// RateLimit turns on X-Agent's limiter: per client IP (X-Forwarded-For first),
	// 60/min with a burst of 70; /health, /healthz, /ready and /metrics are exempt.
	RateLimit bool
	// StallAt and StallFor freeze the server: every request arriving in
	// [StallAt, StallAt+StallFor) after New is held until the window ends,
	// the request is cancelled, or the Server is closed. Default off.
	StallAt  time.Duration
	StallFor time.Duration
	// ResetRate is the fraction (0–1) of requests whose connection is closed with
	// a TCP reset before any response; /metrics is never reset. Default 0.
	ResetRate float64
	// Seed seeds the random knobs (ErrorRate, ResetRate, latency draws);
	// 0 picks a random seed.
	Seed int64
}

// DefaultOptions returns the options of a well-behaved fake with X-Agent's defaults.
func DefaultOptions() Options {
	return Options{
		SecretKey:   DefaultSecretKey,
		MaxGoals:    DefaultMaxGoals,
		ErrorStatus: 500,
	}
}

// withDefaults fills the zero fields that have a documented default.
func (o Options) withDefaults() Options {
	if o.SecretKey == "" {
		o.SecretKey = DefaultSecretKey
	}
	if o.MaxGoals == 0 {
		o.MaxGoals = DefaultMaxGoals
	}
	if o.ErrorStatus == 0 {
		o.ErrorStatus = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate reports every invalid field, each error naming it; zero values that
// stand for a default are valid.
func (o Options) Validate() error {
	var errs []error
	if o.MaxGoals < 0 {
		errs = append(errs, fmt.Errorf("fakeapi: Options.MaxGoals %d is negative", o.MaxGoals))
	}
	for key, spec := range o.Latency {
		if _, _, err := parseLatencyKey(key); err != nil {
			errs = append(errs, fmt.Errorf("fakeapi: Options.Latency: %w", err))
		}
		if err := spec.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("fakeapi: Options.Latency[%q]: %w", key, err))
		}
	}
	if !(o.ErrorRate >= 0 && o.ErrorRate <= 1) {
		errs = append(errs, fmt.Errorf("fakeapi: Options.ErrorRate %v is outside [0, 1]", o.ErrorRate))
	}
	if o.ErrorStatus != 0 && o.ErrorStatus != 500 && o.ErrorStatus != 503 {
		errs = append(errs, fmt.Errorf("fakeapi: Options.ErrorStatus %d: want 500 or 503", o.ErrorStatus))
	}
	for _, name := range o.Unhealthy {
		if checkIndex(name) < 0 {
			errs = append(errs, fmt.Errorf("fakeapi: Options.Unhealthy: unknown check %q (want redis, postgres or chromadb)", name))
		}
	}
	if o.HealthFlap < 0 {
		errs = append(errs, fmt.Errorf("fakeapi: Options.HealthFlap %v is negative", o.HealthFlap))
	}
	if o.StallAt < 0 {
		errs = append(errs, fmt.Errorf("fakeapi: Options.StallAt %v is negative", o.StallAt))
	}
	if o.StallFor < 0 {
		errs = append(errs, fmt.Errorf("fakeapi: Options.StallFor %v is negative", o.StallFor))
	}
	if !(o.ResetRate >= 0 && o.ResetRate <= 1) {
		errs = append(errs, fmt.Errorf("fakeapi: Options.ResetRate %v is outside [0, 1]", o.ResetRate))
	}
	return errors.Join(errs...)
}

// checkIndex returns the position of a health check name, or -1.
func checkIndex(name string) int {
	for i, c := range healthChecks {
		if strings.EqualFold(strings.TrimSpace(name), c) {
			return i
		}
	}
	return -1
}
