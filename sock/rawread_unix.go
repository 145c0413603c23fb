//go:build unix

package sock

import (
	"io"
	"syscall"
)

// rawReads says whether a plaintext TCP wheel reads through its file
// descriptor (see [Wheel.readFD]) instead of net.Conn.Read.
const rawReads = true

// readFD runs inside RawConn.Read: a buffer is taken from the pool only
// when the socket has data, so a wheel waiting for input holds none.
func (w *Wheel) readFD(fd uintptr) bool {
	bp := getBuf()
	for {
		n, err := syscall.Read(int(fd), (*bp)[:cap(*bp)])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			putBuf(bp)
			if w.parking || w.lastWords.Load() {
				// Do not wait here: the wheel parks on the poller, or
				// a write failed and what was readable has been read.
				w.rerr = errAgain
				return true
			}
			return false
		}
		if err != nil {
			putBuf(bp)
			w.rerr = err
			return true
		}
		if n == 0 {
			putBuf(bp)
			w.rerr = io.EOF
			return true
		}
		w.rbuf, w.rn = shrinkRead(bp, n), int32(n)
		return true
	}
}
