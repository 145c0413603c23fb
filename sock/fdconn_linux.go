//go:build linux

package sock

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// canFD says whether this build can accept connections as [FDConn]s.
const canFD = true

// An FDConn is a plaintext TCP connection held as a bare socket
// descriptor (Linux only): a [Listener] with [ListenConfig.FDConns] hands
// these out instead of *net.TCPConn. It is a net.Conn like any other
// (deadlines, half-close, concurrent Read, Write and Close), and a
// syscall.Conn, so a [Wheel] reads and writes its descriptor directly
// and parks it on the shared poller as it does a *net.TCPConn's.
//
// What it saves is the Go runtime's own per-socket state: a *net.TCPConn
// carries a netFD and its addresses on the heap and a poll descriptor
// outside it, which an idle connection pays for nothing (BENCHMARKS.md,
// "Bare descriptors and smaller records", has what it comes to). An
// FDConn is one small object; the runtime's poller never sees its
// descriptor. A goroutine that must wait for it (a blocking Read or
// Write, never a parked [Wheel]) waits on a second epoll instance shared
// by the process, started on the first wait and stopped when the last
// FDConn that waited is closed.
//
// The descriptor is closed when Close has been called and the last
// system call using it has returned, so a number reused by a later
// accept can never receive another connection's bytes.
type FDConn struct {
	fd    int32
	state atomic.Uint32 // fdClosed, plus the number of system calls holding fd
	rdl   atomic.Int64  // read deadline, Unix nanoseconds; 0: none
	wdl   atomic.Int64  // write deadline

	remote netip.AddrPort
	// local is shared by the connections a listener accepts on one
	// address, which is most of them (see fdConnOf).
	local *netip.AddrPort

	// One Read and one Write at a time, as net's own locks make them:
	// a Write goes out whole, and each way has at most one waiter.
	rmu, wmu sync.Mutex

	// wt is made by the first wait: most connections never block.
	wt atomic.Pointer[fdWait]
}

// fdWait is what an FDConn needs to block. mu orders its registration
// with the wait poller against Close and the deadline setters; the two
// channels, each holding at most one wake-up, are made with it and never
// change after.
type fdWait struct {
	mu    sync.Mutex
	id    uint64 // in the wait poller; 0: not registered
	rwake chan struct{}
	wwake chan struct{}
}

// fdClosed is the state bit Close sets; the bits below count the holders.
const fdClosed = 1 << 31

// newFDConn takes over fd, a connected non-blocking TCP socket.
func newFDConn(fd int, remote netip.AddrPort, local *netip.AddrPort) *FDConn {
	return &FDConn{fd: int32(fd), remote: remote, local: local}
}

// hold keeps the descriptor open for one system call; false means the
// connection is closed.
func (c *FDConn) hold() bool {
	for {
		s := c.state.Load()
		if s&fdClosed != 0 {
			return false
		}
		if c.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// drop ends a hold; the last one after Close closes the descriptor.
func (c *FDConn) drop() {
	if c.state.Add(^uint32(0)) == fdClosed {
		c.destroy()
	}
}

// destroy closes the descriptor, once, after Close and every hold.
func (c *FDConn) destroy() {
	if wt := c.wt.Load(); wt != nil && wt.id != 0 {
		waitLeave(wt.id)
	}
	_ = syscall.Close(int(c.fd))
}

// Close closes the connection: a Read or Write waiting returns
// net.ErrClosed, and the descriptor is closed as soon as no system call
// uses it, at once in the common case. As with *net.TCPConn, input left
// unread makes the kernel reset the connection.
func (c *FDConn) Close() error {
	for {
		s := c.state.Load()
		if s&fdClosed != 0 {
			return c.opError("close", net.ErrClosed)
		}
		if c.state.CompareAndSwap(s, s|fdClosed) {
			if wt := c.wt.Load(); wt != nil {
				wt.mu.Lock()
				wake(wt.rwake)
				wake(wt.wwake)
				wt.mu.Unlock()
			}
			if s == 0 {
				c.destroy()
			}
			return nil
		}
	}
}

// wake leaves a token in ch, if it exists and has none.
func wake(ch chan struct{}) {
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Read reads as net.Conn.Read does, waiting for input if none is there.
func (c *FDConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		if c.state.Load()&fdClosed != 0 {
			return 0, c.opError("read", net.ErrClosed)
		}
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if expired(c.rdl.Load()) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if !c.hold() {
			return 0, c.opError("read", net.ErrClosed)
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(int(c.fd), p) })
		c.drop()
		switch {
		case err == syscall.EAGAIN:
			if err := c.wait(false, &c.rdl); err != nil {
				return 0, c.opError("read", err)
			}
		case err != nil:
			return 0, c.opError("read", err)
		case n == 0:
			return 0, io.EOF
		default:
			return n, nil
		}
	}
}

// Write writes all of p, waiting for room in the socket as it must.
func (c *FDConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for {
		if expired(c.wdl.Load()) {
			return done, c.opError("write", os.ErrDeadlineExceeded)
		}
		if !c.hold() {
			return done, c.opError("write", net.ErrClosed)
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Write(int(c.fd), p[done:]) })
		c.drop()
		if n > 0 {
			done += n
		}
		switch {
		case err == syscall.EAGAIN:
			if err := c.wait(true, &c.wdl); err != nil {
				return done, c.opError("write", err)
			}
		case err != nil:
			return done, c.opError("write", err)
		case done == len(p):
			return done, nil
		}
	}
}

func ignoringEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// io runs f on the descriptor until it reports done, waiting for the
// socket between tries; write says which way (and which deadline). It is
// RawConn.Read and Write.
func (c *FDConn) io(write bool, f func(fd uintptr) bool) error {
	dl, mu := &c.rdl, &c.rmu
	if write {
		dl, mu = &c.wdl, &c.wmu
	}
	mu.Lock()
	defer mu.Unlock()
	for {
		if expired(dl.Load()) {
			return os.ErrDeadlineExceeded
		}
		if !c.hold() {
			return net.ErrClosed
		}
		done := f(uintptr(c.fd))
		c.drop()
		if done {
			return nil
		}
		if err := c.wait(write, dl); err != nil {
			return err
		}
	}
}

func expired(dl int64) bool { return dl != 0 && time.Now().UnixNano() >= dl }

// wait blocks until the socket may have become ready the way asked,
// the deadline passes or changes, or the connection is closed; the
// caller tries again in every case. The socket is registered with the
// wait poller once, on its first wait, edge-triggered for both ways, as
// the runtime's own poller does it: the kernel reports each new arrival
// of input or of room after the caller's EAGAIN, and the registration
// itself reports readiness that came before it, so no wait needs a
// system call of its own. A wake-up left from an earlier edge only costs
// the caller one more try.
func (c *FDConn) wait(write bool, dl *atomic.Int64) error {
	wt := loadOrNew(&c.wt)
	wt.mu.Lock()
	if wt.id == 0 {
		if err := c.registerLocked(wt); err != nil {
			wt.mu.Unlock()
			return err
		}
	}
	tok := wt.rwake
	if write {
		tok = wt.wwake
	}
	wt.mu.Unlock()
	d := dl.Load()
	if d == 0 {
		<-tok
		return nil
	}
	left := time.Duration(d - time.Now().UnixNano())
	if left <= 0 {
		return nil
	}
	t := time.NewTimer(left)
	select {
	case <-tok:
	case <-t.C:
	}
	t.Stop()
	return nil
}

// registerLocked adds the socket to the wait poller, under wt.mu. The
// hold orders it against Close: a Close that comes after it finds wt
// (stored before the hold) and wakes the channels made here.
func (c *FDConn) registerLocked(wt *fdWait) error {
	if !c.hold() {
		return net.ErrClosed
	}
	defer c.drop()
	wt.rwake = make(chan struct{}, 1)
	wt.wwake = make(chan struct{}, 1)
	id, err := waitJoin(wt, int(c.fd))
	if err != nil {
		wt.rwake, wt.wwake = nil, nil
		return err
	}
	wt.id = id
	return nil
}

// ready is the wait poller's: it wakes whoever waits for what the
// event bits say (an error or hang-up, both ways).
func (wt *fdWait) ready(events uint32) {
	if events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		wake(wt.rwake)
	}
	if events&(syscall.EPOLLOUT|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		wake(wt.wwake)
	}
}

