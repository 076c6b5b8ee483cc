package scenario

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseTimespan feeds ParseTimespan (-duration, -grace, …) arbitrary text:
// it must never panic; an accepted duration is not negative (its contract) and
// its String form reads back as the same duration.
func FuzzParseTimespan(f *testing.F) {
	for _, s := range []string{
		"60s", "5m", "1h30m", "60", "1.5", "500ms", "3h30m10s", " 2m ", "0", "0s", "1e7", "10000000",
		"", "-5s", "-1", "-0", "soon", "5 minutes", "1e9", "NaN", "nan", "-NaN", "Inf", "+Inf", "0x1p4",
		"2562047h47m16.854775807s", "2562048h", "1_000", ".5", "5.", "1µs", "1us",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimespan(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseTimespan(%q) = %v: negative", s, d)
		}
		back, err := ParseTimespan(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseTimespan(%q) = %v renders as %q, which reads back as %v, %v", s, d, d.String(), back, err)
		}
	})
}

// FuzzParseNames feeds ParseNames (-classes) arbitrary text: it must never
// panic; the names it returns are non-empty, trimmed and free of commas, and
// joining them with commas reads back as the same names.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{
		"XAgentAPIUser", "XAgentAPIUser,XAgentStressUser", " A, ,B,", "", ",", " , ,",
		"XAgentAPIUser, XAgentAuthenticatedUser, XAgentStressUser", "\tA\n,\u00a0B\u2003", "a,,b", "\xff,\xfe ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names := ParseNames(s)
		for _, n := range names {
			if n == "" || n != strings.TrimSpace(n) || strings.Contains(n, ",") {
				t.Fatalf("ParseNames(%q) returned the name %q", s, n)
			}
		}
		if back := ParseNames(strings.Join(names, ",")); !slices.Equal(back, names) {
			t.Fatalf("ParseNames(%q) = %q, joined and read back as %q", s, names, back)
		}
	})
}

// FuzzParseWait feeds ParseWait arbitrary text: it must never panic; an accepted
// wait validates, has no negative duration, and its String form reads back as
// the same wait.
func FuzzParseWait(f *testing.F) {
	for _, s := range []string{
		"between(1,3)", "between(500ms, 2s)", "constant(0.1)", "constant_pacing(2s)", "constant_throughput(0.5)",
		"between(0,0)", "constant(0)", "constant_throughput(1e6)", "between(86400,86400)",
		"between(3,1)", "between(1)", "sleep(1)", "between 1 3", "constant(x)", "constant_throughput(0)",
		"constant(-1)", "constant(NaN)", "constant_pacing(nan)", "between(-0,0)", "constant_throughput(NaN)",
		"constant_throughput(Inf)", "constant(2562047h47m16.854775807s)", "()", "(", ")", "between((1,2))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWait(s)
		if err != nil {
			return
		}
		if err := w.Validate(); err != nil {
			t.Fatalf("ParseWait(%q) = %+v, which does not validate: %v", s, w, err)
		}
		if w.Min < 0 || w.Max < 0 {
			t.Fatalf("ParseWait(%q) = %+v: negative duration", s, w)
		}
		back, err := ParseWait(w.String())
		if err != nil || back != w {
			t.Fatalf("ParseWait(%q) = %+v renders as %q, which reads back as %+v, %v", s, w, w.String(), back, err)
		}
	})
}

// TestParseTimespanRefusesNaN: "NaN" parses as a float, and time.Duration(NaN)
// is the most negative duration on amd64 (0 on arm64); -duration NaN was
// accepted as a negative duration, -health-every NaN silently turned the
// monitor off. The fuzzer's first find (testdata/fuzz/FuzzParseTimespan).
func TestParseTimespanRefusesNaN(t *testing.T) {
	for _, s := range []string{"NaN", "nan", "-NaN", "+nan"} {
		if d, err := ParseTimespan(s); err == nil {
			t.Errorf("ParseTimespan(%q) = %v, want an error", s, d)
		}
		if w, err := ParseWait("constant(" + s + ")"); err == nil {
			t.Errorf("ParseWait(constant(%s)) = %v, want an error", s, w)
		}
	}
}
