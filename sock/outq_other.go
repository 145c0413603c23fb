//go:build !linux

package sock

import "net"

// kernelUnacked is 0 where the kernel's unacknowledged send queue cannot
// be read: only bytes still in the wheel's own queue count as undelivered.
func kernelUnacked(conn net.Conn, shut bool) int64 { return 0 }
