package runner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/scenario"
)

func TestSegmentSharesSumToTheWhole(t *testing.T) {
	t.Parallel()
	for users := range 200 {
		for n := 1; n <= 17; n++ {
			sum, seen := 0, map[int]bool{}
			for i := range n {
				seg := Segment{Index: i, Count: n}
				share := seg.Share(users)
				sum += share
				for local := range share {
					g := seg.Global(local)
					require.False(t, seen[g], "user %d in two segments (users %d, n %d)", g, users, n)
					require.Less(t, g, users)
					seen[g] = true
				}
			}
			require.Equal(t, users, sum, "users %d over %d segments", users, n)
		}
	}
}

func TestParseSegment(t *testing.T) {
	t.Parallel()
	s, err := ParseSegment("2/4")
	require.NoError(t, err)
	assert.Equal(t, Segment{Index: 1, Count: 4}, s)
	assert.Equal(t, "2/4", s.String())
	assert.Equal(t, "", Segment{}.String())
	for _, bad := range []string{"", "2", "0/2", "3/2", "1/0", "a/b", "-1/2", "1/20000"} {
		_, err := ParseSegment(bad)
		assert.Error(t, err, bad)
	}
}

// Two segments of a run start, together, the users one process would, with the
// same classes; and the open model's arrivals split exactly. On the fake clock
// every run spawns all its users before its 300 ms end, however busy the
// machine (on the real one a starved spawner could miss some).
func TestSegmentsTogetherRunTheWhole(t *testing.T) {
	bubble(t, func(t *testing.T) {
		run := func(seg Segment, arrivals Arrivals) (map[string]int, Summary) {
			e := newEnv(t)
			ev := &events{}
			wait := scenario.Constant(time.Hour)
			classes := []scenario.Class{
				ev.hooks(cls("A", wait, scenario.Task{Name: "a", Weight: 1, Run: get("/a")})),
				ev.hooks(cls("B", wait, scenario.Task{Name: "b", Weight: 1, Run: get("/b")})),
			}
			classes[0].Weight = 3
			cfg := Config{Classes: classes, Users: 11, SpawnRate: 200, Duration: 300 * time.Millisecond, Grace: time.Second,
				Client: e.client, Recorder: e.rec, Segment: seg}
			if arrivals != nil {
				cfg.Arrivals, cfg.MaxInFlight, cfg.Duration = arrivals, 50, 0
			}
			sum, err := Run(t.Context(), cfg)
			require.NoError(t, err)
			e.rec.Close()
			return ev.start, sum
		}
		whole, sw := run(Segment{}, nil)
		a, sa := run(Segment{Index: 0, Count: 2}, nil)
		b, sb := run(Segment{Index: 1, Count: 2}, nil)
		assert.Equal(t, 11, sw.Spawned)
		assert.Equal(t, 6, sa.Spawned)
		assert.Equal(t, 5, sb.Spawned)
		assert.Equal(t, whole, map[string]int{"A": a["A"] + b["A"], "B": a["B"] + b["B"]}, "the same classes in all")

		sched := finite{n: 25, gap: 2 * time.Millisecond}
		_, oa := run(Segment{Index: 0, Count: 3}, sched)
		_, ob := run(Segment{Index: 1, Count: 3}, sched)
		_, oc := run(Segment{Index: 2, Count: 3}, sched)
		assert.EqualValues(t, 25, oa.Arrivals+ob.Arrivals+oc.Arrivals, "every arrival in exactly one segment")
		assert.EqualValues(t, []int64{9, 8, 8}, []int64{oa.Arrivals, ob.Arrivals, oc.Arrivals})
	})
}
