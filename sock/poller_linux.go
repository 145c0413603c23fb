//go:build linux

package sock

import (
	"os"
	"sync"
	"syscall"
)

// canPark says whether this build parks idle plaintext wheels on the
// shared poller (see [Wheel.Start]).
const canPark = true

// The poller is the one epoll instance on which every started plaintext
// TCP wheel parks while it waits for input, so that an idle connection
// holds no goroutine. It is process-wide and started lazily: the first
// [Wheel.Start] of a parkable wheel creates it, and the last such wheel to
// finish closes it and waits for its goroutine to exit, so it holds no
// file descriptor and no goroutine while no started wheel is alive.
//
// Its goroutine does not block in epoll_wait: the epoll descriptor is
// itself handed to the Go runtime's network poller (an epoll instance is
// readable while one of its watched descriptors is ready), so the
// goroutine sleeps the way any net.Conn read does, and closing the
// descriptor ends it.
type poller struct {
	f    *os.File
	rc   syscall.RawConn
	epfd int
	done chan struct{} // closed when the goroutine has exited

	// Guarded by pollMu.
	wheels map[uint64]*Wheel
	next   uint64
}

var (
	pollMu  sync.Mutex
	curPoll *poller
)

// pollBatch is how many readiness events one epoll_wait takes.
const pollBatch = 128

// register attaches w to the shared poller, starting it if need be. It
// reports false if no poller can be had (out of file descriptors, say):
// the wheel then reads on a goroutine of its own, as [Wheel.Run] does.
func (w *Wheel) register() bool {
	var idle *poller // a poller left with no wheel, stopped on the way out
	defer func() {
		if idle != nil {
			idle.stop()
		}
	}()
	pollMu.Lock()
	defer pollMu.Unlock()
	p := curPoll
	if p == nil {
		var err error
		if p, err = newPoller(); err != nil {
			return false
		}
		curPoll = p
	}
	p.next++
	id := p.next
	// Added disarmed (one-shot with no event asked for), so that arming
	// is always a MOD, made only by the goroutine that parks the wheel.
	ev := syscall.EpollEvent{Events: syscall.EPOLLONESHOT, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var cerr error
	err := w.raw.Control(func(fd uintptr) {
		cerr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		if len(p.wheels) == 0 {
			curPoll, idle = nil, p
		}
		return false
	}
	w.poll, w.pollID = p, id
	p.wheels[id] = w
	return true
}

// unregister detaches w; the last wheel to leave closes the poller and
// waits for its goroutine.
func (w *Wheel) unregister() {
	p := w.poll
	if p == nil {
		return
	}
	// Before the connection is closed, while the descriptor still names
	// this socket. An error means it is closed already, and closing took
	// it out of the epoll set.
	_ = w.raw.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	pollMu.Lock()
	delete(p.wheels, w.pollID)
	last := len(p.wheels) == 0
	if last {
		curPoll = nil
	}
	pollMu.Unlock()
	if last {
		p.stop()
	}
}

// stop closes the poller and waits for its goroutine.
func (p *poller) stop() {
	_ = p.f.Close()
	<-p.done
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return nil, err
	}
	// A non-blocking descriptor makes os.NewFile register it with the
	// runtime's poller.
	f := os.NewFile(uintptr(epfd), "sock-poller")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	p := &poller{f: f, rc: rc, epfd: epfd, done: make(chan struct{}), wheels: make(map[uint64]*Wheel)}
	go p.run()
	return p, nil
}

// run hands each ready wheel back to a goroutine until the poller is
// closed.
func (p *poller) run() {
	defer close(p.done)
	var evs [pollBatch]syscall.EpollEvent
	var ready []*Wheel
	// Collect under the callback, resume outside it: the callback holds
	// the descriptor's read lock. Built once: a closure per wake-up
	// would be an allocation per wake-up.
	collect := func(fd uintptr) bool {
		for {
			n, err := syscall.EpollWait(int(fd), evs[:], 0)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return len(ready) > 0
			}
			pollMu.Lock()
			for _, ev := range evs[:n] {
				// The wheel's id, never the bare descriptor number:
				// descriptors are reused, ids are not.
				id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
				if w := p.wheels[id]; w != nil {
					ready = append(ready, w)
				}
			}
			pollMu.Unlock()
			if n < len(evs) {
				return len(ready) > 0
			}
		}
	}
	for {
		err := p.rc.Read(collect)
		for i, w := range ready {
			w.resume()
			ready[i] = nil
		}
		ready = ready[:0]
		if err != nil {
			return
		}
	}
}

// arm asks the poller for one readiness event (input, the peer's end of
// stream, an error) of w's socket. Level-triggered, so input that came
// before the call is reported at once; one-shot, so the event comes once
// per arm and a running wheel gets none.
func (w *Wheel) arm() error {
	a := armers.Get().(*armer)
	a.epfd = w.poll.epfd
	a.ev = syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd:     int32(uint32(w.pollID)),
		Pad:    int32(uint32(w.pollID >> 32)),
	}
	err := w.raw.Control(a.fn)
	if err == nil {
		err = a.err
	}
	a.err = nil
	armers.Put(a)
	return err
}

// An armer carries one arm's arguments into RawConn.Control and its
// result out. They are pooled, with their callback built once, so that
// arming allocates nothing and a wheel keeps no callback of its own.
type armer struct {
	epfd int
	ev   syscall.EpollEvent
	err  error
	fn   func(fd uintptr)
}

var armers = sync.Pool{New: func() any {
	a := new(armer)
	a.fn = func(fd uintptr) { a.err = syscall.EpollCtl(a.epfd, syscall.EPOLL_CTL_MOD, int(fd), &a.ev) }
	return a
}}
