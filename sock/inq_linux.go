package sock

import (
	"net"
	"syscall"
	"unsafe"
)

// kernelUnread returns how many bytes the kernel has received for conn
// that nobody has read yet (SIOCINQ, which is TIOCINQ on Linux), and
// whether it could tell: false for a connection without a socket.
func kernelUnread(conn net.Conn) (int, bool) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 {
		return 0, false
	}
	return int(n), true
}
