// Package harness is the program that ties the harness's packages together:
// what one TestLoad* does, as a package a test (or any Go program) calls.
//
//	f := harness.Register(flag.CommandLine)   // -users, -host, -duration, …
//	p, err := f.Plan(scenario, harness.Env{…}) // validated before any load
//	res, err := harness.Run(ctx, p)            // run, watch, report, judge
//
// perf.Run is the thin caller go test uses: it builds the Env from -short, -v
// and the test's deadline, listens for SIGINT, and turns res.Findings into
// subtests.
//
// # Design
//
// One run flows one way, each step a package with one job, handing plain
// values to the next:
//
//	flags ──Plan──▶ runner ──Result──▶ stats.Recorder ──Snapshot──┐
//	 (harness)      (scenario,          (HDR histograms,           │
//	                 client)             counters, series)         ▼
//	                          monitor ──Report──▶ runfile.Run ◀── saturation
//	                          (server view)        │               (generator)
//	                                               ▼
//	                         compare (baseline) ─▶ judge ─▶ Verdict, Findings
//	                                               │
//	                         report: console, CSV, HTML, JSON; web: live UI
//
// runfile.Run is the one value every output reads, so the console, the CSV,
// the JSON run file, the HTML page and the web UI print the same figure from
// the same computation; judge.Judge is the one grader the test, the web UI
// and scripts/merge call for the verdict.
//
// # Packages
//
// Imports go down the table, never up (the internal packages each named, the
// standard library and third-party modules left out):
//
//	package               its one job                                          imports
//	perf                  TestLoad*, Benchmark*; the exported scenario API     harness judge scenario client
//	internal/harness      flags → Plan → Run: the program as a package         every internal package but merge, xagent
//	scripts/merge         merges distributed segments' run files, grades them  merge judge report runfile target
//	scripts/report        re-renders a run file; compares two                  report runfile compare
//	internal/web          the live web UI and its control API                  report runfile client stats target
//	internal/report       console tables, Locust's CSV, the HTML page          runfile compare monitor outfile saturation stats target
//	internal/merge        merges segments' runs exactly                        runfile stats
//	internal/judge        findings → the verdict (targets, alerts, baseline,   runfile runner stats target
//	                      generator, stop)
//	internal/runfile      a whole run as one value; its JSON file              compare monitor saturation stats target
//	internal/runner       spawns users or arrivals, shapes, stops with grace   scenario shape client saturation stats
//	internal/xagent       X-Agent's Locust classes as scenario data            scenario client
//	internal/shape        load shapes: user stages, arrival-rate stages        scenario
//	internal/scenario     classes, tasks, weights, waits; Locust's spread      client
//	internal/saturation   the generator's lag, runtime, host pauses; verdict   stats target
//	internal/compare      a run against a baseline, noise-aware limits         stats
//	internal/client       HTTP engines, one session per user, success rules    stats
//	internal/monitor      the server's health and Prometheus metrics           —
//	internal/stats        results → HDR histograms, counters, series           —
//	internal/target       the target table (Target/Acceptable/Poor), grading   —
//	internal/outfile      report paths: placeholders, checks, atomic writes    —
//	internal/fakeapi      the in-process X-Agent fake                          —
//
// A test of the layout's promise: internal/readmetest runs the README's
// scenario file from another module.
package harness
