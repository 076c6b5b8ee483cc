package runner

import (
	"fmt"
	"strconv"
	"strings"
)

// Segment is one process's share of a run split over Count processes with no
// coordinator (k6's execution segments, striped): global user u and global
// arrival k belong to the segment u mod Count. All segments together start
// exactly the users and iterations one process would, each user with the class
// and random seed it would have had there. The zero value is the whole run.
type Segment struct {
	Index int // 0-based
	Count int // 0 or 1: the whole run
}

// ParseSegment reads "i/n" with a 1-based i: "1/2" and "2/2" are the halves.
func ParseSegment(s string) (Segment, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("segment %q: want i/n, e.g. 1/2 and 2/2 for two processes", s)
	}
	if n < 1 || n > 10_000 || i < 1 || i > n {
		return Segment{}, fmt.Errorf("segment %q: want 1 <= i <= n <= 10000", s)
	}
	return Segment{Index: i - 1, Count: n}, nil
}

// String renders the segment as ParseSegment reads it; "" for the whole run.
func (s Segment) String() string {
	if s.whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index+1, s.Count)
}

func (s Segment) whole() bool { return s.Count <= 1 }

// Validate reports an impossible segment.
func (s Segment) Validate() error {
	if s.Count < 0 || (s.Count > 1 && (s.Index < 0 || s.Index >= s.Count)) || (s.Count <= 1 && s.Index != 0) {
		return fmt.Errorf("segment index %d of %d: want 0 <= index < count", s.Index, s.Count)
	}
	return nil
}

// Share is how many of total users fall to this segment: the u < total with
// u mod Count == Index. The shares of all segments sum to total.
func (s Segment) Share(total int) int {
	if s.whole() {
		return total
	}
	n := total - s.Index
	if n <= 0 {
		return 0
	}
	return (n + s.Count - 1) / s.Count
}

// Rate is this segment's share of a rate (spawn rate): an n-th, so that its
// users start when they would in one process.
func (s Segment) Rate(r float64) float64 {
	if s.whole() {
		return r
	}
	return r / float64(s.Count)
}

// Global is the global index of this segment's local-th user or arrival.
func (s Segment) Global(local int) int {
	if s.whole() {
		return local
	}
	return local*s.Count + s.Index
}
