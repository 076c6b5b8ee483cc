package scenario

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkPick is the cost of picking a weighted task (X-Agent's API user: 3/2/1/1/2).
func BenchmarkPick(b *testing.B) {
	p := NewPicker([]int{3, 2, 1, 1, 2})
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += p.Pick(r)
	}
	if n < 0 {
		b.Fatal(n)
	}
}
