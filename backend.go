package ircsock

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ircsock/ircsock/sock"
)

// ConnID identifies one connection for the life of its Backend (the
// original's wheel ID). IDs are never reused.
type ConnID uint64

// ListenerID identifies one listener; ConnectorID one connector.
type (
	ListenerID  uint64
	ConnectorID uint64
)

// Backend is the POEx::IRC::Backend API in Go: it owns listeners,
// connectors and connections and reports everything on one channel.
//
// Every method may be called from any goroutine, including the controller
// goroutine that reads Events: none of them waits for the controller.
type Backend struct {
	cfg      Config
	events   chan Event
	quit     chan struct{} // closed by Close: blocked sends give up
	maxLine  int
	earlyMax int           // Config.EarlyInput with its default; negative: none
	drain    time.Duration // Config.DrainTimeout with its default; zero: none
	closing  atomic.Bool
	quitOnce sync.Once
	endOnce  sync.Once
	ended    chan struct{} // closed once the events channel is closed

	mu         sync.RWMutex
	conns      map[ConnID]*Conn
	listeners  map[ListenerID]*Listener
	connectors map[ConnectorID]*Connector
	socks      []*sock.Listener // listeners started and not yet drained, to Wait

	nextConn, nextListener, nextConnector atomic.Uint64
	dialers                               sync.WaitGroup

	// What connections closed during Shutdown or Close lost, for
	// Shutdown's error.
	lostConns atomic.Int64
	lostBytes atomic.Int64

	// The pump delivers events produced where blocking is not allowed
	// (on the controller's own calls, in timers), in FIFO order.
	pmu     sync.Mutex
	pq      []pumpItem
	pumping bool
	pumpWG  sync.WaitGroup

	// scratch is Send's format buffer. One goroutine, the controller,
	// usually sends, so a single swapped slot serves it at the cost of one
	// atomic swap; a concurrent Send finding it empty takes one from a
	// pool (send.go).
	scratch atomic.Pointer[[]byte]

	// Write coalescing (coalesce.go): conns whose lines Send queued
	// without waking the writer, and the timer that bounds the wait.
	// dbuf is the format buffer of a Send that coalesces.
	dmu        sync.Mutex
	dbuf       []byte
	dirty      []*Conn
	flushT     *time.Timer
	flushArmed bool
	hasDirty   atomic.Bool
	fmu        sync.Mutex // serializes flushDirty, which owns spareDirty
	spareDirty []*Conn
}

type pumpItem struct {
	ev    Event
	after func()
	conn  *Conn
}

// New starts a Backend (spawn). Its first event is [Registered].
func New(cfg Config) *Backend {
	n := cfg.Events
	if n <= 0 {
		n = DefaultEvents
	}
	b := &Backend{
		cfg:        cfg,
		events:     make(chan Event, n),
		quit:       make(chan struct{}),
		ended:      make(chan struct{}),
		conns:      make(map[ConnID]*Conn),
		listeners:  make(map[ListenerID]*Listener),
		connectors: make(map[ConnectorID]*Connector),
		maxLine:    cfg.MaxLine,
	}
	if b.maxLine <= 0 {
		b.maxLine = DefaultMaxLine
	}
	b.earlyMax = cfg.EarlyInput
	if b.earlyMax == 0 {
		b.earlyMax = DefaultEarlyInput
	}
	b.drain = max(cfg.DrainTimeout, 0)
	if cfg.DrainTimeout == 0 {
		b.drain = DefaultDrainTimeout
	}
	b.events <- Registered{Backend: b}
	return b
}

// Events returns the channel on which every event is delivered, in order,
// to the one controller (register). It is closed after the last event.
//
// The channel is bounded (Config.Events). When it is full, the goroutines
// reading connections wait, which stops reading their sockets, so TCP
// flow control slows the peers down: input is never dropped. A controller
// must therefore keep reading, including while Shutdown runs.
//
// A connection's lines come in wire order, and its reading goroutine
// sends those of one read together, in runs of at most 16, before it
// reads again: it takes the channel's lock for a run while the controller
// works through the last one, instead of taking turns with it line by
// line, and no line waits for the peer's next bytes.
//
// With Config.InputHandler the channel carries no Input: each goes to the
// handler on its reading goroutine, and every other event still comes
// here. A connection's open event is in the channel before its first
// Input is handled, and its Disconnect is sent after the handler has
// returned from its last.
func (b *Backend) Events() <-chan Event { return b.events }

// send delivers ev, waiting while the channel is full, unless Close.
// The first try does not block: it is a plain channel send, where the
// two-case select costs several times more on every input line.
func (b *Backend) send(ev Event) {
	select {
	case b.events <- ev:
		return
	default:
	}
	select {
	case b.events <- ev:
	case <-b.quit:
	}
}

// post queues ev for the pump without blocking. A conn event is dropped
// once that connection's Disconnect is queued, so it never comes after.
func (b *Backend) post(ev Event, c *Conn, after func()) {
	b.pmu.Lock()
	if c != nil {
		if c.gone {
			b.pmu.Unlock()
			return
		}
		if _, ok := ev.(Disconnect); ok {
			c.gone = true
		}
	}
	b.pq = append(b.pq, pumpItem{ev: ev, after: after, conn: c})
	if !b.pumping {
		b.pumping = true
		b.pumpWG.Add(1)
		go b.pump()
	}
	b.pmu.Unlock()
}

