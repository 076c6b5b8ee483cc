// Package perf holds the load scenarios of the X-Agent performance suite as Go
// tests and benchmarks: TestLoad* runs a scenario and fails on the performance
// target table, Benchmark* measures per-endpoint throughput.
//
//	go test ./perf -run TestLoadLight -v
//	go test ./perf -run TestLoadMedium -v -timeout 0 -host http://localhost:8000
//	go test ./perf -run '^$' -bench BenchmarkEndpoint
//
// With no -host the scenarios target an in-process fake of the X-Agent API.
package perf
