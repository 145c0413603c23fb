// Package hostile holds no code of its own: it is the hostile-input, fault
// and overload matrix of the ircsock module, and its soak benchmark.
//
// Every test provokes one fault for real on loopback against a running
// [github.com/ircsock/ircsock.Backend] (or the server behind `ircsock
// serve`, [github.com/ircsock/ircsock/internal/ircd.Server]) and checks the
// same five things:
//
//   - the offending connection gets a clear, named reason: in its
//     [github.com/ircsock/ircsock.Disconnect] event, an
//     [github.com/ircsock/ircsock.InputError] event, a listener or connector
//     failure event, or an ERROR line to the peer, as fits the fault;
//   - another, well-behaved connection on the same Backend keeps being
//     served during and after the fault (a line it sends is echoed back);
//   - memory stays within the configured limits (heap sampled while the
//     fault runs, compared with a baseline taken after a GC);
//   - no goroutine outlives the Backend (go.uber.org/goleak);
//   - nothing panics.
//
// The rows, one test function per group and one subtest per row:
//
//   - lines (lines_test.go): endless lines, over-long lines, lone CR, NUL,
//     invalid UTF-8, empty and blank lines, tags only, over-long tag
//     sections, floods of tiny tags, malformed escapes;
//   - compression (zlib_test.go): decompression bombs, corrupt and finished
//     streams, garbage after the switch, double switches, unsetting with
//     data in flight, against a peer that writes its own zlib with
//     compress/zlib;
//   - TLS (tls_test.go): plaintext and garbage on a TLS port, a handshake
//     that stalls, expired and untrusted certificates on a connector;
//   - slow and stuck peers (slow_test.go): a reader that never reads,
//     slowloris, half-close, reset in the middle of a write;
//   - overload (overload_test.go): connection storms against the connection
//     limits, accept with no file descriptors left, a slow controller;
//   - misuse of the API (misuse_test.go).
//
// BenchmarkSoak (soak_test.go) runs 1,000 loopback clients mixing
// well-behaved traffic with the faults above for a bounded time and checks
// that every well-behaved client got every message back, in order. Run it
// with
//
//	go test -run '^$' -bench Soak -benchtime 1x ./internal/hostile
//
// and set HOSTILE_SOAK (a time.Duration, default 20s) to change its length.
// The fuzz target of the whole read path, FuzzReadPath, is in package
// fuzz at the top of the repository, with the other targets that cross
// packages.
package hostile
