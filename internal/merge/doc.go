// Package merge combines the run files of the segments of one distributed run
// (each process ran -segment i/n of the same scenario against the same host)
// into one Run.
//
// Files refuses files that cannot be segments of one run: a different
// scenario, host, load model or number of segments, a segment given twice, or
// segmented runs mixed with whole ones. A missing segment is not an error: the
// merged run covers the segments it was given (Meta.Segment lists them, e.g.
// "1,2/3" or "1-4/4") and a warning says which are missing.
//
// What is exact and what is not:
//
//   - Entries, the aggregate and therefore every overall percentile are exact:
//     counts, sums, minima and maxima add up or compare exactly, and the HDR
//     histograms of both clocks (service and response time) merge bucket by
//     bucket, as if one recorder had seen every request. Failures add up by
//     (method, name, error) with the earliest first and latest last sighting;
//     exceptions add up by message.
//   - Time series (the aggregate's and, when every segment kept entry history,
//     each entry's) are aligned on the wall-clock second: the points of all
//     segments whose time falls in the same second (UTC, truncated) make one
//     point, timed at the latest of them (a segment's own points in one
//     second, e.g. a short final interval, merge first, with the most users
//     of any of them). Users, requests, failures and the rates add up: a
//     second's users are the sum of the users each segment ran in that second;
//     a segment with a gap (no point in a second between two of its points)
//     still counts its users, one that has not started or has ended does not.
//     The cumulative columns are exact: a segment with no point in that
//     second contributes its latest earlier point (carried forward), so
//     TotalRequests and TotalFailures add up, TotalMinMS and TotalMaxMS are
//     the minimum and maximum, and TotalAvgMS and TotalAvgBytes are
//     request-weighted means (exact up to rounding).
//   - Per-second percentiles of a merged series (P50MS, P95MS, RespP50MS,
//     RespP95MS, RecentMS and TotalMedianMS) are APPROXIMATE: a point keeps
//     percentiles, not a histogram, so they are the means of the segments'
//     values weighted by the segments' requests (in that second; cumulative
//     requests for TotalMedianMS). The run's overall percentiles, from the
//     merged histograms, are exact.
//   - The generator's lag percentiles (Lag.P50MS, P90MS, P99MS) are the worst
//     of the segments', a conservative bound rather than the percentile of the
//     merged lags (a run file keeps no lag histogram); Lag.MaxMS is exact. The
//     runtime's latencies, pauses and CPU use are likewise the worst segment's.
//
// Meta.Users is what ran: the most users of the merged series (the segments'
// users summed second by second), not the sum of the users the segments asked
// for, which a ramp that never finished or segments that did not overlap in
// time never reached. Without users in the series (a run file without a
// series) it is that sum. Meta.SpawnRate is the sum of the segments'.
//
// Checks, alerts, the verdict and the baseline comparison are left empty: the
// caller grades the merged run again. Server is nil: every segment watched the
// same server, and the segments' views of it are not merged.
package merge
