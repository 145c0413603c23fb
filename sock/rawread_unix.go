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
// when the socket has data, so a wheel waiting for input holds none. Its
// results go to o.buf, o.n and o.err.
func (o *rawOp) readFD(fd uintptr) bool {
	w := o.w
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
				o.err = errAgain
				return true
			}
			return false
		}
		if err != nil {
			putBuf(bp)
			o.err = err
			return true
		}
		if n == 0 {
			putBuf(bp)
			o.err = io.EOF
			return true
		}
		o.buf, o.n = shrinkRead(bp, n), n
		return true
	}
}
