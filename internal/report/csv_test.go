package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/stats"
)

// Locust 2.x's header rows, copied from its CSV files.
const (
	locustStatsHeader      = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"
	locustHistoryHeader    = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size\r\n"
	locustFailuresHeader   = "Method,Name,Error,Occurrences\r\n"
	locustExceptionsHeader = "Count,Message,Traceback,Nodes\r\n"
)

// withHistory adds a two-second aggregate series to sample(), and with entries
// the same seconds for each entry.
func withHistory(entries bool) stats.Snapshot {
	s := sample()
	t0 := s.Start
	pt := func(sec int, reqs, total int64, recent float64) stats.Point {
		p := stats.Point{Time: t0.Add(time.Duration(sec) * time.Second), Users: 3, Requests: reqs, RPS: float64(reqs),
			TotalRequests: total, TotalMedianMS: 42.5, TotalAvgMS: 51.25, TotalMinMS: 10, TotalMaxMS: 218, TotalAvgBytes: 48.5}
		for i := range p.RecentMS {
			p.RecentMS[i] = recent + float64(i)
		}
		return p
	}
	s.Series = []stats.Point{pt(1, 0, 0, 0), pt(2, 111, 111, 20.125)}
	if entries {
		for i := range s.Entries {
			s.Entries[i].Series = []stats.Point{pt(2, int64(i+1), int64(i+1), 1.5)}
		}
	}
	return s
}

func render(t *testing.T, fn func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, fn(&buf))
	return buf.String()
}

func TestCSVHeadersAreLocustsByteForByte(t *testing.T) {
	s := withHistory(true)
	for _, c := range []struct {
		name, want string
		fn         func(*bytes.Buffer) error
	}{
		{"stats", locustStatsHeader, func(b *bytes.Buffer) error { return WriteStatsCSV(b, s) }},
		{"history", locustHistoryHeader, func(b *bytes.Buffer) error { return WriteHistoryCSV(b, s) }},
		{"failures", locustFailuresHeader, func(b *bytes.Buffer) error { return WriteFailuresCSV(b, s, false) }},
		{"exceptions", locustExceptionsHeader, func(b *bytes.Buffer) error { return WriteExceptionsCSV(b, s) }},
	} {
		out := render(t, c.fn)
		first, _, _ := strings.Cut(out, "\n")
		assert.Equal(t, c.want, first+"\n", c.name)
	}
	out := render(t, func(b *bytes.Buffer) error { return WriteFailuresCSV(b, s, true) })
	assert.True(t, strings.HasPrefix(out, "Method,Name,Error,Occurrences,First Seen,Last Seen\r\n"))
}

func TestCSVGolden(t *testing.T) {
	s := withHistory(true)
	golden(t, "run_stats.csv", []byte(render(t, func(b *bytes.Buffer) error { return WriteStatsCSV(b, s) })))
	golden(t, "run_stats_history.csv", []byte(render(t, func(b *bytes.Buffer) error { return WriteHistoryCSV(b, withHistory(false)) })))
	golden(t, "run_full_stats_history.csv", []byte(render(t, func(b *bytes.Buffer) error { return WriteHistoryCSV(b, s) })))
	golden(t, "run_failures.csv", []byte(render(t, func(b *bytes.Buffer) error { return WriteFailuresCSV(b, s, true) })))
	golden(t, "run_exceptions.csv", []byte(render(t, func(b *bytes.Buffer) error { return WriteExceptionsCSV(b, s) })))
}

func parseCSV(t *testing.T, text string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	require.NoError(t, err)
	return rows
}

func TestStatsCSVRowsMatchTheSnapshot(t *testing.T) {
	s := sample()
	rows := parseCSV(t, render(t, func(b *bytes.Buffer) error { return WriteStatsCSV(b, s) }))
	require.Len(t, rows, 1+len(s.Entries)+1)
	last := rows[len(rows)-1]
	assert.Equal(t, "", last[0], "the aggregate has no Type")
	assert.Equal(t, "Aggregated", last[1])
	assert.Equal(t, strconv.FormatInt(s.Total.Requests, 10), last[2])
	status := rows[2]
	require.Equal(t, "GET /status", status[1])
	e, _ := s.Entry("GET", "GET /status")
	p95, err := strconv.ParseFloat(status[16], 64)
	require.NoError(t, err)
	assert.InDelta(t, e.ServiceMS(95), p95, 0.0005, "95% column")
	rps, _ := strconv.ParseFloat(status[9], 64)
	assert.InDelta(t, s.RPS(e), rps, 1e-6)

	empty := stats.Snapshot{Total: stats.Entry{Name: stats.TotalName}, Start: s.Start, End: s.End}
	rows = parseCSV(t, render(t, func(b *bytes.Buffer) error { return WriteStatsCSV(b, empty) }))
	require.Len(t, rows, 2)
	assert.Equal(t, "N/A", rows[1][11], "percentiles of an entry without requests")
	assert.Equal(t, "0", rows[1][2])
}