// CloseWrite shuts down the sending side: the peer reads the end of the
// stream after what was written.
func (c *FDConn) CloseWrite() error { return c.shutdown(syscall.SHUT_WR) }

// CloseRead shuts down the receiving side.
func (c *FDConn) CloseRead() error { return c.shutdown(syscall.SHUT_RD) }

func (c *FDConn) shutdown(how int) error {
	if !c.hold() {
		return c.opError("close", net.ErrClosed)
	}
	err := syscall.Shutdown(int(c.fd), how)
	c.drop()
	if err != nil {
		return c.opError("close", os.NewSyscallError("shutdown", err))
	}
	return nil
}

// SetReadBuffer sets the size of the socket's receive buffer, as
// *net.TCPConn's method does.
func (c *FDConn) SetReadBuffer(bytes int) error {
	return c.setsockopt(syscall.SOL_SOCKET, syscall.SO_RCVBUF, bytes)
}

// SetWriteBuffer sets the size of the socket's send buffer, as
// *net.TCPConn's method does.
func (c *FDConn) SetWriteBuffer(bytes int) error {
	return c.setsockopt(syscall.SOL_SOCKET, syscall.SO_SNDBUF, bytes)
}

// SetNoDelay turns Nagle's algorithm off (true, the default) or on.
func (c *FDConn) SetNoDelay(noDelay bool) error {
	v := 0
	if noDelay {
		v = 1
	}
	return c.setsockopt(syscall.IPPROTO_TCP, syscall.TCP_NODELAY, v)
}

func (c *FDConn) setsockopt(level, opt, v int) error {
	if !c.hold() {
		return c.opError("set", net.ErrClosed)
	}
	err := syscall.SetsockoptInt(int(c.fd), level, opt, v)
	c.drop()
	if err != nil {
		return c.opError("set", os.NewSyscallError("setsockopt", err))
	}
	return nil
}

// LocalAddr returns the local address, a *net.TCPAddr.
func (c *FDConn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(*c.local) }

// RemoteAddr returns the peer's address, a *net.TCPAddr.
func (c *FDConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }

// LocalAddrPort returns the local address without allocating.
func (c *FDConn) LocalAddrPort() netip.AddrPort { return *c.local }

// RemoteAddrPort returns the peer's address without allocating.
func (c *FDConn) RemoteAddrPort() netip.AddrPort { return c.remote }

