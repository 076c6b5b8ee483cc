package fakeapi

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// referenceList is X-Agent's list_goals written the obvious way: filter,
// stable sort (reverse keeps equal keys in order, as Python does), clamp, slice.
func referenceList(goals []*goal, q listQuery) listResult {
	var out []*goal
	for _, g := range goals {
		if q.status != "" && q.status != "pending" {
			continue
		}
		if q.mode != "" && (q.mode == "continuous") != g.continuous {
			continue
		}
		if q.mode != "" && q.mode != "continuous" && q.mode != "goal_oriented" {
			continue
		}
		if int64(g.priority) < q.prioMin || int64(g.priority) > q.prioMax {
			continue
		}
		out = append(out, g)
	}
	key := func(g *goal) int64 {
		switch q.sortBy {
		case sortPriority:
			return int64(g.priority)
		case sortStatus:
			return 0
		}
		return g.created
	}
	slices.SortStableFunc(out, func(a, b *goal) int {
		ka, kb := key(a), key(b)
		if q.desc {
			ka, kb = kb, ka
		}
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	res := listResult{total: int64(len(out)), page: q.page, pageSize: q.pageSize, totalPages: 1}
	if len(out) == 0 {
		return res
	}
	res.totalPages = (res.total + q.pageSize - 1) / q.pageSize
	res.page = min(res.page, res.totalPages)
	start := (res.page - 1) * q.pageSize
	res.goals = out[start:min(int64(len(out)), start+q.pageSize)]
	return res
}

// TestStoreMatchesReference drives the ring store and the reference with the
// same random goals (with repeated and backwards timestamps) and queries.
func TestStoreMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		capacity := 1 + r.IntN(40)
		st := newGoalStore(capacity)
		var all []*goal
		clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		backwards := round%3 == 0
		for range r.IntN(120) {
			switch step := r.IntN(10); {
			case step < 3: // same microsecond
			case step == 3 && backwards:
				clock = clock.Add(-time.Duration(r.IntN(5)) * time.Microsecond)
			default:
				clock = clock.Add(time.Duration(1+r.IntN(3)) * time.Microsecond)
			}
			g := newGoal("d", r.IntN(3) == 0, 1+r.IntN(10), nil, clock)
			st.add(g)
			all = append(all, g)
			if len(all) > capacity {
				all = all[1:]
			}
		}
		for range 200 {
			q := listQuery{
				page:     1 + int64(r.IntN(6)),
				pageSize: 1 + int64(r.IntN(12)),
				prioMin:  1 + int64(r.IntN(10)),
				prioMax:  1 + int64(r.IntN(10)),
				sortBy:   sortKey(r.IntN(4)),
				desc:     r.IntN(2) == 0,
				status:   []string{"", "", "pending", "completed"}[r.IntN(4)],
				mode:     []string{"", "", "goal_oriented", "continuous", "other"}[r.IntN(5)],
			}
			if r.IntN(3) == 0 {
				q.prioMin, q.prioMax = 1, 10
			}
			got, want := st.list(q), referenceList(all, q)
			require.Equal(t, want.total, got.total, "round %d query %+v", round, q)
			require.Equal(t, want.page, got.page, "query %+v", q)
			require.Equal(t, want.totalPages, got.totalPages, "query %+v", q)
			require.Equal(t, ids(want.goals), ids(got.goals), "round %d query %+v", round, q)
		}
		require.Equal(t, len(all), st.summary())
		for _, g := range all {
			require.Same(t, g, st.get(g.id))
		}
	}
}

func ids(goals []*goal) []string {
	out := make([]string, len(goals))
	for i, g := range goals {
		out[i] = g.id
	}
	return out
}

func TestGoalIDsAreUUID4(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := newGoalID()
		require.Regexp(t, goalIDPattern, id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

func TestPythonRendering(t *testing.T) {
	t.Parallel()
	floats := map[float64]string{0: "0.0", 1: "1.0", 2.5: "2.5", 1e-05: "1e-05", 1e16: "1e+16", 123.456789: "123.456789"}
	for f, want := range floats {
		require.Equal(t, want, string(appendPyFloat(nil, f)))
	}
	require.Equal(t, `"a\"b\\c\n\u0001é<>&"`, string(appendStr(nil, "a\"b\\c\n\x01é<>&")))
	require.Equal(t, "\"\ufffd\"", string(appendStr(nil, "\xff")))
	ts := time.Date(2025, 1, 2, 3, 4, 5, 600_000, time.UTC)
	require.Equal(t, "2025-01-02T03:04:05.000600+00:00", string(appendISO(nil, ts)))
	require.Equal(t, "2025-01-02T03:04:05+00:00", string(appendISO(nil, ts.Truncate(time.Second))))
}
