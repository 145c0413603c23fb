// Package interop holds the test suite that runs ircsock against software
// nobody here wrote: ngircd over a compressed server link (plain and TLS, in
// both directions), real IRC clients (ii and weechat-headless) against
// `ircsock serve`, and openssl s_client against serve's TLS listener.
//
// The package has no code of its own; everything lives in _test.go files.
// The harness there starts each peer in the foreground on ephemeral
// 127.0.0.1 ports with its files in a per-test temporary directory, copies
// its output into the test log, bounds every wait and kills every process
// when the test ends.
//
// The peers come from Debian: apt-get install ngircd ii weechat-headless
// openssl. A missing peer skips its test, except under CI=true where it
// fails the test.
package interop
