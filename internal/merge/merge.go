package merge

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/runfile"
	"github.com/xagent/perfharness/internal/stats"
)

// Named is one run file and the name errors and warnings call it by, e.g. its path.
type Named struct {
	Name string
	Run  runfile.Run
}

// Runs merges runs as Files does, naming them "run 1", "run 2"… in errors and warnings.
func Runs(runs []runfile.Run) (runfile.Run, []string, error) {
	named := make([]Named, len(runs))
	for i, r := range runs {
		named[i] = Named{Name: "run " + strconv.Itoa(i+1), Run: r}
	}
	return Files(named)
}

// Files merges the run files of the segments of one distributed run into one
// Run (see the package doc for what is exact). It refuses files that are not
// segments of the same run; the warnings say what the merged run lacks, e.g.
// missing segments. The inputs are not modified.
func Files(named []Named) (runfile.Run, []string, error) {
	segs, err := check(named)
	if err != nil {
		return runfile.Run{}, nil, err
	}
	// Merge in segment order; an unsegmented run is alone.
	order := make([]int, len(named))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(segs[a].first(), segs[b].first()) })
	in := make([]part, len(order))
	for k, i := range order {
		in[k] = part{name: named[i].Name, seg: segs[i], run: &named[i].Run}
	}

	var warnings []string
	n := segs[0].n
	covered := make(map[int]bool)
	for _, p := range in {
		for _, i := range p.seg.idx {
			covered[i] = true
		}
	}
	if n > 0 {
		var missing []int
		for i := 1; i <= n; i++ {
			if !covered[i] {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 {
			word := "segment"
			if len(missing) > 1 {
				word = "segments"
			}
			warnings = append(warnings, fmt.Sprintf("%s %s missing: the totals cover %d of %d segments",
				word, formatSegment(missing, n), n-len(missing), n))
		}
	}

	meta, w := mergeMeta(in, covered, n)
	warnings = append(warnings, w...)
	snap, err := mergeStats(in, meta.EntryHistory)
	if err != nil {
		return runfile.Run{}, nil, err
	}
	if peak := peakUsers(snap.Series); peak > 0 {
		meta.Users = peak
	}
	for _, p := range in {
		if p.run.Server != nil {
			warnings = append(warnings, "the server's view of the run is not merged: each segment watched the same server")
			break
		}
	}
	return runfile.Run{Meta: meta, Stats: snap, Generator: mergeGenerator(in)}, warnings, nil
}

// part is one input in merge order.
type part struct {
	name string
	seg  segment
	run  *runfile.Run
}

// label prefixes a segment's own reasons and notes.
func (p part) label() string {
	if p.run.Meta.Segment == "" {
		return ""
	}
	return "segment " + p.run.Meta.Segment + ": "
}

// segment is a parsed Meta.Segment: the 1-based indices covered, of n; n is 0 for a whole run.
type segment struct {
	idx []int
	n   int
}

func (s segment) first() int {
	if len(s.idx) == 0 {
		return 0
	}
	return s.idx[0]
}

// maxSegments bounds n, as -segment does.
const maxSegments = 10_000

// parseSegment reads "i/n", or a merged run's list such as "1,2/4" or "1-3,5/6".
func parseSegment(s string) (segment, error) {
	if s == "" {
		return segment{}, nil
	}
	list, den, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(den)
	if !ok || err != nil || n < 1 || n > maxSegments {
		return segment{}, fmt.Errorf("segment %q: want i/n with 1 <= i <= n <= %d", s, maxSegments)
	}
	var seg segment
	seg.n = n
	seen := make(map[int]bool)
	for item := range strings.SplitSeq(list, ",") {
		a, b, isRange := strings.Cut(item, "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > n {
			return segment{}, fmt.Errorf("segment %q: want i/n with 1 <= i <= n <= %d", s, maxSegments)
		}
		for i := lo; i <= hi; i++ {
			if seen[i] {
				return segment{}, fmt.Errorf("segment %q lists segment %d twice", s, i)
			}
			seen[i] = true
			seg.idx = append(seg.idx, i)
		}
	}
	slices.Sort(seg.idx)
	return seg, nil
}

// formatSegment writes indices of n as "1,2/3" or "1-3/3": runs of three or more as ranges.
func formatSegment(idx []int, n int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		switch {
		case j-i >= 2:
			fmt.Fprintf(&b, "%d-%d", idx[i], idx[j])
		case j == i+1:
			fmt.Fprintf(&b, "%d,%d", idx[i], idx[j])
		default:
			b.WriteString(strconv.Itoa(idx[i]))
		}
		i = j + 1
	}
	fmt.Fprintf(&b, "/%d", n)
	return b.String()
}

