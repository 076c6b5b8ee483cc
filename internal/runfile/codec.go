package runfile

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/saturation"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// FileFormat is the value of a run file's "format" key.
const FileFormat = "xagent-perf-run"

// FileVersion is the schema version Encode writes and the newest Decode reads.
const FileVersion = 1

// decodeLimits bound what Decode accepts from untrusted input. They are a
// variable only so that tests can lower them; the package doc lists the values.
type decodeLimits struct {
	fileBytes      int // whole input
	entries        int // stats.entries
	points         int // series points of the whole run: stats.series plus every entry's
	failures       int // stats.failures
	exceptions     int // stats.exceptions
	checks         int
	alerts         int
	rows           int // baseline.rows
	strings        int // elements of each list of strings (meta.classes, verdict.reasons, baseline.only_in_*)
	nameBytes      int // names, labels, metrics, URLs, file names, versions
	messageBytes   int // error and one-line messages
	tracebackBytes int // exception tracebacks
	histBytes      int // base64 text of one histogram
	depth          int // JSON nesting
}

var limits = decodeLimits{
	fileBytes:      512 << 20,
	entries:        10_000,
	points:         1_000_000,
	failures:       100_000,
	exceptions:     10_000,
	checks:         100_000,
	alerts:         1_000,
	rows:           100_000,
	strings:        100_000,
	nameBytes:      4 << 10,
	messageBytes:   64 << 10,
	tracebackBytes: 1 << 20,
	histBytes:      1 << 20,
	depth:          64,
}

// objects and elements bound the JSON structure before it is decoded at all,
// so that a small file of empty objects or arrays cannot make the decoder
// allocate far more than its own size: every series point is one object with
// an 11-element array, and everything else in a run file fits in the slack.
func (l decodeLimits) objects() int  { return l.points + 500_000 }
func (l decodeLimits) elements() int { return 12*l.points + 1_000_000 }

// Encode writes run as one indented JSON document (see the package doc for the
// schema). The same Run always gives the same bytes. Encode writes any Run,
// including one that breaks the invariants Decode checks; every Run built from a
// stats.Recorder snapshot satisfies them. NaN and infinite floats are written
// as null. It fails only when a histogram cannot be encoded or w fails.
func Encode(w io.Writer, run Run) error {
	wr, err := toWire(run)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(wr); err != nil {
		return fmt.Errorf("run file: encode: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("run file: write: %w", err)
	}
	return nil
}

// Decode reads one run file, validating it as untrusted input: every error
// starts with "run file: " and names the JSON path of the problem, e.g.
// "run file: stats.entries[3].failures: 12 failures but 10 requests". Keys it
// does not know are ignored, keys it knows but finds missing read as zero
// values; the limits and checks are listed in the package doc.
func Decode(r io.Reader) (Run, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limits.fileBytes)+1))
	if err != nil {
		return Run{}, fmt.Errorf("run file: read: %w", err)
	}
	if len(data) > limits.fileBytes {
		return Run{}, fmt.Errorf("run file: larger than the %s limit", byteSize(limits.fileBytes))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Run{}, errors.New("run file: empty input, not a run file")
	}
	if err := checkHead(data); err != nil {
		return Run{}, err
	}
	if err := checkStructure(data); err != nil {
		return Run{}, err
	}
	var wr wireRun
	if err := json.Unmarshal(data, &wr); err != nil {
		return Run{}, jsonError(data, err)
	}
	run, err := fromWire(&wr)
	if err != nil {
		return Run{}, err
	}
	return run, nil
}

// ---- Wire types: the JSON schema, key by key. ----

type wireRun struct {
	Format    string        `json:"format"`
	Version   int           `json:"version"`
	Meta      wireMeta      `json:"meta"`
	Stats     wireStats     `json:"stats"`
	Checks    []wireCheck   `json:"checks"`
	Alerts    []wireAlert   `json:"alerts"`
	Verdict   wireVerdict   `json:"verdict"`
	Baseline  *wireBaseline `json:"baseline"`
	Generator wireGenerator `json:"generator"`
	Server    *wireServer   `json:"server"`
}

type wireGenerator struct {
	Model       string      `json:"model"`
	Rate        jfloat      `json:"rate"`
	MaxInFlight int         `json:"max_inflight"`
	Shape       string      `json:"shape"`
	Clock       string      `json:"clock"`
	Arrivals    int64       `json:"arrivals"`
	Iterations  int64       `json:"iterations"`
	Dropped     int64       `json:"dropped"`
	Lag         wireLag     `json:"lag"`
	Runtime     wireRuntime `json:"runtime"`
	Saturated   bool        `json:"saturated"`
	Reasons     []string    `json:"reasons"`
	Notes       []string    `json:"notes"`
	Advice      string      `json:"advice"`
}

type wireLag struct {
	Count int64  `json:"count"`
	P50MS jfloat `json:"p50_ms"`
	P90MS jfloat `json:"p90_ms"`
	P99MS jfloat `json:"p99_ms"`
	MaxMS jfloat `json:"max_ms"`
}

type wireRuntime struct {
	WallS             seconds  `json:"wall_s"`
	SchedLatencyP99MS jfloat   `json:"sched_latency_p99_ms"`
	SchedLatencyMaxMS jfloat   `json:"sched_latency_max_ms"`
	GCPauseP99MS      jfloat   `json:"gc_pause_p99_ms"`
	GCPauseTotalMS    jfloat   `json:"gc_pause_total_ms"`
	GCCycles          uint64   `json:"gc_cycles"`
	CPUUtilPct        jfloat   `json:"cpu_util_pct"`
	CPUSource         string   `json:"cpu_source"`
	GOMAXPROCS        int      `json:"gomaxprocs"`
	Goroutines        int      `json:"goroutines"`
	Host              wireHost `json:"host"`
	Notes             []string `json:"notes"`
}

// wireHost is saturation.Host: what the sentinel timer and the OS saw.
type wireHost struct {
	PeriodS              seconds     `json:"period_s"`
	Ticks                int64       `json:"ticks"`
	Pauses               []wirePause `json:"pauses"`
	PausesDropped        int64       `json:"pauses_dropped"`
	BusyStalls           int64       `json:"busy_stalls"`
	BusyStallMaxS        seconds     `json:"busy_stall_max_s"`
	SchedLatencyOwnP99MS jfloat      `json:"sched_latency_own_p99_ms"`
	SchedLatencyOwnMaxMS jfloat      `json:"sched_latency_own_max_ms"`
	StealMS              jfloat      `json:"steal_ms"`
	StealOK              bool        `json:"steal_ok"`
	RunQueueMS           jfloat      `json:"run_queue_ms"`
	RunQueueOK           bool        `json:"run_queue_ok"`
}

