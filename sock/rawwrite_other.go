//go:build !unix

package sock

// rawWrites is false where syscall.Write does not take a socket: every
// batch is written by a writer goroutine through net.Conn.Write.
const rawWrites = false

// writeFD is never called where rawWrites is false.
func (o *rawOp) writeFD(fd uintptr) bool { panic("sock: raw writes are unix-only") }
