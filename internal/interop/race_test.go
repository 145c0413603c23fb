//go:build race

package interop

// raceEnabled builds the ircsock binary under test with the race detector
// when the tests themselves run with it, so that real clients exercise
// `ircsock serve` under -race too.
const raceEnabled = true