type wirePause struct {
	Start   string  `json:"start"`
	OffsetS seconds `json:"offset_s"`
	LengthS seconds `json:"length_s"`
	CPUPct  jfloat  `json:"cpu_pct"`
	BusyPct jfloat  `json:"busy_pct"`
}

func hostToWire(h saturation.Host) wireHost {
	w := wireHost{PeriodS: seconds(h.Period), Ticks: h.Ticks, Pauses: make([]wirePause, len(h.Pauses)), PausesDropped: h.PausesDropped,
		BusyStalls: h.BusyStalls, BusyStallMaxS: seconds(h.BusyStallMax),
		SchedLatencyOwnP99MS: jfloat(h.SchedLatencyOwnP99MS), SchedLatencyOwnMaxMS: jfloat(h.SchedLatencyOwnMaxMS),
		StealMS: jfloat(h.StealMS), StealOK: h.StealOK, RunQueueMS: jfloat(h.RunQueueMS), RunQueueOK: h.RunQueueOK}
	for i, p := range h.Pauses {
		w.Pauses[i] = wirePause{Start: fmtTime(p.Start), OffsetS: seconds(p.Offset), LengthS: seconds(p.Length), CPUPct: jfloat(p.CPUPct), BusyPct: jfloat(p.BusyPct)}
	}
	return w
}

func hostFromWire(w wireHost) (saturation.Host, error) {
	h := saturation.Host{Period: time.Duration(w.PeriodS), Ticks: w.Ticks, PausesDropped: w.PausesDropped,
		BusyStalls: w.BusyStalls, BusyStallMax: time.Duration(w.BusyStallMaxS),
		SchedLatencyOwnP99MS: float64(w.SchedLatencyOwnP99MS), SchedLatencyOwnMaxMS: float64(w.SchedLatencyOwnMaxMS),
		StealMS: float64(w.StealMS), StealOK: w.StealOK, RunQueueMS: float64(w.RunQueueMS), RunQueueOK: w.RunQueueOK}
	if err := firstErr(nonNeg("ticks", w.Ticks), nonNeg("pauses_dropped", w.PausesDropped), nonNeg("busy_stalls", w.BusyStalls)); err != nil {
		return h, err
	}
	var err error
	h.Pauses, err = decodeList(w.Pauses, maxServerItems, "pauses", func(p wirePause) (saturation.Pause, error) {
		start, err := parseTime("start", p.Start)
		return saturation.Pause{Start: start, Offset: time.Duration(p.OffsetS), Length: time.Duration(p.LengthS),
			CPUPct: float64(p.CPUPct), BusyPct: float64(p.BusyPct)}, err
	})
	return h, err
}

type wireMeta struct {
	Scenario     string   `json:"scenario"`
	Host         string   `json:"host"`
	Fake         bool     `json:"fake"`
	Users        int      `json:"users"`
	SpawnRate    jfloat   `json:"spawn_rate"`
	DurationS    seconds  `json:"duration_s"`
	Duration     string   `json:"duration"` // informative; Decode reads duration_s
	Start        string   `json:"start"`
	End          string   `json:"end"`
	Classes      []string `json:"classes"`
	Seed         uint64   `json:"seed"`
	Stopped      string   `json:"stopped"`
	Harness      string   `json:"harness"`
	GoVersion    string   `json:"go_version"`
	EntryHistory bool     `json:"entry_history"`
	Segment      string   `json:"segment"`
	StartLateS   seconds  `json:"start_late_s"`
	Cancelled    int64    `json:"cancelled_in_flight"`
	Gate         []string `json:"gate"`
	MinGrade     string   `json:"min_grade"`
}

type wireStats struct {
	Start      string          `json:"start"`
	End        string          `json:"end"`
	Users      int             `json:"users"`
	Entries    []wireEntry     `json:"entries"`
	Total      wireEntry       `json:"total"`
	Failures   []wireFailure   `json:"failures"`
	Exceptions []wireException `json:"exceptions"`
	Series     []wirePoint     `json:"series"`
}

type wireEntry struct {
	Method       string      `json:"method"`
	Name         string      `json:"name"`
	Requests     int64       `json:"requests"`
	Failures     int64       `json:"failures"`
	SumUS        int64       `json:"sum_us"`
	MinUS        int64       `json:"min_us"`
	MaxUS        int64       `json:"max_us"`
	ContentBytes int64       `json:"content_bytes"`
	ServiceHist  string      `json:"service_hist"`
	ResponseHist string      `json:"response_hist,omitempty"`
	Series       []wirePoint `json:"series"`
}

type wirePoint struct {
	Time          string   `json:"time"`
	Users         int      `json:"users"`
	Requests      int64    `json:"requests"`
	Failures      int64    `json:"failures"`
	RPS           jfloat   `json:"rps"`
	FailPS        jfloat   `json:"fail_ps"`
	P50MS         jfloat   `json:"p50_ms"`
	P95MS         jfloat   `json:"p95_ms"`
	RespP50MS     jfloat   `json:"resp_p50_ms"`
	RespP95MS     jfloat   `json:"resp_p95_ms"`
	RecentMS      []jfloat `json:"recent_ms"`
	TotalRequests int64    `json:"total_requests"`
	TotalFailures int64    `json:"total_failures"`
	TotalMedianMS jfloat   `json:"total_median_ms"`
	TotalAvgMS    jfloat   `json:"total_avg_ms"`
	TotalMinMS    jfloat   `json:"total_min_ms"`
	TotalMaxMS    jfloat   `json:"total_max_ms"`
	TotalAvgBytes jfloat   `json:"total_avg_bytes"`
}

type wireFailure struct {
	Method      string `json:"method"`
	Name        string `json:"name"`
	Error       string `json:"error"`
	Occurrences int64  `json:"occurrences"`
	FirstSeen   string `json:"first_seen"`
	LastSeen    string `json:"last_seen"`
}

type wireException struct {
	Message   string `json:"message"`
	Traceback string `json:"traceback"`
	Count     int64  `json:"count"`
}

type wireCheck struct {
	Endpoint string     `json:"endpoint"`
	Metric   string     `json:"metric"`
	Value    jfloat     `json:"value"`
	Grade    *string    `json:"grade"`
	Bounds   wireBounds `json:"bounds"`
	Gated    bool       `json:"gated"`
	Pass     bool       `json:"pass"`
	Message  string     `json:"message"`
}

