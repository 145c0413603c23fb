//go:build !linux

package sock

import "net"

// kernelUnread cannot tell here how much input the kernel holds unread, so
// a read after a write error waits for more up to its limit.
func kernelUnread(conn net.Conn) (int, bool) { return 0, false }
