// Package bench holds Rampart's load benchmark: it seeds an instance with
// 1,000 users, a skewed follow graph and 100,000 statuses, starts the real
// rampart binary on loopback, and measures the home timeline and posting
// over HTTP (throughput, p50/p99 latency, the server's RSS and CPU per
// request). It has no code of its own, only bench_test.go; run it with
// scripts/bench. Results and how to read them: docs/performance.md.
//
// Speed targets live here, never in timed tests: the machines that run the
// test suite are shared and noisy.
package bench