type wireBounds struct {
	Target     jfloat `json:"target"`
	Acceptable jfloat `json:"acceptable"`
	Poor       jfloat `json:"poor"`
}

type wireAlert struct {
	Name    string `json:"name"`
	Value   jfloat `json:"value"`
	Limit   jfloat `json:"limit"`
	Fired   bool   `json:"fired"`
	Message string `json:"message"`
}

type wireVerdict struct {
	Pass    bool     `json:"pass"`
	Reasons []string `json:"reasons"`
}

// wireBaseline has compare.Result's own JSON keys, with every key always written
// and NaN-safe numbers.
type wireBaseline struct {
	Baseline       string     `json:"baseline"`
	BaselineStart  string     `json:"baseline_start"`
	Limits         wireLimits `json:"limits"`
	Rows           []wireRow  `json:"rows"`
	OnlyInBaseline []string   `json:"only_in_baseline"`
	OnlyInRun      []string   `json:"only_in_run"`
}

type wireLimits struct {
	LatencyPct jfloat `json:"latency_pct"`
	FloorMS    jfloat `json:"floor_ms"`
	RPSPct     jfloat `json:"rps_pct"`
	FailurePts jfloat `json:"failure_pts"`
}

type wireRow struct {
	Entry     string `json:"entry"`
	Metric    string `json:"metric"`
	Old       jfloat `json:"old"`
	New       jfloat `json:"new"`
	ChangePct jfloat `json:"change_pct"`
	Gated     bool   `json:"gated"`
	Regressed bool   `json:"regressed"`
	Note      string `json:"note"`
}

// jfloat is a float64 written as null when it is NaN or infinite (JSON has no
// such numbers) and read back from null as NaN.
type jfloat float64

var floatType = reflect.TypeFor[float64]()

func (f jfloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return appendFloat(nil, v), nil
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jfloat(math.NaN())
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: floatType}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil { // out of float64's range
		return &json.UnmarshalTypeError{Value: "number " + string(b), Type: floatType}
	}
	*f = jfloat(v)
	return nil
}

// appendFloat formats like encoding/json: shortest exact form, exponent only
// for very small or large magnitudes.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-07 → e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// seconds is a duration written as an exact decimal number of seconds
// (nanosecond precision, e.g. 90.5 or 0.000000001).
type seconds time.Duration

var secondsType = reflect.TypeFor[seconds]()

func (s seconds) MarshalJSON() ([]byte, error) {
	d := int64(s)
	var b []byte
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	if ns := u % 1e9; ns != 0 {
		frac := strconv.FormatUint(ns+1e9, 10)[1:] // 9 digits with leading zeros
		b = append(b, '.')
		b = append(b, strings.TrimRight(frac, "0")...)
	}
	return b, nil
}

func (s *seconds) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = 0
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: secondsType}
	}
	d, ok := parseSeconds(string(b))
	if !ok {
		return &json.UnmarshalTypeError{Value: "number " + string(b), Type: secondsType}
	}
	*s = seconds(d)
	return nil
}