func TestHistoryRowsPerEntryOnlyWithEntryHistory(t *testing.T) {
	plain := parseCSV(t, render(t, func(b *bytes.Buffer) error { return WriteHistoryCSV(b, withHistory(false)) }))
	assert.Len(t, plain, 1+2, "one aggregate row per second")
	assert.Equal(t, "N/A", plain[1][6], "no request yet: N/A percentiles")
	assert.Equal(t, "20.125", plain[2][6])
	full := parseCSV(t, render(t, func(b *bytes.Buffer) error { return WriteHistoryCSV(b, withHistory(true)) }))
	n := len(sample().Entries)
	require.Len(t, full, 1+1+n+1, "second 1: aggregate only; second 2: every entry, then the aggregate")
	assert.Equal(t, "Aggregated", full[len(full)-1][3])
	assert.Equal(t, "GET", full[2][2])
	assert.Equal(t, strconv.FormatInt(sample().Start.Add(2*time.Second).Unix(), 10), full[2][0])
}

func TestComparisonTableMarksRegressions(t *testing.T) {
	base := sample()
	cur := sample()
	cur.End = cur.Start.Add(40 * time.Second) // a quarter of the rate
	r := compare.Compare(base, cur, compare.DefaultLimits())
	r.Baseline = "base.json"
	out := render(t, func(b *bytes.Buffer) error { return WriteComparison(b, r) })
	golden(t, "comparison.txt", []byte(out))
	assert.Contains(t, out, "Compared with baseline base.json (limits: latency=10%,floor=1ms,rps=10%,failures=1)")
	assert.Contains(t, out, "REGRESSED: 75% fewer requests/s")
	assert.Contains(t, out, "not judged: p99 needs 500 requests")
}

// historyOf records a run in a synctest bubble (exact fake time) and renders
// its PREFIX_stats_history.csv rows, header left out.
func historyOf(t *testing.T, run func(rec *stats.Recorder)) [][]string {
	t.Helper()
	var rows [][]string
	synctest.Test(t, func(t *testing.T) {
		rec := stats.NewRecorder()
		run(rec)
		s := rec.Close()
		rows = parseCSV(t, render(t, func(b *bytes.Buffer) error { return WriteHistoryCSV(b, s) }))[1:]
	})
	return rows
}

// tenPerSecond records 10 requests in the next second, ending exactly on its tick.
func tenPerSecond(rec *stats.Recorder) {
	for range 10 {
		time.Sleep(50 * time.Millisecond)
		rec.Record(stats.Result{Method: "GET", Name: "/a", Start: time.Now(), Latency: time.Millisecond})
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHistoryLastRowOfARunEnding4msIntoASecond(t *testing.T) {
	rows := historyOf(t, func(rec *stats.Recorder) {
		rec.SetUsers(5)
		tenPerSecond(rec)
		tenPerSecond(rec)
		time.Sleep(4 * time.Millisecond)
		rec.Record(stats.Result{Method: "GET", Name: "/a", Start: time.Now(), Latency: time.Millisecond})
		rec.SetUsers(0)
	})
	require.Len(t, rows, 2, "the last 4 ms join the second before them")
	last := rows[1]
	assert.Equal(t, "5", last[1], "User Count: who ran")
	assert.Equal(t, "10.956175", last[4], "Requests/s: 11 requests over 1.004 s, not 1 over 4 ms (250/s)")
	assert.Equal(t, "21", last[17], "Total Request Count")
}

func TestHistoryKeepsTheRowsBeforeAStatisticsReset(t *testing.T) {
	rows := historyOf(t, func(rec *stats.Recorder) {
		rec.SetUsers(2)
		tenPerSecond(rec)
		tenPerSecond(rec)
		time.Sleep(time.Millisecond)
		rec.ResetStats()
		time.Sleep(999 * time.Millisecond)
		tenPerSecond(rec)
		synctest.Wait()
	})
	require.Len(t, rows, 4, "every second of the run")
	var totals, rps []string
	for _, r := range rows {
		rps, totals = append(rps, r[4]), append(totals, r[17])
	}
	assert.Equal(t, []string{"10", "20", "0", "10"}, totals, "cumulative columns restart at the reset")
	assert.Equal(t, []string{"10.000000", "10.000000", "0.000000", "10.000000"}, rps)
	assert.Equal(t, "N/A", rows[2][6], "no request since the reset yet")
}