// check refuses inputs that cannot be segments of one run and returns their parsed segments.
func check(named []Named) ([]segment, error) {
	if len(named) == 0 {
		return nil, errors.New("no run files to merge")
	}
	segs := make([]segment, len(named))
	for i, f := range named {
		s, err := parseSegment(f.Run.Meta.Segment)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		segs[i] = s
	}
	ref, rm := named[0], named[0].Run.Meta
	for i, f := range named[1:] {
		m, s := f.Run.Meta, segs[i+1]
		switch {
		case m.Scenario != rm.Scenario:
			return nil, fmt.Errorf("%s: scenario %s, but %s ran %s", f.Name, m.Scenario, ref.Name, rm.Scenario)
		case m.Host != rm.Host:
			return nil, fmt.Errorf("%s: host %s, but %s ran against %s", f.Name, m.Host, ref.Name, rm.Host)
		case s.n == 0 && segs[0].n != 0:
			return nil, fmt.Errorf("%s has no segment, but %s is segment %s", f.Name, ref.Name, rm.Segment)
		case s.n != 0 && segs[0].n == 0:
			return nil, fmt.Errorf("%s is segment %s, but %s has no segment", f.Name, m.Segment, ref.Name)
		case s.n != segs[0].n:
			return nil, fmt.Errorf("%s: segment %s of %d, but %s is segment %s of %d",
				f.Name, m.Segment, s.n, ref.Name, rm.Segment, segs[0].n)
		case s.n == 0:
			return nil, fmt.Errorf("%s and %s are whole runs, not segments of one run (no segment)", ref.Name, f.Name)
		case f.Run.Generator.Model != ref.Run.Generator.Model:
			return nil, fmt.Errorf("%s: model %s, but %s ran model %s",
				f.Name, f.Run.Generator.Model, ref.Name, ref.Run.Generator.Model)
		}
	}
	owner := make(map[int]int)
	for i, s := range segs {
		for _, x := range s.idx {
			if j, dup := owner[x]; dup {
				return nil, fmt.Errorf("%s and %s are both segment %d/%d", named[j].Name, named[i].Name, x, s.n)
			}
			owner[x] = i
		}
	}
	return segs, nil
}

// Stop reasons of a run that ran its course (package runner's StopDuration and StopShape).
const (
	stopDuration = "duration reached"
	stopShape    = "shape ended"
)

