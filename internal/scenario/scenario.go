// Package scenario describes load as data: user classes with weights, wait times,
// start/stop hooks and weighted tasks, and the rules that spread users across
// classes and pick tasks exactly as Locust does. It runs nothing itself.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/client"
)

// User is one simulated user: its HTTP session, its random source and the
// state its class keeps between tasks. A User is used by one goroutine.
type User struct {
	ID    int
	Class string
	HTTP  *client.Session
	Rand  *rand.Rand
	// State is the class's per-user state, made by Class.NewState.
	State any
	// Intended is when the schedule wanted the current task to start; the first
	// request of the task is timed from it. Zero means "when it was sent".
	Intended time.Time
}

// Do sends one request of the current task, timed from the task's intended start
// if it is the task's first request.
func (u *User) Do(ctx context.Context, req client.Request) client.Response {
	intended := u.Intended
	u.Intended = time.Time{}
	return u.HTTP.Do(ctx, req, intended)
}

// Task is one weighted action of a user class. Run returns an error only for
// harness-side problems (recorded as exceptions); request failures are recorded
// by the requests themselves.
type Task struct {
	Name   string
	Weight int
	Run    func(ctx context.Context, u *User) error
}

// Hook runs on a user's start or stop.
type Hook func(ctx context.Context, u *User) error

// Class is a kind of user, like a Locust User class.
type Class struct {
	Name     string
	Weight   int
	Wait     Wait
	Tasks    []Task
	OnStart  Hook
	OnStop   Hook
	NewState func() any
}

// Validate reports every problem of the class.
func (c Class) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, errors.New("class has no name"))
	}
	if c.Weight < 1 {
		errs = append(errs, fmt.Errorf("class %s: weight %d must be at least 1", c.Name, c.Weight))
	}
	if err := c.Wait.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("class %s: %w", c.Name, err))
	}
	if len(c.Tasks) == 0 {
		errs = append(errs, fmt.Errorf("class %s: no tasks", c.Name))
	}
	for i, t := range c.Tasks {
		if t.Weight < 1 {
			errs = append(errs, fmt.Errorf("class %s: task %d (%s): weight %d must be at least 1", c.Name, i, t.Name, t.Weight))
		}
		if t.Run == nil {
			errs = append(errs, fmt.Errorf("class %s: task %d (%s): no Run function", c.Name, i, t.Name))
		}
	}
	return errors.Join(errs...)
}

// Validate checks a set of classes: each valid, names unique, at least one.
func Validate(classes []Class) error {
	if len(classes) == 0 {
		return errors.New("no user classes")
	}
	var errs []error
	seen := map[string]bool{}
	for _, c := range classes {
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("class %s: defined twice", c.Name))
		}
		seen[c.Name] = true
	}
	return errors.Join(errs...)
}

// Select returns the named classes, in the given order of classes; no names means all.
func Select(classes []Class, names []string) ([]Class, error) {
	if len(names) == 0 {
		return classes, nil
	}
	var out []Class
	var unknown []string
	for _, n := range names {
		i := slices.IndexFunc(classes, func(c Class) bool { return c.Name == n })
		if i < 0 {
			unknown = append(unknown, n)
			continue
		}
		if !slices.ContainsFunc(out, func(c Class) bool { return c.Name == n }) {
			out = append(out, classes[i])
		}
	}
	if len(unknown) > 0 {
		known := make([]string, len(classes))
		for i, c := range classes {
			known[i] = c.Name
		}
		return nil, fmt.Errorf("unknown user class %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// ParseNames splits a -classes value: comma-separated, blanks ignored.
func ParseNames(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SpawnOrder returns the class index of each of n users in the order they start.
// Like Locust's dispatcher, classes are taken sorted by name and interleaved by
// smooth weighted round robin, so 10 users over three equal classes are 4, 3, 3
// and every prefix of the order is as balanced as it can be.
func SpawnOrder(classes []Class, n int) []int {
	if len(classes) == 0 || n <= 0 {
		return nil
	}
	idx := make([]int, len(classes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(classes[a].Name, classes[b].Name) })
	total := 0
	for _, c := range classes {
		total += max(c.Weight, 1)
	}
	current := make([]int, len(classes))
	order := make([]int, n)
	for u := range n {
		best := -1
		for _, i := range idx {
			current[i] += max(classes[i].Weight, 1)
			if best < 0 || current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order[u] = best
	}
	return order
}

// Distribute returns how many of n users each class gets (see SpawnOrder).
func Distribute(classes []Class, n int) []int {
	counts := make([]int, len(classes))
	for _, i := range SpawnOrder(classes, n) {
		counts[i]++
	}
	return counts
}

// Picker picks an index with probability proportional to its weight, as
// Locust's random.choice over a list with each task repeated weight times.
type Picker struct {
	cum []int
}

// NewPicker builds a picker; weights must be positive.
func NewPicker(weights []int) Picker {
	cum := make([]int, len(weights))
	sum := 0
	for i, w := range weights {
		sum += w
		cum[i] = sum
	}
	return Picker{cum: cum}
}

// Pick returns a weighted random index.
func (p Picker) Pick(r *rand.Rand) int {
	if len(p.cum) == 1 {
		return 0
	}
	x := r.IntN(p.cum[len(p.cum)-1])
	i, _ := slices.BinarySearch(p.cum, x+1)
	return i
}

// TaskPicker returns the picker of a class's tasks.
func (c Class) TaskPicker() Picker {
	w := make([]int, len(c.Tasks))
	for i, t := range c.Tasks {
		w[i] = t.Weight
	}
	return NewPicker(w)
}
