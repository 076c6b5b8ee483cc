package runner

import (
	"testing"
)

// FuzzParseSegment feeds ParseSegment (-segment i/n) arbitrary text: it must
// never panic; an accepted segment validates, has 0 <= Index < Count and
// Count <= 10000, renders as ParseSegment reads it (1/1, the whole run,
// renders as ""), and the shares of all its sibling segments sum to the total.
func FuzzParseSegment(f *testing.F) {
	for _, s := range []string{
		"1/2", "2/2", "1/1", "3/4", " 2 / 3 ", "10000/10000", "1/10000",
		"", "/", "0/2", "3/2", "1/0", "-1/2", "+1/+2", "1/20000", "a/b", "1//2", "1/2/3",
		"9223372036854775807/9223372036854775807", "١/٢",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg, err := ParseSegment(s)
		if err != nil {
			if seg != (Segment{}) {
				t.Fatalf("ParseSegment(%q) failed (%v) but returned %+v", s, err, seg)
			}
			return
		}
		if err := seg.Validate(); err != nil {
			t.Fatalf("ParseSegment(%q) = %+v, which does not validate: %v", s, seg, err)
		}
		if seg.Index < 0 || seg.Index >= seg.Count || seg.Count > 10_000 {
			t.Fatalf("ParseSegment(%q) = %+v: want 0 <= Index < Count <= 10000", s, seg)
		}
		str := seg.String()
		if seg.Count == 1 {
			if str != "" {
				t.Fatalf("ParseSegment(%q) is the whole run but renders as %q", s, str)
			}
		} else {
			back, err := ParseSegment(str)
			if err != nil || back != seg {
				t.Fatalf("ParseSegment(%q) = %+v renders as %q, which reads back as %+v, %v", s, seg, str, back, err)
			}
		}
		// A small total derived from the input: the siblings' shares sum to it,
		// and each share is the whole divided out, give or take one.
		total := (len(s)*7919 + seg.Index*31 + seg.Count) % 1000
		sum := 0
		for i := range seg.Count {
			share := Segment{Index: i, Count: seg.Count}.Share(total)
			if lo := total / seg.Count; share < lo || share > lo+1 {
				t.Fatalf("segment %d/%d's share of %d is %d", i+1, seg.Count, total, share)
			}
			sum += share
		}
		if sum != total {
			t.Fatalf("the shares of %d segments of %d users sum to %d", seg.Count, total, sum)
		}
	})
}
