// Package perf holds the load scenarios of the X-Agent performance suite as Go
// tests and benchmarks: TestLoad* runs a scenario and fails on the performance
// target table, Benchmark* measures per-endpoint throughput.
//
//	go test ./perf -run TestLoadLight -v
//	go test ./perf -run TestLoadMedium -v -timeout 0 -host http://localhost:8000
//	go test ./perf -run '^$' -bench BenchmarkEndpoint
//
// With no -host the scenarios target an in-process fake of the X-Agent API.
//
// It is also the API a load test of any HTTP API is written in, from this
// module or another: describe user classes (Class, Task, Hook, Request, the
// waits) in a Scenario and call Run from a TestLoad* function; the harness's
// flags (-users, -host, -duration, …) are defined by importing this package.
// X-Agent's own scenarios (load_test.go) are one user of it. See the README,
// "Writing your own scenario".
package perf
