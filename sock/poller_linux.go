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
// Its goroutine is an [epollLoop]'s.
type poller struct {
	ep *epollLoop

	// Guarded by pollMu. slots holds the registered wheels, indexed by
	// the low 32 bits of a wheel's id; the high 32 bits are the slot's
	// generation, which unregister bumps, so that an event still in
	// flight for a wheel that is gone finds nothing once another wheel
	// has its slot. A table, not a map: one 16-byte slot a wheel, where
	// a map entry takes more, and growing it leaves one old array to the
	// collector where a map leaves old tables. Neither shrinks while the
	// poller lives; free lists the slots to reuse.
	slots []pollSlot
	free  []uint32
	n     int // wheels registered

	ready []*Wheel // dispatch's scratch
}

type pollSlot struct {
	w   *Wheel
	gen uint32
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
			idle.ep.stop()
		}
	}()
	pollMu.Lock()
	defer pollMu.Unlock()
	p := curPoll
	if p == nil {
		p = &poller{}
		ep, err := newEpollLoop(p.dispatch)
		if err != nil {
			return false
		}
		p.ep = ep
		curPoll = p
	}
	id := p.take()
	// Added disarmed (one-shot with no event asked for), so that arming
	// is always a MOD, made only by the goroutine that parks the wheel.
	ev := syscall.EpollEvent{Events: syscall.EPOLLONESHOT, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var cerr error
	err := w.raw.Control(func(fd uintptr) {
		cerr = syscall.EpollCtl(p.ep.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		p.put(id)
		if p.n == 0 {
			curPoll, idle = nil, p
		}
		return false
	}
	w.poll, w.pollID = p, id
	p.slots[uint32(id)].w = w
	p.n++
	return true
}

// take reserves a slot and returns its id; pollMu is held.
func (p *poller) take() uint64 {
	var ix uint32
	if k := len(p.free); k > 0 {
		ix = p.free[k-1]
		p.free = p.free[:k-1]
	} else {
		ix = uint32(len(p.slots))
		p.slots = append(p.slots, pollSlot{})
	}
	return uint64(p.slots[ix].gen)<<32 | uint64(ix)
}

// put empties id's slot for reuse under a new generation; pollMu is
// held.
func (p *poller) put(id uint64) {
	ix := uint32(id)
	p.slots[ix] = pollSlot{gen: p.slots[ix].gen + 1}
	p.free = append(p.free, ix)
}

// wheel returns the wheel registered under id, nil if it is gone;
// pollMu is held.
func (p *poller) wheel(id uint64) *Wheel {
	if ix := uint32(id); ix < uint32(len(p.slots)) {
		if s := p.slots[ix]; s.gen == uint32(id>>32) {
			return s.w
		}
	}
	return nil
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
		_ = syscall.EpollCtl(p.ep.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	pollMu.Lock()
	p.put(w.pollID)
	p.n--
	last := p.n == 0
	if last {
		curPoll = nil
	}
	pollMu.Unlock()
	if last {
		p.ep.stop()
	}
}

// dispatch resumes the wheels the epoll loop reported ready.
func (p *poller) dispatch(evs []epollReady) {
	pollMu.Lock()
	for _, ev := range evs {
		if w := p.wheel(ev.id); w != nil {
			p.ready = append(p.ready, w)
		}
	}
	pollMu.Unlock()
	for i, w := range p.ready {
		w.resume()
		p.ready[i] = nil
	}
	p.ready = p.ready[:0]
}

// An epollLoop is an epoll instance and the goroutine that reports its
// events, by the id each registration carries in its data, to dispatch.
// The id, never the bare descriptor number: descriptors are reused, ids
// are not.
// The goroutine does not block in epoll_wait: the epoll descriptor is
// itself handed to the Go runtime's network poller (an epoll instance is
// readable while one of its watched descriptors is ready), so it sleeps
// the way any net.Conn read does, and closing the descriptor (stop) ends
// it.
type epollLoop struct {
	f        *os.File
	rc       syscall.RawConn
	epfd     int
	done     chan struct{} // closed when the goroutine has exited
	dispatch func(evs []epollReady)
}

// epollReady is one event of an epollLoop: the registration's id and the
// epoll event bits.
type epollReady struct {
	id     uint64
	events uint32
}

// stop closes the epoll instance and waits for its goroutine.
func (e *epollLoop) stop() {
	_ = e.f.Close()
	<-e.done
}

func newEpollLoop(dispatch func(evs []epollReady)) (*epollLoop, error) {
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
	e := &epollLoop{f: f, rc: rc, epfd: epfd, done: make(chan struct{}), dispatch: dispatch}
	go e.run()
	return e, nil
}

// run hands each batch of events to dispatch until the instance is
// closed.
func (e *epollLoop) run() {
	defer close(e.done)
	var evs [pollBatch]syscall.EpollEvent
	var ready []epollReady
	// Collect under the callback, dispatch outside it: the callback
	// holds the descriptor's read lock. Built once: a closure per
	// wake-up would be an allocation per wake-up.
	collect := func(fd uintptr) bool {
		for {
			n, err := syscall.EpollWait(int(fd), evs[:], 0)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return len(ready) > 0
			}
			for _, ev := range evs[:n] {
				ready = append(ready, epollReady{uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32, ev.Events})
			}
			if n < len(evs) {
				return true
			}
		}
	}
	for {
		err := e.rc.Read(collect)
		if len(ready) > 0 {
			e.dispatch(ready)
			ready = ready[:0]
		}
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
	a.epfd = w.poll.ep.epfd
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
