//go:build unix

package sock

import "syscall"

// rawWrites says whether a plaintext TCP wheel writes through its file
// descriptor (see [Wheel.writeFD]) from the goroutine that flushes it.
const rawWrites = true

// writeFD runs inside RawConn.Write and never waits: it makes one
// write(2) of w.wbuf and reports how far it got in w.wn, or the error in
// w.werr. A full socket buffer (EAGAIN) is not an error; the bytes stay
// queued for a writer goroutine that does wait.
func (w *Wheel) writeFD(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), *w.wbuf)
		switch err {
		case nil:
			w.wn = int32(n) // at most len(wbuf), which MaxSendQ bounds below 1 GiB
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
		default:
			w.werr = err
		}
		return true
	}
}
