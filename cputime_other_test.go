//go:build !unix

package ircsock_test

import "time"

// cpuTime is not measured here; the echo benchmark then reports zero CPU.
func cpuTime() time.Duration { return 0 }

// syscalls is not measured here.
func syscalls() (reads, writes uint64) { return 0, 0 }
