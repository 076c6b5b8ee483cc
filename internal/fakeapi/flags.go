package fakeapi

import (
	"flag"
	"fmt"
	"strings"
)

// RegisterFlags binds one command-line flag per knob to o, keeping o's current
// values as the flag defaults; -latency and -unhealthy may be repeated.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.SecretKey, "secret", o.SecretKey, "HS256 secret that signs and verifies tokens (X-Agent's SECRET_KEY)")
	fs.IntVar(&o.MaxGoals, "max-goals", o.MaxGoals, "goal store cap; the oldest goal is evicted beyond it")
	fs.Func("latency", "extra latency ROUTE=SPEC, repeatable; ROUTE is *, a template like /status or \"GET /goals\"; "+
		"SPEC is fixed:D, uniform:MIN:MAX or lognormal:MEDIAN:P99", func(s string) error {
		key, spec, err := ParseLatencyFlag(s)
		if err != nil {
			return err
		}
		if o.Latency == nil {
			o.Latency = make(map[string]LatencySpec)
		}
		o.Latency[key] = spec
		return nil
	})
	fs.Float64Var(&o.ErrorRate, "error-rate", o.ErrorRate, "fraction 0-1 of requests answered with -error-status (never /metrics)")
	fs.IntVar(&o.ErrorStatus, "error-status", o.ErrorStatus, "status of injected errors: 500 or 503")
	fs.Func("unhealthy", "failing health check: redis, postgres or chromadb; repeatable or comma-separated", func(s string) error {
		for _, name := range strings.Split(s, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if checkIndex(name) < 0 {
				return fmt.Errorf("unknown check %q (want redis, postgres or chromadb)", name)
			}
			o.Unhealthy = append(o.Unhealthy, name)
		}
		return nil
	})
	fs.DurationVar(&o.HealthFlap, "health-flap", o.HealthFlap, "alternate healthy/unhealthy every period (0: off)")
	fs.BoolVar(&o.RateLimit, "rate-limit", o.RateLimit, "enable X-Agent's per-IP rate limiter (60/min, burst 70)")
	fs.DurationVar(&o.StallAt, "stall-at", o.StallAt, "start of a stall window, measured from startup")
	fs.DurationVar(&o.StallFor, "stall-for", o.StallFor, "length of the stall window (0: no stall)")
	fs.Float64Var(&o.ResetRate, "reset-rate", o.ResetRate, "fraction 0-1 of connections reset before any response")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the random knobs (0: random)")
}