func (b *Backend) pump() {
	defer b.pumpWG.Done()
	b.pmu.Lock()
	for len(b.pq) > 0 {
		it := b.pq[0]
		b.pq[0] = pumpItem{}
		b.pq = b.pq[1:]
		b.pmu.Unlock()
		b.send(it.ev)
		if _, ok := it.ev.(ConnectionIdle); ok {
			b.pmu.Lock()
			it.conn.idleQueued = false
			b.pmu.Unlock()
		}
		if it.after != nil {
			it.after()
		}
		b.pmu.Lock()
	}
	b.pq = nil
	b.pumping = false
	b.pmu.Unlock()
}

// Conn returns the live connection id.
func (b *Backend) Conn(id ConnID) (*Conn, bool) {
	b.mu.RLock()
	c, ok := b.conns[id]
	b.mu.RUnlock()
	return c, ok
}

// Conns returns the live connections.
func (b *Backend) Conns() []*Conn {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*Conn, 0, len(b.conns))
	for _, c := range b.conns {
		out = append(out, c)
	}
	return out
}

func (b *Backend) lookup(id ConnID) (*Conn, error) {
	if b.closing.Load() {
		return nil, ErrClosed
	}
	b.mu.RLock()
	c := b.conns[id]
	b.mu.RUnlock()
	if c == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownConn, id)
	}
	return c, nil
}

// Shutdown stops listeners and connectors and closes every connection
// gracefully as Disconnect does (with ReasonShutdown): each queue is
// written, however long that takes until ctx ends, then the write side is
// shut and the peer's close awaited for at most Config.DrainTimeout
// without progress (while the peer goes on acknowledging the bytes the
// kernel still holds, the wait goes on; see sock.Wheel.DisconnectLinger). A
// connection already disconnecting keeps its own limit. Shutdown then
// delivers the last events and closes the events channel; the controller
// must keep reading Events meanwhile.
//
// It returns nil only if no drain was cut with bytes undelivered (a drain
// that ran out of DrainTimeout after the peer had acknowledged everything
// lost nothing). If ctx ends first, the drains still under way are cut
// (their Disconnect events carry a *DrainError) and Shutdown returns a
// *ShutdownError wrapping ctx's error; a drain cut by DrainTimeout with
// bytes undelivered gives one too. The error says how many connections
// were cut and how many bytes they lost. A peer that resets is not a cut:
// its Disconnect event has the error and its Undelivered bytes. Calls
// after the first return ErrClosed; Close stops at once.
func (b *Backend) Shutdown(ctx context.Context) error {
	if !b.beginClose() {
		return ErrClosed
	}
	b.cancelDials()
	b.flushDirty()
	b.mu.RLock()
	for _, c := range b.conns {
		c.w.DisconnectLinger(ReasonShutdown, b.drain)
	}
	b.mu.RUnlock()
	done := make(chan struct{})
	go func() {
		b.waitProducers()
		close(done)
	}()
	var ctxErr error
	select {
	case <-done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		b.mu.RLock()
		for _, c := range b.conns {
			c.w.Cut(ctxErr)
		}
		b.mu.RUnlock()
		<-done
	}
	b.finish()
	if b.lostBytes.Load() > 0 || ctxErr != nil {
		return &ShutdownError{Conns: int(b.lostConns.Load()), Bytes: b.lostBytes.Load(), Err: ctxErr}
	}
	return nil
}

// Close stops everything at once: listeners, connectors, and every
// connection with its queue dropped. Events still undelivered are dropped
// too; the events channel is closed before Close returns. A second Close
// returns ErrClosed; Close during Shutdown cuts it short.
func (b *Backend) Close() error {
	first := b.beginClose()
	b.flushDirty() // stops the coalescing timer; the queues are dropped
	b.abort()
	if !first {
		<-b.ended
		return ErrClosed
	}
	b.waitProducers()
	b.finish()
	return nil
}

// beginClose marks the Backend closing and closes every listener; it
// reports whether this was the first call.
func (b *Backend) beginClose() bool {
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		return false
	}
	b.closing.Store(true)
	ls := make([]*Listener, 0, len(b.listeners))
	for id, l := range b.listeners {
		ls = append(ls, l)
		delete(b.listeners, id)
	}
	b.mu.Unlock()
	for _, l := range ls {
		_ = l.sl.Close()
		b.post(ListenerRemoved{Listener: l}, nil, nil)
	}
	return true
}

func (b *Backend) abort() {
	b.quitOnce.Do(func() { close(b.quit) })
	b.cancelDials()
	b.mu.RLock()
	for _, c := range b.conns {
		c.w.Close(ReasonShutdown, nil)
	}
	b.mu.RUnlock()
}

// waitProducers waits for every goroutine that can produce an event. New
// ones cannot start: closing is set under mu before this runs.
func (b *Backend) waitProducers() {
	b.dialers.Wait()
	b.mu.RLock()
	socks := b.socks
	b.mu.RUnlock()
	for _, sl := range socks {
		_ = sl.Close()
		sl.Wait()
	}
}

func (b *Backend) finish() {
	b.endOnce.Do(func() {
		b.pumpWG.Wait()
		close(b.events)
		close(b.ended)
	})
	<-b.ended
}
