//go:build unix

package sock

import "syscall"

// rawWrites says whether a plaintext TCP wheel writes through its file
// descriptor (see [Wheel.writeFD]) from the goroutine that flushes it.
const rawWrites = true

// writeFD runs inside RawConn.Write and never waits: it makes one
// write(2) of o.buf and reports how far it got in o.n, or the error in
// o.err. A full socket buffer (EAGAIN) is not an error; the bytes stay
// queued for a writer goroutine that does wait.
func (o *rawOp) writeFD(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), *o.buf)
		switch err {
		case nil:
			o.n = n
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
		default:
			o.err = err
		}
		return true
	}
}
