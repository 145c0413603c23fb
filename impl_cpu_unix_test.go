//go:build unix

package ircsock_test

import (
	"syscall"
	"time"
)

// cpuTime returns the user plus system CPU time of the whole process. The
// echo benchmark compares CPU per message, which, unlike wall time, a
// noisy shared machine barely changes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
