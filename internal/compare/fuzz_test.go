package compare

import (
	"math"
	"testing"
)

// FuzzParseLimits feeds ParseLimits (-max-regression) arbitrary text: it must
// never panic; accepted limits are finite and non-negative, and their String
// form reads back as the same limits.
func FuzzParseLimits(f *testing.F) {
	for _, s := range []string{
		"", "10%", "10", "25%", "0", "0%", " 15 % ",
		"latency=10%,floor=1ms,rps=10%,failures=1",
		"latency=5, floor=500us, rps=20%, failures=0.5",
		"latency=10%,floor=5ms", "floor=0s", "floor=1h", "floor=1ns", "failures=0",
		"rps=1e308%", "latency=0x1p-3%", "floor=2562047h47m16.854775807s",
		"ten", "-5%", "latency=x", "p99=3", "floor=-1ms", "floor=3", "NaN", "Inf%", "latency=1e309",
		"latency", "=", ",", "latency=10%,,", "floor=-0s", "-0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimits(s)
		if err != nil {
			return
		}
		for name, v := range map[string]float64{"latency": l.LatencyPct, "floor": l.FloorMS, "rps": l.RPSPct, "failures": l.FailurePts} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("ParseLimits(%q): %s = %v, want finite and >= 0", s, name, v)
			}
		}
		str := l.String()
		back, err := ParseLimits(str)
		if err != nil {
			t.Fatalf("ParseLimits(%q) = %+v renders as %q, which does not read back: %v", s, l, str, err)
		}
		if back != l {
			t.Fatalf("ParseLimits(%q) = %+v renders as %q, which reads back as %+v", s, l, str, back)
		}
	})
}
