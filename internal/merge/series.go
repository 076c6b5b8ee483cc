package merge

import (
	"slices"
	"sort"
	"time"

	"github.com/xagent/perfharness/internal/stats"
)

// seriesPart is one segment's series (the aggregate's or an entry's).
type seriesPart struct {
	points []stats.Point
	// timeline is the segment's interval ends (its aggregate series' times,
	// sorted) and start its snapshot's start: a point's interval runs from the
	// interval end before it (or start) to its time.
	timeline []time.Time
	start    time.Time
}

// second is one segment's point for one wall-clock second.
type second struct {
	sec int64 // Unix seconds of the point's time, truncated
	p   stats.Point
}

// mergeSeries aligns the segments' points on the second and merges each
// second's points (see the package doc); nil when no segment has a point.
func mergeSeries(parts []seriesPart) []stats.Point {
	segs := make([][]second, len(parts))
	var secs []int64
	for i, sp := range parts {
		segs[i] = bySecond(sp)
		for _, s := range segs[i] {
			secs = append(secs, s.sec)
		}
	}
	if len(secs) == 0 {
		return nil
	}
	slices.Sort(secs)
	secs = slices.Compact(secs)

	out := make([]stats.Point, 0, len(secs))
	pos := make([]int, len(segs))
	last := make([]*stats.Point, len(segs)) // each segment's latest point so far, carried forward
	cur := make([]*stats.Point, len(segs))  // each segment's point in this second, nil without one
	for _, sec := range secs {
		var m stats.Point
		for i, list := range segs {
			cur[i] = nil
			if pos[i] < len(list) && list[pos[i]].sec == sec {
				cur[i] = &list[pos[i]].p
				last[i] = cur[i]
				pos[i]++
			}
		}
		var (
			reqW, cumW       float64
			nCur             int
			avgMS, avgBytes  float64
			median           float64
			p50, p95         float64
			resp50, resp95   float64
			recent           [stats.NumPercentiles]float64
			haveMin          bool
			plain50, plain95 float64 // unweighted sums, for a second with no requests
			plainR50         float64
			plainR95         float64
			plainRecent      [stats.NumPercentiles]float64
		)
		for i, c := range cur {
			l := last[i]
			switch {
			case c != nil:
				m.Users += c.Users
			case l != nil && pos[i] < len(segs[i]):
				m.Users += l.Users // a gap in a segment still running
			}
			if l != nil {
				m.TotalRequests += l.TotalRequests
				m.TotalFailures += l.TotalFailures
				m.TotalMaxMS = max(m.TotalMaxMS, l.TotalMaxMS)
				if l.TotalRequests > 0 {
					if !haveMin || l.TotalMinMS < m.TotalMinMS {
						m.TotalMinMS = l.TotalMinMS
					}
					haveMin = true
					w := float64(l.TotalRequests)
					cumW += w
					avgMS += w * l.TotalAvgMS
					avgBytes += w * l.TotalAvgBytes
					median += w * l.TotalMedianMS
				}
			}
			if c == nil {
				continue
			}
			nCur++
			if c.Time.After(m.Time) {
				m.Time = c.Time
			}
			m.Requests += c.Requests
			m.Failures += c.Failures
			m.RPS += c.RPS
			m.FailPS += c.FailPS
			w := float64(c.Requests)
			reqW += w
			p50 += w * c.P50MS
			p95 += w * c.P95MS
			resp50 += w * c.RespP50MS
			resp95 += w * c.RespP95MS
			plain50 += c.P50MS
			plain95 += c.P95MS
			plainR50 += c.RespP50MS
			plainR95 += c.RespP95MS
			for j, v := range c.RecentMS {
				recent[j] += w * v
				plainRecent[j] += v
			}
		}
		if cumW > 0 {
			m.TotalAvgMS = avgMS / cumW
			m.TotalAvgBytes = avgBytes / cumW
			m.TotalMedianMS = median / cumW
		}
		if reqW > 0 {
			m.P50MS, m.P95MS = p50/reqW, p95/reqW
			m.RespP50MS, m.RespP95MS = resp50/reqW, resp95/reqW
			for j := range recent {
				m.RecentMS[j] = recent[j] / reqW
			}
		} else {
			n := float64(nCur)
			m.P50MS, m.P95MS = plain50/n, plain95/n
			m.RespP50MS, m.RespP95MS = plainR50/n, plainR95/n
			for j := range plainRecent {
				m.RecentMS[j] = plainRecent[j] / n
			}
		}
		out = append(out, m)
	}
	return out
}

// bySecond groups a segment's points by second, in time order, merging the
// points that fall in the same second (a short final interval, or intervals
// under a second).
func bySecond(sp seriesPart) []second {
	pts := slices.Clone(sp.points)
	slices.SortStableFunc(pts, func(a, b stats.Point) int { return a.Time.Compare(b.Time) })
	var out []second
	for i := 0; i < len(pts); {
		sec := secondOf(pts[i].Time)
		j := i + 1
		for j < len(pts) && secondOf(pts[j].Time) == sec {
			j++
		}
		out = append(out, second{sec: sec, p: collapse(pts[i:j], sp)})
		i = j
	}
	return out
}

func secondOf(t time.Time) int64 { return t.UTC().Truncate(time.Second).Unix() }

// collapse merges one segment's points of one second: the most users of any
// of them (a short final point of an older run file shows 0, the users that
// had ended by then); the latest point's cumulative columns and recent
// percentiles; the requests and failures added, over the intervals' total
// length; the interval percentiles weighted by requests.
func collapse(pts []stats.Point, sp seriesPart) stats.Point {
	if len(pts) == 1 {
		return pts[0]
	}
	c := pts[len(pts)-1]
	c.Requests, c.Failures = 0, 0
	var dur time.Duration
	var rps, failPS, p50, p95, r50, r95 float64
	for _, p := range pts {
		c.Users = max(c.Users, p.Users)
		c.Requests += p.Requests
		c.Failures += p.Failures
		rps += p.RPS
		failPS += p.FailPS
		dur += p.Time.Sub(sp.intervalStart(p.Time))
		w := float64(p.Requests)
		p50 += w * p.P50MS
		p95 += w * p.P95MS
		r50 += w * p.RespP50MS
		r95 += w * p.RespP95MS
	}
	if secs := dur.Seconds(); secs > 0 {
		c.RPS = float64(c.Requests) / secs
		c.FailPS = float64(c.Failures) / secs
	} else {
		c.RPS, c.FailPS = rps/float64(len(pts)), failPS/float64(len(pts))
	}
	if w := float64(c.Requests); w > 0 {
		c.P50MS, c.P95MS, c.RespP50MS, c.RespP95MS = p50/w, p95/w, r50/w, r95/w
	}
	return c
}

// intervalStart is when the interval ending at t began: the interval end before t, or the start.
func (sp seriesPart) intervalStart(t time.Time) time.Time {
	i := sort.Search(len(sp.timeline), func(i int) bool { return !sp.timeline[i].Before(t) })
	if i > 0 {
		return sp.timeline[i-1]
	}
	if sp.start.IsZero() || sp.start.After(t) {
		return t
	}
	return sp.start
}
