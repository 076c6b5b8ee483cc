package report

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"

	"github.com/xagent/perfharness/internal/stats"
)

// Locust's CSV header rows, byte for byte (Locust 2.x).
var (
	statsHeader = []string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
		"Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
		"Requests/s", "Failures/s"}
	historyHeader = []string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"}
	historyTotals = []string{"Total Request Count", "Total Failure Count", "Total Median Response Time",
		"Total Average Response Time", "Total Min Response Time", "Total Max Response Time", "Total Average Content Size"}
	failuresHeader   = []string{"Method", "Name", "Error", "Occurrences"}
	failureTimes     = []string{"First Seen", "Last Seen"}
	exceptionsHeader = []string{"Count", "Message", "Traceback", "Nodes"}
)

// CSV file suffixes after the -csv prefix, as Locust names them.
const (
	StatsSuffix      = "_stats.csv"
	HistorySuffix    = "_stats_history.csv"
	FailuresSuffix   = "_failures.csv"
	ExceptionsSuffix = "_exceptions.csv"
)

// newCSV returns a writer with Python's csv defaults (CRLF line ends), as Locust writes.
func newCSV(w io.Writer) *csv.Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

func percentileHeader() []string {
	out := make([]string, len(stats.Percentiles))
	for i, p := range stats.Percentiles {
		out[i] = PercentileLabel(p)
	}
	return out
}

// csvMS renders milliseconds at microsecond resolution ("0.52", "1200", "12.345"):
// Locust rounds percentiles to whole milliseconds, which hides sub-millisecond APIs.
func csvMS(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

func csvFloat(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

func csvInt(v int64) string { return strconv.FormatInt(v, 10) }

// na is Locust's percentile columns for an entry without requests.
func na() []string {
	out := make([]string, len(stats.Percentiles))
	for i := range out {
		out[i] = "N/A"
	}
	return out
}

// WriteStatsCSV writes Locust's PREFIX_stats.csv: a row per entry, then the aggregate.
func WriteStatsCSV(w io.Writer, s stats.Snapshot) error {
	cw := newCSV(w)
	cw.Write(append(append([]string(nil), statsHeader...), percentileHeader()...))
	row := func(method string, e stats.Entry) {
		rec := []string{method, e.Name, csvInt(e.Requests), csvInt(e.Failures), csvMS(e.ServiceMS(50)),
			csvMS(e.AvgMS()), csvMS(e.MinMS()), csvMS(e.MaxMS()), csvFloat(e.AvgContentBytes()),
			csvFloat(s.RPS(e)), csvFloat(s.FailPS(e))}
		if e.Requests == 0 {
			rec = append(rec, na()...)
		} else {
			for _, p := range stats.Percentiles {
				rec = append(rec, csvMS(e.ServiceMS(p)))
			}
		}
		cw.Write(rec)
	}
	for _, e := range s.Entries {
		row(e.Method, e)
	}
	row("", s.Total)
	cw.Flush()
	return cw.Error()
}

// WriteHistoryHeader writes the header row of Locust's PREFIX_stats_history.csv.
func WriteHistoryHeader(w io.Writer) error {
	cw := newCSV(w)
	h := append(append([]string(nil), historyHeader...), percentileHeader()...)
	cw.Write(append(h, historyTotals...))
	cw.Flush()
	return cw.Error()
}

// WriteHistoryRows writes the history rows of ticks: per tick, each entry's row
// (present with entry history), then the aggregate's. Percentiles are over the
// last stats.RecentWindow intervals, the totals cumulative.
func WriteHistoryRows(w io.Writer, ticks []stats.Tick) error {
	cw := newCSV(w)
	row := func(method, name string, p stats.Point) {
		rec := []string{strconv.FormatInt(p.Time.Unix(), 10), strconv.Itoa(p.Users), method, name,
			csvFloat(p.RPS), csvFloat(p.FailPS)}
		if p.TotalRequests == 0 {
			rec = append(rec, na()...)
		} else {
			for _, v := range p.RecentMS {
				rec = append(rec, csvMS(v))
			}
		}
		rec = append(rec, csvInt(p.TotalRequests), csvInt(p.TotalFailures), csvMS(p.TotalMedianMS),
			csvMS(p.TotalAvgMS), csvMS(p.TotalMinMS), csvMS(p.TotalMaxMS), csvFloat(p.TotalAvgBytes))
		cw.Write(rec)
	}
	for _, t := range ticks {
		for _, e := range t.Entries {
			row(e.Method, e.Name, e.Point)
		}
		row("", stats.TotalName, t.Total)
	}
	cw.Flush()
	return cw.Error()
}

// WriteHistoryCSV writes the whole PREFIX_stats_history.csv of a snapshot.
func WriteHistoryCSV(w io.Writer, s stats.Snapshot) error {
	if err := WriteHistoryHeader(w); err != nil {
		return err
	}
	return WriteHistoryRows(w, s.Ticks())
}

// WriteFailuresCSV writes Locust's PREFIX_failures.csv; with times, the First
// Seen and Last Seen columns of newer Locust versions (RFC 3339, UTC).
func WriteFailuresCSV(w io.Writer, s stats.Snapshot, times bool) error {
	cw := newCSV(w)
	h := append([]string(nil), failuresHeader...)
	if times {
		h = append(h, failureTimes...)
	}
	cw.Write(h)
	for _, f := range s.Failures {
		rec := []string{f.Method, f.Name, f.Error, csvInt(f.Occurrences)}
		if times {
			rec = append(rec, f.FirstSeen.UTC().Format(timeLayout), f.LastSeen.UTC().Format(timeLayout))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// WriteExceptionsCSV writes Locust's PREFIX_exceptions.csv; Nodes is "local",
// as Locust's local runner writes it.
func WriteExceptionsCSV(w io.Writer, s stats.Snapshot) error {
	cw := newCSV(w)
	cw.Write(exceptionsHeader)
	for _, x := range s.Exceptions {
		cw.Write([]string{csvInt(x.Count), x.Message, x.Traceback, "local"})
	}
	cw.Flush()
	return cw.Error()
}