// parseSeconds reads a JSON number of seconds as nanoseconds: exactly for plain
// decimals with at most nine decimal places, rounded to the nearest nanosecond
// otherwise. ok is false past time.Duration's range.
func parseSeconds(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !strings.ContainsAny(s, "eE") && (!hasFrac || len(frac) <= 9) && len(intPart) <= 11 {
		sec, err1 := strconv.ParseInt(intPart, 10, 64)
		var ns int64
		var err2 error
		if hasFrac {
			ns, err2 = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		if err1 == nil && err2 == nil && sec <= math.MaxInt64/int64(time.Second) {
			v := sec*1e9 + ns
			if v >= 0 { // no overflow
				if neg {
					v = -v
				}
				return time.Duration(v), true
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	ns := math.Round(f * 1e9)
	if err != nil || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, false
	}
	return time.Duration(ns), true
}

// jsonKind names the kind of a raw JSON value for error messages.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "value " + string(b)
}

// ---- Encoding ----

var emptyHist = sync.OnceValues(func() (string, error) { return encodeHist(stats.NewHistogram()) })

func encodeHist(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	return string(b), err
}

func toWire(run Run) (*wireRun, error) {
	m := run.Meta
	wr := &wireRun{
		Format:  FileFormat,
		Version: FileVersion,
		Meta: wireMeta{
			Scenario:     m.Scenario,
			Host:         m.Host,
			Fake:         m.Fake,
			Users:        m.Users,
			SpawnRate:    jfloat(m.SpawnRate),
			DurationS:    seconds(m.Duration),
			Duration:     m.Duration.String(),
			Start:        fmtTime(m.Start),
			End:          fmtTime(m.End),
			Classes:      strList(m.Classes),
			Seed:         m.Seed,
			Stopped:      m.Stopped,
			Harness:      m.Harness,
			GoVersion:    m.GoVersion,
			EntryHistory: m.EntryHistory,
			Segment:      m.Segment,
			StartLateS:   seconds(m.StartLate),
			Cancelled:    m.Cancelled,
			Gate:         strList(m.Gate),
			MinGrade:     m.MinGrade,
		},
		Checks:    make([]wireCheck, len(run.Checks)),
		Alerts:    make([]wireAlert, len(run.Alerts)),
		Verdict:   wireVerdict{Pass: run.Verdict.Pass, Reasons: strList(run.Verdict.Reasons)},
		Generator: generatorToWire(run.Generator),
		Server:    serverToWire(run.Server),
	}
	s := run.Stats
	wr.Stats = wireStats{
		Start:      fmtTime(s.Start),
		End:        fmtTime(s.End),
		Users:      s.Users,
		Entries:    make([]wireEntry, len(s.Entries)),
		Failures:   make([]wireFailure, len(s.Failures)),
		Exceptions: make([]wireException, len(s.Exceptions)),
		Series:     pointsToWire(s.Series),
	}
	for i, e := range s.Entries {
		we, err := entryToWire(e)
		if err != nil {
			return nil, fmt.Errorf("run file: encode stats.entries[%d]: %w", i, err)
		}
		wr.Stats.Entries[i] = we
	}
	we, err := entryToWire(s.Total)
	if err != nil {
		return nil, fmt.Errorf("run file: encode stats.total: %w", err)
	}
	wr.Stats.Total = we
	for i, f := range s.Failures {
		wr.Stats.Failures[i] = wireFailure{
			Method: f.Method, Name: f.Name, Error: f.Error, Occurrences: f.Occurrences,
			FirstSeen: fmtTime(f.FirstSeen), LastSeen: fmtTime(f.LastSeen),
		}
	}
	for i, x := range s.Exceptions {
		wr.Stats.Exceptions[i] = wireException{Message: x.Message, Traceback: x.Traceback, Count: x.Count}
	}
	for i, c := range run.Checks {
		wc := wireCheck{
			Endpoint: c.Endpoint, Metric: c.Metric, Value: jfloat(c.Value),
			Bounds: wireBounds{Target: jfloat(c.Bounds.Target), Acceptable: jfloat(c.Bounds.Acceptable), Poor: jfloat(c.Bounds.Poor)},
			Gated:  c.Gated, Pass: c.Pass, Message: c.Message,
		}
		if c.Grade.Valid() {
			g := c.Grade.String()
			wc.Grade = &g
		}
		wr.Checks[i] = wc
	}
	for i, a := range run.Alerts {
		wr.Alerts[i] = wireAlert{Name: a.Name, Value: jfloat(a.Value), Limit: jfloat(a.Limit), Fired: a.Fired, Message: a.Message}
	}
	if b := run.Baseline; b != nil {
		wb := &wireBaseline{
			Baseline:      b.Baseline,
			BaselineStart: fmtTime(b.BaselineStart),
			Limits: wireLimits{
				LatencyPct: jfloat(b.Limits.LatencyPct), FloorMS: jfloat(b.Limits.FloorMS),
				RPSPct: jfloat(b.Limits.RPSPct), FailurePts: jfloat(b.Limits.FailurePts),
			},
			Rows:           make([]wireRow, len(b.Rows)),
			OnlyInBaseline: strList(b.OnlyInBaseline),
			OnlyInRun:      strList(b.OnlyInRun),
		}
		for i, r := range b.Rows {
			wb.Rows[i] = wireRow{
				Entry: r.Entry, Metric: r.Metric, Old: jfloat(r.Old), New: jfloat(r.New),
				ChangePct: jfloat(r.ChangePct), Gated: r.Gated, Regressed: r.Regressed, Note: r.Note,
			}
		}
		wr.Baseline = wb
	}
	return wr, nil
}

func entryToWire(e stats.Entry) (wireEntry, error) {
	we := wireEntry{
		Method: e.Method, Name: e.Name, Requests: e.Requests, Failures: e.Failures,
		SumUS: e.SumMicros, MinUS: e.MinMicros, MaxUS: e.MaxMicros, ContentBytes: e.ContentBytes,
		Series: pointsToWire(e.Series),
	}
	var err error
	if e.Service == nil {
		we.ServiceHist, err = emptyHist()
	} else {
		we.ServiceHist, err = encodeHist(e.Service)
	}
	if err != nil {
		return we, fmt.Errorf("service_hist: %w", err)
	}
	if e.Response != nil && !sameHist(e.Service, e.Response) {
		if we.ResponseHist, err = encodeHist(e.Response); err != nil {
			return we, fmt.Errorf("response_hist: %w", err)
		}
	}
	return we, nil
}

// sameHist reports whether response equals service, a nil service being empty.
func sameHist(service, response *hdrhistogram.Histogram) bool {
	if service == nil {
		service = stats.NewHistogram()
	}
	return service.Equals(response)
}

func pointsToWire(ps []stats.Point) []wirePoint {
	out := make([]wirePoint, len(ps))
	for i, p := range ps {
		recent := make([]jfloat, len(p.RecentMS))
		for j, v := range p.RecentMS {
			recent[j] = jfloat(v)
		}
		out[i] = wirePoint{
			Time: fmtTime(p.Time), Users: p.Users, Requests: p.Requests, Failures: p.Failures,
			RPS: jfloat(p.RPS), FailPS: jfloat(p.FailPS),
			P50MS: jfloat(p.P50MS), P95MS: jfloat(p.P95MS),
			RespP50MS: jfloat(p.RespP50MS), RespP95MS: jfloat(p.RespP95MS),
			RecentMS:      recent,
			TotalRequests: p.TotalRequests, TotalFailures: p.TotalFailures,
			TotalMedianMS: jfloat(p.TotalMedianMS), TotalAvgMS: jfloat(p.TotalAvgMS),
			TotalMinMS: jfloat(p.TotalMinMS), TotalMaxMS: jfloat(p.TotalMaxMS),
			TotalAvgBytes: jfloat(p.TotalAvgBytes),
		}
	}
	return out
}

func strList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// fmtTime writes t in RFC 3339 with nanoseconds and t's own UTC offset, or in
// UTC when that offset has seconds, which RFC 3339 cannot express.
func fmtTime(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC3339Nano)
}

// ---- Decoding: structure, head, JSON errors ----

// decodeError is a problem at a JSON path of the input.
type decodeError struct {
	path    string // e.g. "stats.entries[3].service_hist"; "" for the whole document
	problem string
}

func (e *decodeError) Error() string {
	if e.path == "" {
		return "run file: " + e.problem
	}
	return "run file: " + e.path + ": " + e.problem
}

func problemf(path, format string, args ...any) error {
	return &decodeError{path: path, problem: fmt.Sprintf(format, args...)}
}

// at prefixes the path of err, a *decodeError, with prefix.
func at(prefix string, err error) error {
	var de *decodeError
	if !errors.As(err, &de) {
		return err
	}
	switch {
	case de.path == "":
		de.path = prefix
	case strings.HasPrefix(de.path, "["):
		de.path = prefix + de.path
	default:
		de.path = prefix + "." + de.path
	}
	return de
}

// checkHead checks "format" and "version" before anything else, so that a file
// of another kind or a newer version gets that error, not a confusing one.
func checkHead(data []byte) error {
	var head struct {
		Format  json.RawMessage `json:"format"`
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return problemf("", "not a run file: the document is a JSON %s, want an object", te.Value)
		}
		return jsonError(data, err)
	}
	if head.Format == nil {
		return problemf("", "not a run file: no %q key", "format")
	}
	var format string
	if err := json.Unmarshal(head.Format, &format); err != nil {
		return problemf("format", "not a run file: format is a JSON %s, want the string %q", jsonKind(head.Format), FileFormat)
	}
	if format != FileFormat {
		return problemf("format", "not a run file: format %q, want %q", clip(format, 64), FileFormat)
	}
	if head.Version == nil {
		return problemf("", "no %q key", "version")
	}
	v, err := strconv.ParseInt(string(head.Version), 10, 64)
	switch {
	case err != nil:
		return problemf("version", "%s is not an integer version number", clip(string(head.Version), 64))
	case v > FileVersion:
		return problemf("version", "version %d is newer than this harness reads (%d)", v, FileVersion)
	case v < 1:
		return problemf("version", "version %d is not a valid version (this harness reads %d)", v, FileVersion)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkStructure bounds the document's nesting, objects and array elements in
// one pass over the bytes, before json.Unmarshal allocates anything for them.
// It leaves syntax errors to json.Unmarshal.
func checkStructure(data []byte) error {
	type frame struct{ array, empty bool }
	var (
		stack             []frame
		inString, escaped bool
		objects, elements int
	)
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].array {
			switch top := &stack[n-1]; {
			case c == ',':
				elements++
			case c == ']':
			case top.empty:
				top.empty = false
				elements++
			}
			if elements > limits.elements() {
				return problemf("", "more than %d JSON array elements; a run file has at most %d series points and %d entries",
					limits.elements(), limits.points, limits.entries)
			}
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if len(stack) >= limits.depth {
				return problemf("", "JSON nested deeper than %d levels", limits.depth)
			}
			stack = append(stack, frame{array: c == '[', empty: true})
			if c == '{' {
				objects++
				if objects > limits.objects() {
					return problemf("", "more than %d JSON objects; a run file has at most %d series points and %d entries",
						limits.objects(), limits.points, limits.entries)
				}
			}
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return nil
}

// jsonError turns an encoding/json error into a run file error with a path or a position.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if se.Offset >= int64(len(data)) {
			line, col := lineCol(data, se.Offset)
			return problemf("", "truncated: the JSON ends early at line %d, column %d (%v)", line, col, se)
		}
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(data, max(se.Offset-1, 0))
		return problemf("", "not valid JSON at line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		msg := fmt.Sprintf("got %s, want %s", te.Value, describe(te.Type))
		if te.Offset > 0 {
			line, col := lineCol(data, te.Offset)
			msg += fmt.Sprintf(" (line %d, column %d)", line, col)
		}
		return problemf(te.Field, "%s", msg)
	}
	return fmt.Errorf("run file: %w", err)
}