func mergeMeta(in []part, covered map[int]bool, n int) (runfile.Meta, []string) {
	var warnings []string
	m := in[0].run.Meta
	m.Classes = nil
	m.Users, m.SpawnRate = 0, 0
	m.Start, m.End = time.Time{}, time.Time{}
	m.EntryHistory = true
	m.StartLate = 0
	stopped := ""
	withHistory, without := 0, ""
	seenClass := make(map[string]bool)
	for _, p := range in {
		pm := p.run.Meta
		m.Users += pm.Users // what the segments asked for; Files replaces it with what their series show ran
		m.SpawnRate += pm.SpawnRate
		m.Start = minTime(m.Start, pm.Start)
		m.End = maxTime(m.End, pm.End)
		m.StartLate = max(m.StartLate, pm.StartLate)
		for _, c := range pm.Classes {
			if !seenClass[c] {
				seenClass[c] = true
				m.Classes = append(m.Classes, c)
			}
		}
		if pm.EntryHistory {
			withHistory++
		} else {
			m.EntryHistory = false
			if without == "" {
				without = p.name
			}
		}
		if early := pm.Stopped != "" && pm.Stopped != stopDuration && pm.Stopped != stopShape; early {
			if stopped == "" {
				stopped = pm.Stopped
			}
			if len(in) > 1 {
				warnings = append(warnings, fmt.Sprintf("%s stopped early: %s", p.name, pm.Stopped))
			}
		}
		if pm.Duration != m.Duration {
			warnings = append(warnings, fmt.Sprintf("%s: duration %v, but %s asked for %v", p.name, pm.Duration, in[0].name, m.Duration))
		}
		if pm.Harness != m.Harness {
			warnings = append(warnings, fmt.Sprintf("%s: written by harness %s, but %s by %s", p.name, pm.Harness, in[0].name, m.Harness))
		}
	}
	if stopped != "" {
		m.Stopped = stopped
	}
	if withHistory > 0 && !m.EntryHistory {
		warnings = append(warnings, fmt.Sprintf("entries' time series dropped: %s kept none", without))
	}
	if n > 0 {
		idx := make([]int, 0, len(covered))
		for i := range covered {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		m.Segment = formatSegment(idx, n)
	}
	return m, warnings
}

// peakUsers is the most users the series shows running at once: in a merged
// series, the most the segments ran together in one second.
func peakUsers(series []stats.Point) int {
	peak := 0
	for _, p := range series {
		peak = max(peak, p.Users)
	}
	return peak
}

func mergeGenerator(in []part) runfile.Generator {
	g := in[0].run.Generator
	g.Rate, g.MaxInFlight = 0, 0
	g.Arrivals, g.Iterations, g.Dropped = 0, 0, 0
	g.Lag = in[0].run.Generator.Lag
	g.Lag.Count = 0
	g.Runtime.GCCycles, g.Runtime.Goroutines, g.Runtime.GOMAXPROCS, g.Runtime.GCPauseTotalMS = 0, 0, 0, 0
	g.Runtime.Notes = nil
	g.Saturated = false
	g.Reasons, g.Notes, g.Advice = nil, nil, ""
	for _, p := range in {
		pg := p.run.Generator
		g.Rate += pg.Rate
		g.MaxInFlight += pg.MaxInFlight
		g.Arrivals += pg.Arrivals
		g.Iterations += pg.Iterations
		g.Dropped += pg.Dropped

		g.Lag.Count += pg.Lag.Count
		g.Lag.P50MS = max(g.Lag.P50MS, pg.Lag.P50MS)
		g.Lag.P90MS = max(g.Lag.P90MS, pg.Lag.P90MS)
		g.Lag.P99MS = max(g.Lag.P99MS, pg.Lag.P99MS)
		g.Lag.MaxMS = max(g.Lag.MaxMS, pg.Lag.MaxMS)

		rt, prt := &g.Runtime, pg.Runtime
		rt.Wall = max(rt.Wall, prt.Wall)
		rt.SchedLatencyP99MS = max(rt.SchedLatencyP99MS, prt.SchedLatencyP99MS)
		rt.SchedLatencyMaxMS = max(rt.SchedLatencyMaxMS, prt.SchedLatencyMaxMS)
		rt.GCPauseP99MS = max(rt.GCPauseP99MS, prt.GCPauseP99MS)
		rt.GCPauseTotalMS += prt.GCPauseTotalMS
		rt.CPUUtilPct = max(rt.CPUUtilPct, prt.CPUUtilPct)
		rt.GCCycles += prt.GCCycles
		rt.Goroutines += prt.Goroutines
		rt.GOMAXPROCS += prt.GOMAXPROCS
		if rt.CPUSource == "" {
			rt.CPUSource = prt.CPUSource
		}
		rt.Notes = appendPrefixed(rt.Notes, p.label(), prt.Notes)

		g.Saturated = g.Saturated || pg.Saturated
		g.Reasons = appendPrefixed(g.Reasons, p.label(), pg.Reasons)
		g.Notes = appendPrefixed(g.Notes, p.label(), pg.Notes)
		if g.Advice == "" {
			g.Advice = pg.Advice
		}
	}
	return g
}

func appendPrefixed(dst []string, prefix string, src []string) []string {
	for _, s := range src {
		dst = append(dst, prefix+s)
	}
	return dst
}

// minTime is the earlier of a and b, ignoring zero times.
func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// maxTime is the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
