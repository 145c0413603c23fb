//go:build !race

package ircsock

// raceEnabled is true when the tests run under the race detector, whose
// sync.Pool drops a random share of what is put in it.
const raceEnabled = false
