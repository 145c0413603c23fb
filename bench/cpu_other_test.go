//go:build !unix

package bench

import "time"

// cpuTime is not measured here: the ratio benchmarks fall back to wall
// time.
func cpuTime() (time.Duration, bool) { return 0, false }
