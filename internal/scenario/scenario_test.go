package scenario

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func noop(context.Context, *User) error { return nil }

func class(name string, weight int) Class {
	return Class{Name: name, Weight: weight, Wait: Between(time.Second, 3*time.Second), Tasks: []Task{{Name: "t", Weight: 1, Run: noop}}}
}

func TestDistributeLikeLocust(t *testing.T) {
	t.Parallel()
	three := []Class{class("XAgentStressUser", 1), class("XAgentAPIUser", 1), class("XAgentAuthenticatedUser", 1)}
	// Sorted by name: API, Authenticated, Stress get 4, 3, 3.
	assert.Equal(t, []int{3, 4, 3}, Distribute(three, 10))
	assert.Equal(t, []int{1, 1, 1}, Distribute(three, 3))
	assert.Equal(t, []int{0, 1, 0}, Distribute(three, 1))
	assert.Equal(t, []int{33, 34, 33}, Distribute(three, 100))
	weighted := []Class{class("a", 3), class("b", 1)}
	assert.Equal(t, []int{75, 25}, Distribute(weighted, 100))
	assert.Equal(t, []int{3, 1}, Distribute(weighted, 4))
	// Every prefix of the spawn order stays balanced within one user.
	order := SpawnOrder(three, 30)
	counts := make([]int, 3)
	for _, c := range order {
		counts[c]++
		assert.LessOrEqual(t, max(counts[0], counts[1], counts[2])-min(counts[0], counts[1], counts[2]), 1)
	}
	assert.Nil(t, SpawnOrder(nil, 5))
}

func TestPickerFollowsWeights(t *testing.T) {
	t.Parallel()
	weights := []int{3, 2, 1, 1, 2} // XAgentAPIUser's tasks
	p := NewPicker(weights)
	r := rand.New(rand.NewPCG(7, 7))
	const n = 90_000
	counts := make([]int, len(weights))
	for range n {
		counts[p.Pick(r)]++
	}
	// Pearson's chi-square against the weights; 4 degrees of freedom,
	// 18.47 is the 0.999 quantile, so a correct picker fails 1 run in 1000
	// with a random seed and never with this fixed one.
	chi := 0.0
	for i, w := range weights {
		exp := float64(n) * float64(w) / 9
		d := float64(counts[i]) - exp
		chi += d * d / exp
	}
	assert.Less(t, chi, 18.47, "counts %v", counts)
	assert.Equal(t, 0, NewPicker([]int{5}).Pick(r))
}

func TestWaitBoundsAndKinds(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	w := Between(100*time.Millisecond, 300*time.Millisecond)
	lo, hi := time.Hour, time.Duration(0)
	for range 10_000 {
		d := w.Next(r, 0)
		lo, hi = min(lo, d), max(hi, d)
	}
	assert.GreaterOrEqual(t, lo, 100*time.Millisecond)
	assert.LessOrEqual(t, hi, 300*time.Millisecond)
	assert.Less(t, lo, 110*time.Millisecond, "uniform: reaches near the low end")
	assert.Greater(t, hi, 290*time.Millisecond, "uniform: reaches near the high end")
	assert.Equal(t, 2*time.Second, Constant(2*time.Second).Next(r, time.Second))
	assert.Equal(t, 1500*time.Millisecond, ConstantPacing(2*time.Second).Next(r, 500*time.Millisecond))
	assert.Equal(t, time.Duration(0), ConstantPacing(time.Second).Next(r, 2*time.Second))
	assert.Equal(t, 250*time.Millisecond, ConstantThroughput(2).Next(r, 250*time.Millisecond))
	assert.True(t, ConstantThroughput(2).Schedules())
	assert.False(t, w.Schedules())
}

func TestParseWait(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Wait{
		"between(1,3)":             Between(time.Second, 3*time.Second),
		"between(500ms, 2s)":       Between(500*time.Millisecond, 2*time.Second),
		"constant(0.1)":            Constant(100 * time.Millisecond),
		"constant_pacing(2s)":      ConstantPacing(2 * time.Second),
		"constant_throughput(0.5)": ConstantThroughput(0.5),
	} {
		got, err := ParseWait(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		back, err := ParseWait(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, back, "String round-trips")
	}
	for in, msg := range map[string]string{
		"between(3,1)":           "min <= max",
		"between(1)":             "takes 2",
		"sleep(1)":               "unknown kind",
		"between 1 3":            "kind(args)",
		"constant(x)":            "not a duration",
		"constant_throughput(0)": "rate must be",
		"constant(-1)":           "out of range",
	} {
		_, err := ParseWait(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), msg, in)
	}
}

func TestValidateAndSelect(t *testing.T) {
	t.Parallel()
	good := []Class{class("A", 1), class("B", 2)}
	require.NoError(t, Validate(good))
	bad := class("C", 0)
	bad.Tasks = append(bad.Tasks, Task{Name: "x", Weight: 0})
	err := Validate([]Class{bad, class("A", 1), class("A", 1)})
	require.Error(t, err)
	for _, want := range []string{"class C: weight 0", "task 1 (x): weight 0", "task 1 (x): no Run", "class A: defined twice"} {
		assert.Contains(t, err.Error(), want)
	}
	require.ErrorContains(t, Validate(nil), "no user classes")

	sel, err := Select(good, []string{"B"})
	require.NoError(t, err)
	require.Len(t, sel, 1)
	assert.Equal(t, "B", sel[0].Name)
	all, err := Select(good, nil)
	require.NoError(t, err)
	assert.Len(t, all, 2)
	_, err = Select(good, []string{"B", "Nope"})
	require.ErrorContains(t, err, "unknown user class Nope (known: A, B)")
	assert.Equal(t, []string{"A", "B"}, ParseNames(" A, ,B,"))
}

func TestParseTimespan(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"60s": time.Minute, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute, "60": time.Minute,
		"1.5": 1500 * time.Millisecond, "500ms": 500 * time.Millisecond, "3h30m10s": 3*time.Hour + 30*time.Minute + 10*time.Second,
	} {
		got, err := ParseTimespan(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "-5s", "-1", "soon", "5 minutes", "1e9"} {
		_, err := ParseTimespan(bad)
		assert.Error(t, err, bad)
	}
}
