// Package runfile is a whole run as one value and one JSON document: the run's
// metadata, its statistics snapshot (HDR histograms included), the grades and
// verdict, and the comparison with a baseline. Every report is rendered from a
// Run, so a run file re-renders every report exactly.
//
// # Run file
//
// Encode writes a Run as one JSON object, indented by two spaces and ending in
// a newline; the same Run always gives the same bytes. Decode reads it back.
// The keys are the json tags of Run and of the types it holds (package stats,
// target, compare, saturation and monitor types), encoded and decoded by
// encoding/json/v2's rules (github.com/go-json-experiment/json). Every key
// below is always written, in this order, except an entry's response_hist
// (see below); a list with no elements is written as [], a map with none as
// {} (Decode returns nil for both).
//
// Conventions:
//   - Times are RFC 3339 strings with nanoseconds and the writer's UTC offset,
//     e.g. "2026-03-01T13:00:00.5+01:00" (UTC when the offset has seconds, which
//     RFC 3339 cannot express). Go's monotonic clock reading is not kept, so a
//     decoded snapshot measures durations and rates on the wall clock. An unset
//     (zero) time is "0001-01-01T00:00:00Z".
//   - Durations are seconds in a key ending in _s, written as an exact decimal
//     (90.5, 0.000000001): nanosecond precision survives a round trip.
//   - Latency fields end in _us (integer microseconds) or _ms (milliseconds,
//     fractional); byte counts are integers.
//   - Counts are JSON integers up to 2^63-1 (meta.seed up to 2^64-1): readers in
//     languages with 53-bit numbers should parse them as 64-bit integers.
//   - NaN and ±Inf cannot be written in JSON: every float is written as null
//     when it is not finite, and null reads back as NaN. (A value can be NaN in
//     theory, e.g. checks[].value of an ungradable metric.) The one exception
//     on reading: a server quantile's UpperMS, null for the unbounded bucket,
//     reads back as +Inf, as package monitor defines it.
//   - Strings are UTF-8; Encode writes a string that is not as if each
//     invalid byte were U+FFFD, and Decode reads such bytes as U+FFFD.
//   - Histograms are HdrHistogram's V2 compressed encoding in standard base64,
//     as hdrhistogram-go's Histogram.Encode(V2CompressedEncodingCookieBase) and
//     Java's encodeIntoCompressedByteBuffer write it (a string starting "HISTF"),
//     recording microseconds with lowest 1, highest 60000000 (60 s) and 3
//     significant digits; values outside are clamped into that range when
//     recorded. Any HdrHistogram library can decode them.
//
// Top-level keys:
//
//	format    "xagent-perf-run" (FileFormat): what the file is
//	version   1 (FileVersion): the schema version
//	meta      how the run was made
//	stats     the statistics snapshot: per-entry and aggregate counters, histograms, failures, exceptions, time series
//	checks    the graded targets, in target.Table.Evaluate's order
//	alerts    the alert limits checked
//	verdict   whether the run passed, and why not
//	baseline  the comparison with a baseline run, null without one
//	generator how the load was generated and whether the generator kept up
//	server    the server's own view of the run, null when it was not watched
//
// meta (Meta):
//
//	scenario       test name, e.g. "TestLoadLight"
//	host           base URL the load went to
//	fake           true when host is the embedded fake API
//	users          users asked for
//	spawn_rate     users started per second
//	duration_s     run time asked for, seconds (0: no limit)
//	start, end     first spawn and stop (times)
//	classes        user classes that ran (strings)
//	seed           random seed (unsigned 64-bit integer)
//	stopped        why the run stopped, e.g. "duration elapsed" or "interrupted"
//	harness        harness version that wrote the file (HarnessVersion)
//	go_version     Go release that built the harness
//	entry_history  whether each entry kept a time series (-csv-full-history)
//	segment        this process's share of a distributed run ("2/4"), or the segments a merge covers ("1-4/4"); "" for a whole run
//	start_late_s   how late the process began after -start-at, seconds
//	cancelled_in_flight  requests a stop request (Ctrl-C, the UI's Stop) cut short: interrupted, counted neither as requests nor as failures
//	gate, min_grade      the gated metrics and the lowest passing grade
//	duration       duration_s as a Go duration string, e.g. "1m30.5s"; informative only, Decode reads duration_s
//
// stats (stats.Snapshot):
//
//	start, end  the time the statistics cover (times); rates are requests over end - start
//	users       running users when the snapshot was taken
//	entries     one entry per (method, name), sorted by name then method
//	total       the aggregate entry, name "Aggregated"
//	failures    failed requests grouped by method, name and error, most frequent first
//	exceptions  harness-side errors (a task that panicked, a hook that failed), in first-seen order
//	series      the aggregate's time series, one point per interval (a second by default)
//
// An entry (stats.Entry), in stats.entries and as stats.total:
//
//	method, name   the request's HTTP method and name ("" and "Aggregated" for the total)
//	requests       requests completed
//	failures       requests that failed
//	sum_us         exact sum of service times, µs (so the mean is sum_us / requests)
//	min_us         exact minimum service time, µs (0 with no requests)
//	max_us         exact maximum service time, µs
//	content_bytes  response body bytes read
//	service_hist   histogram of service times (sent → last byte), µs
//	response_hist  histogram of response times from the intended start (what a user on
//	               a schedule sees), µs; omitted when equal to service_hist, i.e. when no
//	               request of the entry started late
//	series         the entry's own time series when meta.entry_history is true, else [];
//	               always [] for stats.total, whose series is stats.series
//
// A series point (stats.Point), in stats.series and entries[].series:
//
//	time             end of the interval (time)
//	users            running users at that time
//	requests         requests that completed in the interval
//	failures         of those, failed
//	rps, fail_ps     requests and failures per second over the interval
//	p50_ms, p95_ms   service-time percentiles of the interval alone, ms
//	resp_p50_ms      response-time (from intended start) percentiles of the interval alone, ms
//	resp_p95_ms
//	recent_ms        11 service-time percentiles, ms, over the last 10 intervals (Locust's
//	                 "current" percentiles), at 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100
//	total_requests   cumulative from the start of the run to the end of the interval
//	total_failures
//	total_median_ms  cumulative median, mean, minimum and maximum service time, ms
//	total_avg_ms
//	total_min_ms
//	total_max_ms
//	total_avg_bytes  cumulative mean response body size, bytes
//
// stats.failures[] (stats.Failure): method, name, error (the failure text),
// occurrences, first_seen and last_seen (times, when the first and last such
// request started).
//
// stats.exceptions[] (stats.Exception): message, traceback ("" when none) and
// count (occurrences).
//
// checks[] (target.Check):
//
//	endpoint  the entry's label, e.g. "GET /status"; "" for the aggregate
//	metric    metric name: median_ms, p95_ms, p99_ms, avg_ms (ms), failure_rate_pct (%), rps (req/s)
//	value     the measured value in the metric's unit (null when NaN)
//	grade     "Target", "Acceptable", "Needs investigation" or "Poor"; null when the
//	          check has no grade (a gate the target table cannot apply)
//	bounds    {"target", "acceptable", "poor"}: the bounds the value was graded against
//	gated     whether the gate covers this check
//	pass      false for a gated check worse than the gate allows, or an ungradable value
//	message   the check in one line
//
// alerts[] (target.AlertResult): name (the alert's key in the target table,
// e.g. "max_avg_ms"), value (measured), limit (configured), fired (value
// exceeded the limit or could not be compared), message (one line).
//
// verdict (Verdict): pass, and reasons: one line per failed gate, alert,
// regression or interruption.
//
// baseline (compare.Result, with the keys of its json tags):
//
//	baseline          the baseline run's name (its file)
//	baseline_start    when the baseline ran (time)
//	limits            {"latency_pct", "floor_ms", "rps_pct", "failure_pts"}: the regression limits
//	rows              one per compared metric: entry (label or "Aggregated"), metric (p50_ms,
//	                  p95_ms, p99_ms, rps, failure_rate_pct), old, new, change_pct (relative
//	                  change, %; 0 when old is 0), gated (samples big enough to judge),
//	                  regressed, note ("" or why a row is ungated or regressed)
//	only_in_baseline  entry labels found in the baseline only
//	only_in_run       entry labels found in this run only
//
// generator (Generator):
//
//	model, rate, max_inflight   the load model ("users" or "arrivals"), the open model's rate (iterations/s) and cap
//	shape, clock                the load shape and its stages; the clock latency targets were graded on
//	arrivals, iterations, dropped  the open model's iterations: due, started, dropped at the cap
//	lag                         how late tasks started (saturation.LagStats): count, p50_ms, p90_ms, p99_ms, max_ms
//	runtime                     the Go runtime over the run (saturation.Runtime): wall_s,
//	                            sched_latency_p99_ms, sched_latency_max_ms, gc_pause_p99_ms,
//	                            gc_pause_total_ms, gc_cycles, cpu_util_pct, cpu_source, gomaxprocs,
//	                            goroutines, host, notes
//	runtime.host                what the sentinel and the OS saw (saturation.Host): period_s, ticks,
//	                            pauses (start, offset_s, length_s, cpu_pct, busy_pct), pauses_dropped,
//	                            busy_stalls, busy_stall_max_s, sched_latency_own_p99_ms,
//	                            sched_latency_own_max_ms, steal_ms, steal_ok, run_queue_ms, run_queue_ok
//	saturated, reasons, notes, advice  the saturation verdict, each tripped threshold, checks not made, what to change
//
// server (Server, with monitor.Report's keys beside the poll periods):
//
//	health_every_s, metrics_every_s  poll and scrape periods, seconds; negative: off
//	scrapes, health_polls   successful /metrics scrapes; /health and /ready polls made
//	transitions             the health timeline: time, probe, status, http_status, failing, message
//	periods                 unhealthy, not-ready and unreachable intervals: probe, from, to, status
//	endpoints               per (method, route): method, route, requests, statuses (status → count),
//	                        p50, p95, p99 ({"MS", "LowerMS", "UpperMS", "Bounded"}: the quantile and
//	                        its bucket; UpperMS null for the unbounded one), polls (the monitor's own)
//	notes                   what could not be observed
//	rows                    server routes beside client entries: method, route, client_name,
//	                        server_requests, client_requests, server_p50, server_p95, server_p99,
//	                        client_p50_ms, client_p95_ms, client_p99_ms
//
// # Reading untrusted files
//
// Decode treats its input as untrusted. It requires "format" and "version"
// first ("not a run file", "version 2 is newer than this harness reads (1)"),
// ignores keys it does not know, so that a later version can add keys without
// breaking older readers (a change older readers would misread bumps the
// version), and reads missing known keys as zero values (a missing time is the
// zero time, a missing histogram an empty one). Key names match as
// encoding/json matches them, case-insensitively. Every error starts with
// "run file: " and names the JSON path of the problem or, for malformed JSON,
// its line and column, e.g.
//
//	run file: stats.entries[3].service_hist: histogram bounds 1..9000000000 sig 5, want 1..60000000 sig 3
//
// Limits, each an error when exceeded:
//   - the whole input: 512 MiB; JSON nesting: 64 levels;
//   - before decoding, as a guard against a small file that would decode
//     into far more memory: 1,500,000 JSON objects and 13,000,000 array
//     elements in the whole document;
//   - stats.entries: 10,000 (every entry holds histograms of 136 KiB in
//     memory); series points of the whole run (stats.series, stats.total.series
//     and every entry's): 1,000,000; stats.failures: 100,000; stats.exceptions:
//     10,000; checks: 100,000; alerts: 1,000; baseline.rows: 100,000; each list
//     of strings (meta.classes, verdict.reasons, baseline.only_in_*): 100,000;
//   - strings: 4 KiB for names (methods, names, labels, metrics, scenario,
//     host, classes, versions, baseline), 64 KiB for texts (failure errors,
//     exception messages, check, alert and row messages and notes, verdict
//     reasons, meta.stopped), 1 MiB for exception tracebacks;
//   - histograms: 1 MiB of base64 each (the largest possible with these bounds
//     is about 205 KiB). Before a histogram is decoded, its V2 header is read
//     and must declare lowest 1, highest 60000000, 3 significant digits and an
//     integer-to-double ratio of 1, so no file can make Decode allocate a
//     histogram of another size.
//
// Consistency checks:
//   - counts (requests, failures, sum_us, min_us, max_us, content_bytes,
//     occurrences, count, users, duration_s) are not negative; failures <=
//     requests in entries and points (and total_failures <= total_requests);
//     min_us <= max_us;
//   - service_hist, and response_hist when present, hold exactly requests
//     values;
//   - stats.total's requests and failures are the sums of the entries';
//   - no two entries share a method and name;
//   - recent_ms has exactly 11 values;
//   - grades are grade names or null, times RFC 3339.
//
// A decoded entry behaves as the recorder's: its Service histogram is never
// nil, and its Response is nil exactly when response_hist was omitted or equal
// to service_hist (package stats reads nil as "same as Service").
//
// Encode writes any Run, even one that breaks these rules; a Run made from a
// stats.Recorder snapshot always satisfies them, so its file decodes. Encode
// writes a nil histogram as an empty one.
package runfile