// describe names what a Go type expects in JSON.
func describe(t reflect.Type) string {
	switch t {
	case floatType:
		return "a number or null"
	case secondsType:
		return "a number of seconds"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return describe(t.Elem())
	}
	return t.String()
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func byteSize(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// ---- Decoding: validation and conversion ----

// decoder carries the run-wide budgets while the wire value is converted.
type decoder struct {
	points int // series points taken so far
}

func fromWire(wr *wireRun) (Run, error) {
	var d decoder
	var run Run
	var err error
	if run.Meta, err = d.meta(&wr.Meta); err != nil {
		return Run{}, at("meta", err)
	}
	if run.Stats, err = d.stats(&wr.Stats); err != nil {
		return Run{}, at("stats", err)
	}
	if run.Checks, err = d.checks(wr.Checks); err != nil {
		return Run{}, at("checks", err)
	}
	if run.Alerts, err = d.alerts(wr.Alerts); err != nil {
		return Run{}, at("alerts", err)
	}
	run.Verdict.Pass = wr.Verdict.Pass
	if run.Verdict.Reasons, err = strs(wr.Verdict.Reasons, limits.messageBytes); err != nil {
		return Run{}, at("verdict.reasons", err)
	}
	if wr.Baseline != nil {
		b, err := d.baseline(wr.Baseline)
		if err != nil {
			return Run{}, at("baseline", err)
		}
		run.Baseline = &b
	}
	if run.Generator, err = generatorFromWire(&wr.Generator); err != nil {
		return Run{}, at("generator", err)
	}
	if run.Server, err = serverFromWire(wr.Server); err != nil {
		return Run{}, at("server", err)
	}
	return run, nil
}

func generatorToWire(g Generator) wireGenerator {
	rt := g.Runtime
	return wireGenerator{
		Model: g.Model, Rate: jfloat(g.Rate), MaxInFlight: g.MaxInFlight, Shape: g.Shape, Clock: g.Clock,
		Arrivals: g.Arrivals, Iterations: g.Iterations, Dropped: g.Dropped,
		Lag: wireLag{Count: g.Lag.Count, P50MS: jfloat(g.Lag.P50MS), P90MS: jfloat(g.Lag.P90MS), P99MS: jfloat(g.Lag.P99MS), MaxMS: jfloat(g.Lag.MaxMS)},
		Runtime: wireRuntime{
			WallS: seconds(rt.Wall), SchedLatencyP99MS: jfloat(rt.SchedLatencyP99MS), SchedLatencyMaxMS: jfloat(rt.SchedLatencyMaxMS),
			GCPauseP99MS: jfloat(rt.GCPauseP99MS), GCPauseTotalMS: jfloat(rt.GCPauseTotalMS), GCCycles: rt.GCCycles,
			CPUUtilPct: jfloat(rt.CPUUtilPct), CPUSource: rt.CPUSource, GOMAXPROCS: rt.GOMAXPROCS, Goroutines: rt.Goroutines,
			Host: hostToWire(rt.Host), Notes: strList(rt.Notes),
		},
		Saturated: g.Saturated, Reasons: strList(g.Reasons), Notes: strList(g.Notes), Advice: g.Advice,
	}
}

func generatorFromWire(w *wireGenerator) (Generator, error) {
	wr := w.Runtime
	g := Generator{
		Model: w.Model, Rate: float64(w.Rate), MaxInFlight: w.MaxInFlight, Shape: w.Shape, Clock: w.Clock,
		Arrivals: w.Arrivals, Iterations: w.Iterations, Dropped: w.Dropped,
		Lag: saturation.LagStats{Count: w.Lag.Count, P50MS: float64(w.Lag.P50MS), P90MS: float64(w.Lag.P90MS), P99MS: float64(w.Lag.P99MS), MaxMS: float64(w.Lag.MaxMS)},
		Runtime: saturation.Runtime{
			Wall: time.Duration(wr.WallS), SchedLatencyP99MS: float64(wr.SchedLatencyP99MS), SchedLatencyMaxMS: float64(wr.SchedLatencyMaxMS),
			GCPauseP99MS: float64(wr.GCPauseP99MS), GCPauseTotalMS: float64(wr.GCPauseTotalMS), GCCycles: wr.GCCycles,
			CPUUtilPct: float64(wr.CPUUtilPct), CPUSource: wr.CPUSource, GOMAXPROCS: wr.GOMAXPROCS, Goroutines: wr.Goroutines,
		},
		Saturated: w.Saturated, Advice: w.Advice,
	}
	err := firstErr(name("model", w.Model), message("shape", w.Shape), name("clock", w.Clock),
		nonNeg("max_inflight", int64(w.MaxInFlight)), nonNeg("arrivals", w.Arrivals), nonNeg("iterations", w.Iterations),
		nonNeg("dropped", w.Dropped), nonNeg("lag.count", w.Lag.Count), name("runtime.cpu_source", wr.CPUSource),
		nonNeg("runtime.gomaxprocs", int64(wr.GOMAXPROCS)), nonNeg("runtime.goroutines", int64(wr.Goroutines)),
		message("advice", w.Advice))
	if err != nil {
		return Generator{}, err
	}
	if g.Reasons, err = strs(w.Reasons, limits.messageBytes); err != nil {
		return Generator{}, at("reasons", err)
	}
	if g.Notes, err = strs(w.Notes, limits.messageBytes); err != nil {
		return Generator{}, at("notes", err)
	}
	if g.Runtime.Notes, err = strs(wr.Notes, limits.messageBytes); err != nil {
		return Generator{}, at("runtime.notes", err)
	}
	if g.Runtime.Host, err = hostFromWire(wr.Host); err != nil {
		return Generator{}, at("runtime.host", err)
	}
	return g, nil
}

func (d *decoder) meta(w *wireMeta) (Meta, error) {
	m := Meta{
		Scenario: w.Scenario, Host: w.Host, Fake: w.Fake, Users: w.Users,
		SpawnRate: float64(w.SpawnRate), Duration: time.Duration(w.DurationS),
		Seed: w.Seed, Stopped: w.Stopped, Harness: w.Harness, GoVersion: w.GoVersion,
		EntryHistory: w.EntryHistory, Segment: w.Segment, StartLate: time.Duration(w.StartLateS), MinGrade: w.MinGrade,
		Cancelled: w.Cancelled,
	}
	err := firstErr(
		name("scenario", w.Scenario), name("host", w.Host),
		nonNeg("users", int64(w.Users)), nonNeg("cancelled_in_flight", w.Cancelled),
		message("stopped", w.Stopped), name("harness", w.Harness), name("go_version", w.GoVersion), name("segment", w.Segment), name("min_grade", w.MinGrade),
	)
	if err != nil {
		return Meta{}, err
	}
	if w.DurationS < 0 {
		b, _ := w.DurationS.MarshalJSON()
		return Meta{}, problemf("duration_s", "%s seconds is negative", b)
	}
	if m.Start, err = parseTime("start", w.Start); err != nil {
		return Meta{}, err
	}
	if m.End, err = parseTime("end", w.End); err != nil {
		return Meta{}, err
	}
	if m.Classes, err = strs(w.Classes, limits.nameBytes); err != nil {
		return Meta{}, at("classes", err)
	}
	if m.Gate, err = strs(w.Gate, limits.nameBytes); err != nil {
		return Meta{}, at("gate", err)
	}
	return m, nil
}

func (d *decoder) stats(w *wireStats) (stats.Snapshot, error) {
	s := stats.Snapshot{Users: w.Users}
	var err error
	if err = nonNeg("users", int64(w.Users)); err != nil {
		return s, err
	}
	if s.Start, err = parseTime("start", w.Start); err != nil {
		return s, err
	}
	if s.End, err = parseTime("end", w.End); err != nil {
		return s, err
	}
	if len(w.Entries) > limits.entries {
		return s, problemf("entries", "%d entries, more than the limit of %d", len(w.Entries), limits.entries)
	}
	var requests, failures int64
	if len(w.Entries) > 0 {
		s.Entries = make([]stats.Entry, len(w.Entries))
		seen := make(map[stats.Key]int, len(w.Entries))
		for i := range w.Entries {
			e, err := d.entry(&w.Entries[i])
			if err != nil {
				return s, at(fmt.Sprintf("entries[%d]", i), err)
			}
			k := stats.Key{Method: e.Method, Name: e.Name}
			if j, dup := seen[k]; dup {
				return s, problemf(fmt.Sprintf("entries[%d]", i), "duplicate of entries[%d] (method %q, name %q)", j, clip(e.Method, 64), clip(e.Name, 64))
			}
			seen[k] = i
			var ok1, ok2 bool
			requests, ok1 = addInt(requests, e.Requests)
			failures, ok2 = addInt(failures, e.Failures)
			if !ok1 || !ok2 {
				return s, problemf(fmt.Sprintf("entries[%d]", i), "the entries' requests or failures overflow a 64-bit count")
			}
			s.Entries[i] = e
		}
	}
	if w.Total.Requests != requests {
		return s, problemf("total.requests", "%d, but the entries' requests add up to %d", w.Total.Requests, requests)
	}
	if w.Total.Failures != failures {
		return s, problemf("total.failures", "%d, but the entries' failures add up to %d", w.Total.Failures, failures)
	}
	if s.Total, err = d.entry(&w.Total); err != nil {
		return s, at("total", err)
	}
	if len(w.Failures) > limits.failures {
		return s, problemf("failures", "%d failure groups, more than the limit of %d", len(w.Failures), limits.failures)
	}
	if len(w.Failures) > 0 {
		s.Failures = make([]stats.Failure, len(w.Failures))
		for i := range w.Failures {
			if s.Failures[i], err = failure(&w.Failures[i]); err != nil {
				return s, at(fmt.Sprintf("failures[%d]", i), err)
			}
		}
	}
	if len(w.Exceptions) > limits.exceptions {
		return s, problemf("exceptions", "%d exceptions, more than the limit of %d", len(w.Exceptions), limits.exceptions)
	}
	if len(w.Exceptions) > 0 {
		s.Exceptions = make([]stats.Exception, len(w.Exceptions))
		for i, x := range w.Exceptions {
			err := firstErr(message("message", x.Message), text("traceback", x.Traceback, limits.tracebackBytes), nonNeg("count", x.Count))
			if err != nil {
				return s, at(fmt.Sprintf("exceptions[%d]", i), err)
			}
			s.Exceptions[i] = stats.Exception{Message: x.Message, Traceback: x.Traceback, Count: x.Count}
		}
	}
	if s.Series, err = d.series(w.Series); err != nil {
		return s, at("series", err)
	}
	return s, nil
}

func addInt(a, b int64) (int64, bool) {
	if b > math.MaxInt64-a {
		return 0, false
	}
	return a + b, true
}

func (d *decoder) entry(w *wireEntry) (stats.Entry, error) {
	e := stats.Entry{
		Method: w.Method, Name: w.Name, Requests: w.Requests, Failures: w.Failures,
		SumMicros: w.SumUS, MinMicros: w.MinUS, MaxMicros: w.MaxUS, ContentBytes: w.ContentBytes,
	}
	err := firstErr(
		name("method", w.Method), name("name", w.Name),
		nonNeg("requests", w.Requests), nonNeg("failures", w.Failures), nonNeg("sum_us", w.SumUS),
		nonNeg("min_us", w.MinUS), nonNeg("max_us", w.MaxUS), nonNeg("content_bytes", w.ContentBytes),
	)
	if err != nil {
		return e, err
	}
	if w.Failures > w.Requests {
		return e, problemf("failures", "%d failures but %d requests", w.Failures, w.Requests)
	}
	if w.MinUS > w.MaxUS {
		return e, problemf("min_us", "%d is above max_us %d", w.MinUS, w.MaxUS)
	}
	if e.Service, err = decodeHist(w.ServiceHist, w.Requests); err != nil {
		return e, at("service_hist", err)
	}
	if w.ResponseHist != "" {
		resp, err := decodeHist(w.ResponseHist, w.Requests)
		if err != nil {
			return e, at("response_hist", err)
		}
		// nil means "equal to Service" to package stats; keep it so.
		if !resp.Equals(e.Service) {
			e.Response = resp
		}
	}
	if e.Series, err = d.series(w.Series); err != nil {
		return e, at("series", err)
	}
	return e, nil
}

// decodeHist decodes one histogram after checking its size and header, so that
// only a histogram with the package stats geometry is ever allocated, and
// requires it to hold want values. An empty string is an empty histogram.
func decodeHist(s string, want int64) (*hdrhistogram.Histogram, error) {
	if s == "" {
		if want != 0 {
			return nil, problemf("", "missing, want a histogram of %d values", want)
		}
		return stats.NewHistogram(), nil
	}
	if len(s) > limits.histBytes {
		return nil, problemf("", "%d bytes of base64, more than the %s limit for a histogram", len(s), byteSize(limits.histBytes))
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, problemf("", "not base64 (%v), want a V2 compressed HdrHistogram", err)
	}
	if err := checkHistHeader(raw); err != nil {
		return nil, err
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, problemf("", "corrupt histogram: %v", err)
	}
	if n := h.TotalCount(); n != want {
		return nil, problemf("", "histogram holds %d values, want %d (the entry's requests)", n, want)
	}
	return h, nil
}

// checkHistHeader reads the V2 compressed header: an 8-byte prefix (cookie,
// compressed length) then a zlib stream starting with 40 bytes: cookie,
// payload length, normalizing index offset, significant digits (int32 each),
// lowest and highest trackable value (int64 each), integer-to-double ratio
// (float64), all big-endian.
func checkHistHeader(raw []byte) error {
	if len(raw) < 8 {
		return problemf("", "histogram of %d bytes is too short for a V2 compressed HdrHistogram", len(raw))
	}
	if c := int32(binary.BigEndian.Uint32(raw[0:4])); c&^0xf0 != hdrhistogram.V2CompressedEncodingCookieBase {
		return problemf("", "not a V2 compressed HdrHistogram (cookie %#08x)", uint32(c))
	}
	n := int32(binary.BigEndian.Uint32(raw[4:8]))
	if n < 0 || int(n) > len(raw)-8 {
		return problemf("", "histogram says %d compressed bytes follow, but %d do", n, len(raw)-8)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8 : 8+n]))
	if err != nil {
		return problemf("", "corrupt histogram: %v", err)
	}
	var h [40]byte
	if _, err := io.ReadFull(zr, h[:]); err != nil {
		return problemf("", "corrupt histogram: header: %v", err)
	}
	if c := int32(binary.BigEndian.Uint32(h[0:4])); c&^0xf0 != hdrhistogram.V2EncodingCookieBase {
		return problemf("", "not a V2 HdrHistogram (inner cookie %#08x)", uint32(c))
	}
	sig := int32(binary.BigEndian.Uint32(h[12:16]))
	lo := int64(binary.BigEndian.Uint64(h[16:24]))
	hi := int64(binary.BigEndian.Uint64(h[24:32]))
	if lo != stats.MinMicros || hi != stats.MaxMicros || sig != stats.SigFigures {
		return problemf("", "histogram bounds %d..%d sig %d, want %d..%d sig %d",
			lo, hi, sig, stats.MinMicros, stats.MaxMicros, stats.SigFigures)
	}
	if r := math.Float64frombits(binary.BigEndian.Uint64(h[32:40])); r != 1 {
		return problemf("", "histogram integer-to-double ratio %v, want 1", r)
	}
	return nil
}

