//go:build !unix

package sock

// rawReads is false where syscall.Read does not take a socket: every wheel
// reads through net.Conn.Read, holding a buffer while it waits.
const rawReads = false

// readFD is never called where rawReads is false.
func (o *rawOp) readFD(fd uintptr) bool { panic("sock: raw reads are unix-only") }
