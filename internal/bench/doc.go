// Package bench holds Rampart's load benchmark: it seeds an instance with
// 1,000 users, a skewed follow graph, 100,000 statuses (or BENCH_STATUSES)
// and their favourites and notifications, starts the real rampart binary on
// loopback, and measures its read endpoints and posting over HTTP
// (throughput, also as a fraction of a bare net/http hello-world measured
// in the same run; p50/p99 latency; the server's RSS and CPU per request;
// its start-up), with CPU and allocation profiles on request; and, on a
// server of its own, the delivery of one post to 10,000 remote followers on
// 100 test inbox hosts (delivery_test.go); and, on another, the streaming
// API: 10,000 idle WebSockets (the server's memory per socket, the time to
// accept them) and posts fanned out to 1,000 public-stream subscribers
// (streaming_test.go). It has no code of its own, only tests; run it with
// scripts/bench. Results and how to read them: docs/performance.md.
//
// Speed targets live here, never in timed tests: the machines that run the
// test suite are shared and noisy.
package bench