func (d *decoder) series(ws []wirePoint) ([]stats.Point, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	if len(ws) > limits.points-d.points {
		return nil, problemf("", "%d points bring the run past the limit of %d series points", len(ws), limits.points)
	}
	d.points += len(ws)
	out := make([]stats.Point, len(ws))
	for i := range ws {
		p, err := point(&ws[i])
		if err != nil {
			return nil, at(fmt.Sprintf("[%d]", i), err)
		}
		out[i] = p
	}
	return out, nil
}

func point(w *wirePoint) (stats.Point, error) {
	p := stats.Point{
		Users: w.Users, Requests: w.Requests, Failures: w.Failures,
		RPS: float64(w.RPS), FailPS: float64(w.FailPS),
		P50MS: float64(w.P50MS), P95MS: float64(w.P95MS),
		RespP50MS: float64(w.RespP50MS), RespP95MS: float64(w.RespP95MS),
		TotalRequests: w.TotalRequests, TotalFailures: w.TotalFailures,
		TotalMedianMS: float64(w.TotalMedianMS), TotalAvgMS: float64(w.TotalAvgMS),
		TotalMinMS: float64(w.TotalMinMS), TotalMaxMS: float64(w.TotalMaxMS),
		TotalAvgBytes: float64(w.TotalAvgBytes),
	}
	err := firstErr(
		nonNeg("users", int64(w.Users)), nonNeg("requests", w.Requests), nonNeg("failures", w.Failures),
		nonNeg("total_requests", w.TotalRequests), nonNeg("total_failures", w.TotalFailures),
	)
	if err != nil {
		return p, err
	}
	if w.Failures > w.Requests {
		return p, problemf("failures", "%d failures but %d requests", w.Failures, w.Requests)
	}
	if w.TotalFailures > w.TotalRequests {
		return p, problemf("total_failures", "%d failures but %d total_requests", w.TotalFailures, w.TotalRequests)
	}
	if len(w.RecentMS) != stats.NumPercentiles {
		return p, problemf("recent_ms", "%d values, want %d (one per percentile %v)", len(w.RecentMS), stats.NumPercentiles, stats.Percentiles)
	}
	for i, v := range w.RecentMS {
		p.RecentMS[i] = float64(v)
	}
	if p.Time, err = parseTime("time", w.Time); err != nil {
		return p, err
	}
	return p, nil
}

