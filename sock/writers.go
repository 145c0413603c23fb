package sock

import (
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// The shared writers write the batches of plaintext TCP wheels that
// Wheel.Flush wakes, the end of a burst queued to many wheels. (Write
// wakes a goroutine of the wheel's own instead: measured with serve at a
// fixed rate of single messages, the shared writers made each write
// carry fewer lines, cost more CPU and a worse p99 latency; see
// BENCHMARKS.md.) A wheel with bytes to write joins the ready list once (its writing flag stays
// set until a writer is done with it) and a writer makes one write(2) of
// everything the wheel has queued, through the descriptor and without
// waiting: a full socket leaves the rest to a goroutine of the wheel's own
// (writeLoop), which does wait. So a burst to a thousand wheels costs a
// thousand system calls but not a thousand goroutines, and the controller
// that queued it hands each wheel over with one append under one lock.
//
// Writers are started on demand, at most GOMAXPROCS of them, and each
// exits as soon as the ready list is empty: none lingers once the last
// wheel is written, so nothing is left running after every wheel closes.

// writerChunk is how many ready wheels a writer takes at once: small
// enough that a second writer finds work in a long burst, large enough
// that the list's lock is taken once per chunk, not per wheel.
const writerChunk = 32

// writerPool is the ready list and the count of writers serving it.
type writerPool struct {
	mu      sync.Mutex
	ready   []*Wheel // wheels waiting for a writer, from ready[head] on
	head    int
	running int
	max     int // most writers at once; GOMAXPROCS, read at first use
}

var writers writerPool

// add puts w, whose writing flag the caller has just set, on the ready
// list, and starts a writer if none is free to take it. w.wmu is held.
func (p *writerPool) add(w *Wheel) {
	p.mu.Lock()
	p.ready = append(p.ready, w)
	if p.max == 0 {
		p.max = max(1, runtime.GOMAXPROCS(0))
	}
	// A second writer only for a backlog longer than one chunk: a few
	// wheels are written sooner by the writer already running than by
	// a new goroutine.
	start := p.running == 0 || (p.running < p.max && len(p.ready)-p.head > writerChunk)
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.run()
	}
}

// run is a shared writer: it writes ready wheels until none is left.
func (p *writerPool) run() {
	var chunk [writerChunk]*Wheel
	for {
		p.mu.Lock()
		n := copy(chunk[:], p.ready[p.head:])
		if n == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		p.head += n
		switch {
		case p.head == len(p.ready):
			clear(p.ready)
			p.ready, p.head = p.ready[:0], 0
		case p.head >= 1024 && 2*p.head >= len(p.ready):
			// Never empty under a steady stream: move the rest down so
			// the list stays as long as the wheels waiting in it.
			m := copy(p.ready, p.ready[p.head:])
			clear(p.ready[m:])
			p.ready, p.head = p.ready[:m], 0
		}
		p.mu.Unlock()
		for i, w := range chunk[:n] {
			chunk[i] = nil
			w.writeShared()
		}
	}
}

// writeShared runs on a shared writer and writes w's queue once, without
// waiting: everything queued goes to the kernel in one write(2) made
// outside the write lock, so the wheel goes on queueing meanwhile. Bytes
// queued during the write put the wheel back on the ready list; bytes the
// socket would not take go to the wheel's own writeLoop, and so does the
// write-side shutdown of a graceful close.
func (w *Wheel) writeShared() {
	w.wmu.Lock()
	if w.writeStoppedLocked() {
		w.stopWriterLocked()
		w.wmu.Unlock()
		return
	}
	if err := w.flushOutLocked(); err != nil {
		w.failOutputLocked(err)
		w.stopWriterLocked()
		w.wmu.Unlock()
		return
	}
	if w.pend == nil || len(*w.pend) == 0 {
		if w.closing && !w.shut {
			w.wmu.Unlock()
			go w.writeLoop() // shuts the write side; writing stays set
			return
		}
		w.stopWriterLocked()
		w.wmu.Unlock()
		return
	}
	batch := w.pend
	w.pend = nil
	w.inflight = len(*batch)
	w.wmu.Unlock()

	o := getRawOp(w)
	o.buf = batch
	err := w.raw.Write(o.write)
	n, werr := o.n, o.err
	putRawOp(o)
	if err == nil && werr != nil {
		err = writeError(w.conn, werr)
	}

	w.wmu.Lock()
	w.written += uint64(n)
	w.inflight = 0
	if err != nil {
		w.restoreLocked(batch, n)
		if !w.cutting { // a cut counts what is lost and closes
			w.failWriteLocked(err)
		}
		w.stopWriterLocked()
		w.wmu.Unlock()
		return
	}
	if n < len(*batch) {
		// The socket is full: the wheel's own goroutine waits for it.
		w.restoreLocked(batch, n)
		w.wmu.Unlock()
		go w.writeLoop()
		return
	}
	*batch = (*batch)[:0]
	switch {
	case w.pend == nil:
		w.pend = batch
	case w.spare == nil && cap(*batch) <= maxKeep:
		w.spare = batch
	default:
		putSized(batch)
	}
	// Records queued during the write may sit inside out (a Zlib holds
	// them until flushed), so out is flushed before deciding.
	if err := w.flushOutLocked(); err != nil {
		w.failOutputLocked(err)
		w.stopWriterLocked()
		w.wmu.Unlock()
		return
	}
	if len(*w.pend) > 0 || (w.closing && !w.shut) {
		writers.add(w) // more came meanwhile: its turn comes again
		w.wmu.Unlock()
		return
	}
	w.stopWriterLocked()
	w.wmu.Unlock()
}

