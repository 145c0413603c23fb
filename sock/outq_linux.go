package sock

import (
	"crypto/tls"
	"net"
	"syscall"
	"unsafe"
)

// kernelUnacked returns how many bytes the kernel still holds for conn that
// the peer has not acknowledged (SIOCOUTQ, which is TIOCOUTQ on Linux:
// unsent plus sent but unacknowledged), or 0 when it cannot tell. For TLS
// it asks the TCP connection underneath, so the count is of encrypted
// bytes. A FIN queued by a write-side shutdown takes one sequence number
// and is counted as one byte; shut says to leave it out.
func kernelUnacked(conn net.Conn, shut bool) int64 {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 || n <= 0 {
		return 0
	}
	if shut {
		n--
	}
	return int64(n)
}