// SetDeadline sets both deadlines.
func (c *FDConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets when Read gives up with os.ErrDeadlineExceeded;
// a Read waiting now sees the new deadline. The zero time means none.
func (c *FDConn) SetReadDeadline(t time.Time) error { return c.setDeadline(&c.rdl, t, false) }

// SetWriteDeadline sets when Write gives up, as SetReadDeadline does for
// Read. Bytes written before are not taken back.
func (c *FDConn) SetWriteDeadline(t time.Time) error { return c.setDeadline(&c.wdl, t, true) }

func (c *FDConn) setDeadline(dl *atomic.Int64, t time.Time, write bool) error {
	if c.state.Load()&fdClosed != 0 {
		return c.opError("set", net.ErrClosed)
	}
	var d int64
	if !t.IsZero() {
		d = max(t.UnixNano(), 1)
	}
	dl.Store(d)
	if wt := c.wt.Load(); wt != nil {
		wt.mu.Lock()
		if write {
			wake(wt.wwake)
		} else {
			wake(wt.rwake)
		}
		wt.mu.Unlock()
	}
	return nil
}

// SyscallConn gives access to the descriptor, as *net.TCPConn's does:
// RawConn.Read and Write wait on the wait poller when their function
// reports false, and every call holds the descriptor open while it runs.
func (c *FDConn) SyscallConn() (syscall.RawConn, error) { return (*fdRaw)(c), nil }

func (c *FDConn) opError(op string, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// fdRaw is an FDConn seen as a syscall.RawConn.
type fdRaw FDConn

func (r *fdRaw) Control(f func(fd uintptr)) error {
	c := (*FDConn)(r)
	if !c.hold() {
		return c.opError("raw-control", net.ErrClosed)
	}
	f(uintptr(c.fd))
	c.drop()
	return nil
}

func (r *fdRaw) Read(f func(fd uintptr) bool) error {
	c := (*FDConn)(r)
	if err := c.io(false, f); err != nil {
		return c.opError("raw-read", err)
	}
	return nil
}

func (r *fdRaw) Write(f func(fd uintptr) bool) error {
	c := (*FDConn)(r)
	if err := c.io(true, f); err != nil {
		return c.opError("raw-write", err)
	}
	return nil
}

// The wait poller: one epoll instance on which FDConns that must block
// wait, set up as the parking poller is (see poller), with its own set:
// a wheel's socket may be parked for input there while its writer waits
// for room here, and one epoll set cannot hold a descriptor twice.
type waitPoller struct {
	ep    *epollLoop
	conns map[uint64]*fdWait // under waitMu
	next  uint64
}

var (
	waitMu  sync.Mutex
	curWait *waitPoller
)

// waitJoin registers the socket fd, whose waiters wt wakes, with the
// wait poller, starting it if need be, and returns its id there. The
// socket is added edge-triggered for input, room and the peer's end of
// stream.
func waitJoin(wt *fdWait, fd int) (uint64, error) {
	waitMu.Lock()
	defer waitMu.Unlock()
	p := curWait
	if p == nil {
		p = &waitPoller{conns: make(map[uint64]*fdWait)}
		ep, err := newEpollLoop(p.dispatch)
		if err != nil {
			return 0, err
		}
		p.ep = ep
		curWait = p
	}
	p.next++
	id := p.next
	// Added to the map first: an event may come before EpollCtl returns.
	p.conns[id] = wt
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET,
		Fd:     int32(uint32(id)),
		Pad:    int32(uint32(id >> 32)),
	}
	if err := syscall.EpollCtl(p.ep.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		delete(p.conns, id)
		if len(p.conns) == 0 {
			curWait = nil
			waitMu.Unlock()
			p.ep.stop()
			waitMu.Lock()
		}
		return 0, os.NewSyscallError("epoll_ctl", err)
	}
	return id, nil
}

// epollET is EPOLLET as the uint32 an EpollEvent holds (the syscall
// package's constant is negative).
const epollET = 1 << 31

// waitLeave forgets a connection whose descriptor is being closed
// (closing it takes it out of the epoll set); the last one stops the
// poller.
func waitLeave(id uint64) {
	waitMu.Lock()
	p := curWait
	delete(p.conns, id)
	last := len(p.conns) == 0
	if last {
		curWait = nil
	}
	waitMu.Unlock()
	if last {
		p.ep.stop()
	}
}

// dispatch wakes the waiters of the connections the epoll loop reported.
// Under waitMu throughout: a wake-up is a send that never blocks.
func (p *waitPoller) dispatch(evs []epollReady) {
	waitMu.Lock()
	for _, ev := range evs {
		if wt := p.conns[ev.id]; wt != nil {
			wt.ready(ev.events)
		}
	}
	waitMu.Unlock()
}

// fdConnOf turns c, a *net.TCPConn just accepted, into an FDConn: its
// descriptor is duplicated and c closed, so that the runtime's poll
// descriptor goes back to its cache for the next accept and the netFD
// to the collector. The socket keeps what net's accept set up (no Nagle
// delay, keep-alive) and the addresses net read. A listener's socket
// cannot be waited on through its RawConn, so the accept itself stays
// net's. If the descriptor cannot be duplicated (out of descriptors),
// c is kept as it is. last is the local address of the listener's
// previous FDConn: shared with this one when it is the same.
func fdConnOf(c net.Conn, last **netip.AddrPort) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = dupCloexec(int(fd))
	}); err != nil || derr != nil {
		return c
	}
	remote, _ := tc.RemoteAddr().(*net.TCPAddr)
	local, _ := tc.LocalAddr().(*net.TCPAddr)
	_ = tc.Close()
	if lap := addrPortOf(local); *last == nil || **last != lap {
		*last = &lap
	}
	return newFDConn(nfd, addrPortOf(remote), *last)
}

func dupCloexec(fd int) (int, error) {
	for {
		nfd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(nfd), nil
	}
}

func addrPortOf(a *net.TCPAddr) netip.AddrPort {
	if a == nil {
		return netip.AddrPort{}
	}
	return a.AddrPort()
}
