package merge

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/xagent/perfharness/internal/stats"
)

// mergeStats merges the segments' snapshots; entries keep their series only with entryHistory.
func mergeStats(in []part, entryHistory bool) (stats.Snapshot, error) {
	var s stats.Snapshot
	s.Total = emptyEntry("", stats.TotalName)
	entries := make(map[stats.Key]*stats.Entry)
	entrySeries := make(map[stats.Key][]seriesPart)
	aggSeries := make([]seriesPart, 0, len(in))
	failures := make(map[failKey]*stats.Failure)
	exceptions := make(map[string]*stats.Exception)
	var excOrder []string

	for _, p := range in {
		ps := &p.run.Stats
		s.Start = minTime(s.Start, ps.Start)
		s.End = maxTime(s.End, ps.End)
		s.Users += ps.Users
		if err := mergeEntry(&s.Total, ps.Total); err != nil {
			return stats.Snapshot{}, fmt.Errorf("%s: %w", p.name, err)
		}
		timeline := make([]time.Time, len(ps.Series))
		for i, pt := range ps.Series {
			timeline[i] = pt.Time
		}
		slices.SortFunc(timeline, time.Time.Compare)
		aggSeries = append(aggSeries, seriesPart{points: ps.Series, timeline: timeline, start: ps.Start})

		for _, e := range ps.Entries {
			k := stats.Key{Method: e.Method, Name: e.Name}
			m := entries[k]
			if m == nil {
				ne := emptyEntry(e.Method, e.Name)
				m = &ne
				entries[k] = m
			}
			if err := mergeEntry(m, e); err != nil {
				return stats.Snapshot{}, fmt.Errorf("%s: %w", p.name, err)
			}
			if entryHistory {
				entrySeries[k] = append(entrySeries[k], seriesPart{points: e.Series, timeline: timeline, start: ps.Start})
			}
		}
		for _, f := range ps.Failures {
			k := failKey{f.Method, f.Name, f.Error}
			m := failures[k]
			if m == nil {
				m = &stats.Failure{Method: f.Method, Name: f.Name, Error: f.Error}
				failures[k] = m
			}
			m.Occurrences += f.Occurrences
			m.FirstSeen = minTime(m.FirstSeen, f.FirstSeen)
			m.LastSeen = maxTime(m.LastSeen, f.LastSeen)
		}
		for _, x := range ps.Exceptions {
			m := exceptions[x.Message]
			if m == nil {
				m = &stats.Exception{Message: x.Message}
				exceptions[x.Message] = m
				excOrder = append(excOrder, x.Message)
			}
			m.Count += x.Count
			if m.Traceback == "" {
				m.Traceback = x.Traceback
			}
		}
	}

	s.Entries = make([]stats.Entry, 0, len(entries))
	var sum stats.Entry
	for k, e := range entries {
		sum.Requests += e.Requests
		sum.Failures += e.Failures
		if entryHistory {
			e.Series = mergeSeries(entrySeries[k])
		}
		s.Entries = append(s.Entries, *e)
	}
	if sum.Requests != s.Total.Requests || sum.Failures != s.Total.Failures {
		return stats.Snapshot{}, inconsistent(in, sum, s.Total)
	}
	slices.SortFunc(s.Entries, func(a, b stats.Entry) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Method, b.Method))
	})
	s.Series = mergeSeries(aggSeries)

	if len(failures) > 0 {
		s.Failures = make([]stats.Failure, 0, len(failures))
		for _, f := range failures {
			s.Failures = append(s.Failures, *f)
		}
		slices.SortFunc(s.Failures, func(a, b stats.Failure) int {
			return cmp.Or(cmp.Compare(b.Occurrences, a.Occurrences), cmp.Compare(a.Name, b.Name),
				cmp.Compare(a.Method, b.Method), cmp.Compare(a.Error, b.Error))
		})
	}
	for _, m := range excOrder {
		s.Exceptions = append(s.Exceptions, *exceptions[m])
	}
	return s, nil
}

type failKey struct{ method, name, err string }

func emptyEntry(method, name string) stats.Entry {
	return stats.Entry{Method: method, Name: name, Service: stats.NewHistogram(), Response: stats.NewHistogram()}
}

// mergeEntry adds o into e with stats.Entry.Merge, refusing an entry whose histogram is missing.
func mergeEntry(e *stats.Entry, o stats.Entry) error {
	if o.Requests > 0 && o.Service == nil {
		return fmt.Errorf("entry %s has %d requests but no histogram", o.Label(), o.Requests)
	}
	if o.Requests > 0 && o.Service.TotalCount() != o.Requests {
		return fmt.Errorf("entry %s has %d requests but %d in its histogram", o.Label(), o.Requests, o.Service.TotalCount())
	}
	e.Merge(o)
	return nil
}

// inconsistent explains totals that do not match their entries, naming the file at fault.
func inconsistent(in []part, sum, total stats.Entry) error {
	for _, p := range in {
		var req, fail int64
		for _, e := range p.run.Stats.Entries {
			req += e.Requests
			fail += e.Failures
		}
		if t := p.run.Stats.Total; req != t.Requests || fail != t.Failures {
			return fmt.Errorf("inconsistent totals: %s's entries add up to %d requests and %d failures, its total to %d and %d",
				p.name, req, fail, t.Requests, t.Failures)
		}
	}
	return fmt.Errorf("inconsistent totals: the entries add up to %d requests and %d failures, the totals to %d and %d",
		sum.Requests, sum.Failures, total.Requests, total.Failures)
}