func failure(w *wireFailure) (stats.Failure, error) {
	f := stats.Failure{Method: w.Method, Name: w.Name, Error: w.Error, Occurrences: w.Occurrences}
	err := firstErr(name("method", w.Method), name("name", w.Name), message("error", w.Error), nonNeg("occurrences", w.Occurrences))
	if err != nil {
		return f, err
	}
	if f.FirstSeen, err = parseTime("first_seen", w.FirstSeen); err != nil {
		return f, err
	}
	if f.LastSeen, err = parseTime("last_seen", w.LastSeen); err != nil {
		return f, err
	}
	return f, nil
}

func (d *decoder) checks(ws []wireCheck) ([]target.Check, error) {
	return decodeList(ws, limits.checks, "checks", func(w wireCheck) (target.Check, error) {
		c := target.Check{
			Endpoint: w.Endpoint, Metric: w.Metric, Value: float64(w.Value),
			Bounds: target.Bounds{Target: float64(w.Bounds.Target), Acceptable: float64(w.Bounds.Acceptable), Poor: float64(w.Bounds.Poor)},
			Gated:  w.Gated, Pass: w.Pass, Message: w.Message,
		}
		err := firstErr(name("endpoint", w.Endpoint), name("metric", w.Metric), message("message", w.Message))
		if err == nil && w.Grade != nil {
			if c.Grade, err = target.ParseGrade(*w.Grade); err != nil {
				err = problemf("grade", "%q is not a grade: want \"Target\", \"Acceptable\", \"Needs investigation\", \"Poor\" or null", clip(*w.Grade, 64))
			}
		}
		return c, err
	})
}