// flushOutLocked flushes the output filter into the queue.
func (w *Wheel) flushOutLocked() error {
	if w.pend == nil {
		return nil
	}
	before := len(*w.pend)
	var err error
	*w.pend, err = w.out.Flush(*w.pend)
	w.queued += uint64(len(*w.pend) - before)
	return err
}

// restoreLocked puts the bytes of batch from n on back at the head of the
// queue, before whatever was queued while batch was being written.
func (w *Wheel) restoreLocked(batch *[]byte, n int) {
	rest := (*batch)[:copy(*batch, (*batch)[n:])]
	if w.pend != nil {
		rest = append(rest, *w.pend...)
		putSized(w.pend)
	}
	*batch = rest
	w.pend = batch
}

// failWriteLocked closes the wheel for a write error, err, which is the
// close reason (a graceful close under way keeps its reason, but the bytes
// it could not write need their cause, so err becomes it). Writing stops
// and writes are refused at once, but the connection is left to the
// reader: what the peer sent before the error is often why it failed (an
// IRC server writes "ERROR :Closing Link" and hangs up; our next write
// meets the reset), and it may still sit unread in the kernel. So the
// reader, woken if it waits, delivers whatever it can read without
// waiting, for at most DrainTimeout, and then closes the wheel. On Linux
// a reset or closed TCP connection hands over the bytes it had received
// before it reports the reset or the end, so nothing it had is lost; and
// a peer that sent nothing costs no wait.
// The lock is let go to wake the reader.
func (w *Wheel) failWriteLocked(err error) {
	if w.closed || w.lastWords.Load() {
		return // the close under way, or the first error, has the say
	}
	werr := &OpError{Op: OpWrite, Addr: peerAddr(w.conn), Err: err}
	if w.reason != "" && w.cause == nil {
		w.cause = werr
	}
	w.setReasonLocked("Write error: "+err.Error(), werr)
	w.closing = true
	if w.drain > 0 {
		w.lwUntil = monoNow() + int64(w.drain)
	}
	w.lastWords.Store(true)
	w.wmu.Unlock()
	// Wake a reader waiting for input, the way a ReadOp does; it reads
	// on without waiting from then on.
	w.poke.Store(true)
	_ = w.conn.SetReadDeadline(aLongTimeAgo)
	w.resume()
	w.wmu.Lock()
}

// failOutputLocked closes the wheel for a fatal error of its output
// filter, and its connection with the lock let go for the call, as
// failWriteLocked does: a reader blocked on a silent peer ends only when
// the connection does.
func (w *Wheel) failOutputLocked(err error) {
	w.closeLocked("Output error: "+fatalReason(err), err)
	w.wmu.Unlock()
	_ = w.conn.Close()
	w.wmu.Lock()
}

// stopWriterLocked ends the turn of the writer of the moment: the wheel
// gives its buffers back if it has nothing queued, and whoever waits for
// the writer to stop (a cut, the close) goes on.
func (w *Wheel) stopWriterLocked() {
	w.writing = false
	w.releaseLocked()
	w.finishWriterLocked()
}

// writeError dresses an errno from writeFD the way net.Conn.Write does,
// so that a close reason reads the same whichever writer wrote.
func writeError(c net.Conn, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError("write", errno)
	}
	oe := &net.OpError{Op: "write", Addr: c.RemoteAddr(), Err: err}
	if la := c.LocalAddr(); la != nil {
		oe.Net, oe.Source = la.Network(), la
	}
	return oe
}
