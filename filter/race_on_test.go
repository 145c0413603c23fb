//go:build race

package filter

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = true