// decodeList decodes at most limit items of a list with one, naming the index
// of the item at fault; an empty list decodes to nil.
func decodeList[W, T any](ws []W, limit int, what string, one func(W) (T, error)) ([]T, error) {
	if len(ws) > limit {
		return nil, problemf("", "%d %s, more than the limit of %d", len(ws), what, limit)
	}
	if len(ws) == 0 {
		return nil, nil
	}
	out := make([]T, len(ws))
	for i, w := range ws {
		v, err := one(w)
		if err != nil {
			return nil, at(fmt.Sprintf("[%d]", i), err)
		}
		out[i] = v
	}
	return out, nil
}

func (d *decoder) alerts(ws []wireAlert) ([]target.AlertResult, error) {
	return decodeList(ws, limits.alerts, "alerts", func(w wireAlert) (target.AlertResult, error) {
		a := target.AlertResult{Name: w.Name, Value: float64(w.Value), Limit: float64(w.Limit), Fired: w.Fired, Message: w.Message}
		return a, firstErr(name("name", w.Name), message("message", w.Message))
	})
}

func (d *decoder) baseline(w *wireBaseline) (compare.Result, error) {
	r := compare.Result{
		Baseline: w.Baseline,
		Limits: compare.Limits{
			LatencyPct: float64(w.Limits.LatencyPct), FloorMS: float64(w.Limits.FloorMS),
			RPSPct: float64(w.Limits.RPSPct), FailurePts: float64(w.Limits.FailurePts),
		},
	}
	var err error
	if err = name("baseline", w.Baseline); err != nil {
		return r, err
	}
	if r.BaselineStart, err = parseTime("baseline_start", w.BaselineStart); err != nil {
		return r, err
	}
	if len(w.Rows) > limits.rows {
		return r, problemf("rows", "%d rows, more than the limit of %d", len(w.Rows), limits.rows)
	}
	if len(w.Rows) > 0 {
		r.Rows = make([]compare.Row, len(w.Rows))
		for i, row := range w.Rows {
			if err := firstErr(name("entry", row.Entry), name("metric", row.Metric), message("note", row.Note)); err != nil {
				return r, at(fmt.Sprintf("rows[%d]", i), err)
			}
			r.Rows[i] = compare.Row{
				Entry: row.Entry, Metric: row.Metric, Old: float64(row.Old), New: float64(row.New),
				ChangePct: float64(row.ChangePct), Gated: row.Gated, Regressed: row.Regressed, Note: row.Note,
			}
		}
	}
	if r.OnlyInBaseline, err = strs(w.OnlyInBaseline, limits.nameBytes); err != nil {
		return r, at("only_in_baseline", err)
	}
	if r.OnlyInRun, err = strs(w.OnlyInRun, limits.nameBytes); err != nil {
		return r, at("only_in_run", err)
	}
	return r, nil
}

// ---- Field checks ----

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func nonNeg(field string, v int64) error {
	if v < 0 {
		return problemf(field, "%d is negative", v)
	}
	return nil
}

func text(field, s string, max int) error {
	if len(s) > max {
		return problemf(field, "%d bytes, longer than the %s limit", len(s), byteSize(max))
	}
	return nil
}

func name(field, s string) error    { return text(field, s, limits.nameBytes) }
func message(field, s string) error { return text(field, s, limits.messageBytes) }

// strs checks a list of strings; an empty list decodes as nil.
func strs(ss []string, max int) ([]string, error) {
	if len(ss) > limits.strings {
		return nil, problemf("", "%d strings, more than the limit of %d", len(ss), limits.strings)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	for i, s := range ss {
		if err := text(fmt.Sprintf("[%d]", i), s, max); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

// parseTime reads an RFC 3339 time; "" (or a missing key) is the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) > 64 {
		return time.Time{}, problemf(field, "%d bytes is too long for an RFC 3339 time", len(s))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, problemf(field, "%q is not an RFC 3339 time", s)
	}
	return t, nil
}
