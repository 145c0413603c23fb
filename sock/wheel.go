package sock

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ircsock/ircsock/filter"
)

// Default values of the zero [WheelConfig] fields.
const (
	DefaultMaxSendQ     = 1 << 20
	DefaultDrainTimeout = 10 * time.Second
	DefaultIdle         = 180 * time.Second
	// DefaultMaxTLSRecord is the most plaintext one TLS record carries
	// (RFC 8446, section 5.1: 2^14 bytes).
	DefaultMaxTLSRecord = 16 << 10
)

// ReasonSendQ is the close reason of a wheel whose send queue went past
// [WheelConfig.MaxSendQ]. The text is the one IRC servers use.
const ReasonSendQ = "Max SendQ exceeded"

// ReasonPeerClosed is the close reason when the peer ends the stream.
const ReasonPeerClosed = "Remote host closed the connection"

// Errors returned by [Wheel] methods.
var (
	// ErrSendQExceeded is the cause reported with [ReasonSendQ]. It is
	// fatal: the wheel is closed.
	ErrSendQExceeded = errors.New("sock: max sendq exceeded")
	// ErrClosing is returned by writes after Disconnect or Close, or
	// once the peer has ended its stream.
	ErrClosing = errors.New("sock: wheel is closing")
	// ErrDrainTimeout is the cause, inside a [*DrainError], of a graceful
	// close cut short by [WheelConfig.DrainTimeout]. It is fatal: the
	// connection is closed.
	ErrDrainTimeout = errors.New("sock: drain timeout")
	// ErrPartialRecord is the per-record error, wrapped in a
	// [*filter.RecordError], for input that ended inside a record: the
	// peer's last bytes had no record end (for a line filter, no LF).
	ErrPartialRecord = errors.New("sock: input ended inside a record")
	// ErrFinalReadCut is the error, wrapped in a [*filter.RecordError]
	// and handed over just before the [EventClosed], of a wheel closing
	// for a write error whose reading of the peer's last input was cut
	// by [WheelConfig.DrainTimeout]: the peer's stream had not ended and
	// more of it may have been on its way. The wheel closes right after.
	ErrFinalReadCut = errors.New("sock: input after a write error cut short")
)

// A DrainError is the cause an [EventClosed] reports when a graceful
// close ([Wheel.Disconnect], or the flush after the peer ended its stream)
// was cut before the peer closed: by [WheelConfig.DrainTimeout] (Err is
// [ErrDrainTimeout]) or by [Wheel.Cut] (Err is the error given to it,
// such as a context's). It is fatal: the connection is closed.
type DrainError struct {
	// Limit is the drain limit that was hit; zero for a [Wheel.Cut].
	Limit time.Duration
	// Undelivered is how many queued bytes the peer had not acknowledged
	// when the connection was closed: those never written plus, on Linux,
	// those the kernel still held unacknowledged (SIOCOUTQ; for TLS,
	// encrypted bytes). Zero means the peer's kernel had everything and
	// only its close was missing.
	Undelivered int64
	Err         error
}

func (e *DrainError) Error() string {
	what := "cut"
	if e.Limit > 0 {
		what = "timed out after " + e.Limit.String()
	}
	return fmt.Sprintf("sock: graceful close %s with %d bytes undelivered: %v", what, e.Undelivered, e.Err)
}

// Unwrap returns Err, so errors.Is(err, ErrDrainTimeout) works.
func (e *DrainError) Unwrap() error { return e.Err }

// epoch anchors lastSeen as a monotonic offset, so one atomic int64 is
// enough to record it and comparing two of them ignores wall-clock jumps.
var epoch = time.Now()

func monoNow() int64 { return int64(time.Since(epoch)) }

// WheelConfig configures a [Wheel]. The zero value works.
type WheelConfig struct {
	// MaxSendQ is the most bytes queued and not yet written. Going past it
	// closes the wheel with [ReasonSendQ]. Zero means [DefaultMaxSendQ].
	MaxSendQ int
	// Idle is the time without input before an [EventIdle], repeated
	// every Idle while the peer stays silent. Zero means [DefaultIdle];
	// negative disables idle events (and their timer). The root package's
	// ListenerConfig.Idle and ConnectorConfig.Idle mean the same.
	Idle time.Duration
	// DrainTimeout is the one limit of a graceful close: the most time
	// from [Wheel.Disconnect] (or from the end of the peer's stream) to
	// the close, spent writing the queue, shutting the write side and
	// reading until the peer closes. Past it the connection is closed and
	// its [EventClosed] carries a [*DrainError] with the bytes undelivered.
	// Zero means [DefaultDrainTimeout]; negative means no limit (the owner
	// ends the drain with [Wheel.Cut]).
	//
	// It also bounds the last reading of a wheel that a write error
	// closes (see [Wheel.Write]): input the peer had already sent is
	// still delivered then, for at most DrainTimeout from the error;
	// input cut short by it is reported with [ErrFinalReadCut].
	DrainTimeout time.Duration
	// MaxTLSRecord is, on a *tls.Conn, the most plaintext bytes the
	// wheel writes at once, and so the most one TLS record carries: a
	// longer batch goes out as several records. Some peers read TLS in
	// small pieces and never ask their TLS library whether a record they
	// have half read holds more. ngircd is one: it takes at most 2,048
	// bytes per readable event, so the rest of a bigger record waits
	// inside GnuTLS until the socket becomes readable again, which on a
	// link that is waiting for an answer may be never. 2048 suits it.
	// Zero, or more than [DefaultMaxTLSRecord], means
	// DefaultMaxTLSRecord, TLS's own limit; connections other than a
	// *tls.Conn ignore it.
	MaxTLSRecord int
}

// A Wheel moves records over one net.Conn through two filters: in (bytes
// from the wire to records) and out (records to bytes for the wire). They
// are usually [filter.Stack] values and may change at different moments.
//
// Reading: [Wheel.Run] is the only reading goroutine. It waits for the
// socket to become readable without holding a buffer (for a *net.TCPConn),
// decodes what arrived and calls the [Handler] for each record, so read-side
// filter changes happen exactly between two records. [Wheel.Start] runs
// the same loop in the background; on Linux, for a plaintext TCP
// connection, it parks the wheel on a shared poller while no input waits,
// so that an idle wheel holds no goroutine.
//
// Writing: [Wheel.Write] may be called from any goroutine. It encodes the
// record through out at once, under the wheel's write lock, into a pending
// buffer and wakes a writer goroutine of the wheel's own, which writes the
// whole buffer as one batch after one Flush of out and is gone once the
// queue is drained, so an idle wheel holds no goroutine and no buffer for
// writing. [Wheel.Queue] encodes and queues the same way but leaves the
// writer asleep until [Wheel.Flush] (or the next Write), so that a caller
// writing a burst to many wheels gets one system call per wheel. What a
// Flush wakes on a plaintext TCP connection (one that hands out its
// descriptor through syscall.Conn) is not a goroutine of the wheel's own
// but one of a few shared by every wheel of the process, which make one
// write(2) per wheel that never waits; only when the socket's buffer is
// full does a goroutine of the wheel's own take over the rest and wait
// for the socket. Write-side changes ([Wheel.WriteOp]) happen at that
// point in the byte stream. A handler that answers its input can instead
// write like an event loop: [Wheel.Cork] at the first record of a read
// and [Wheel.Uncork] at its end ([ReadEndHandler]) send the answers to
// one read in one write(2), made by the reading goroutine itself
// (ExampleWheel_Cork).
//
// A write that fails (the peer reset the connection, or closed it and our
// bytes met the reset) closes the wheel with the reason "Write error: ..."
// and an *[OpError] of [OpWrite] as its cause, but not before the input
// the peer had already sent is handled: writing stops at once and later
// writes fail with [ErrClosing], while the reader decodes and hands over,
// in order and once each, whatever it can still read without waiting
// (an IRC server's "ERROR :Closing Link" before it hung up, say), and only
// then the [EventClosed]. [WheelConfig.DrainTimeout] bounds that reading.
type Wheel struct {
	conn net.Conn
	// raw is the socket of a plaintext TCP connection, nil for others:
	// the wheel reads (rawReads) and the shared writers write
	// (rawWrites) through its descriptor, with a pooled rawOp carrying
	// the callback and its results, so that a wheel holds neither.
	raw syscall.RawConn
	h   Handler
	in  filter.Filter

	maxSendQ int32
	tlsChunk int32 // on a *tls.Conn, the most bytes per Write; 0: no cap of ours
	idle     time.Duration
	drain    time.Duration // zero: no limit
	linger   time.Duration // DisconnectLinger's limit once the write side is shut
	lastSeen atomic.Int64
	dead     atomic.Bool // hard close requested: stop delivering records

	// lastWords is set when a write fails: the reader delivers what the
	// peer had already sent, without waiting for more, then the wheel
	// closes (see failWriteLocked). lwUntil, set before it and not
	// changed after, is the monotonic time that reading ends at the
	// latest (DrainTimeout from the error; 0: no limit).
	lastWords atomic.Bool
	lwUntil   int64

	// Parking (Start on a plaintext TCP connection, Linux): between
	// bursts of input the read loop's goroutine exits and the wheel
	// waits on the shared poller. parked is true while no goroutine runs
	// the loop; whoever swaps it back to false runs the loop next.
	poll    *poller // nil unless registered with the poller
	pollID  uint64
	parking bool // the loop parks instead of blocking; loop goroutine only
	parked  atomic.Bool
	done    func() // Start's, called after EventClosed

	opsPending atomic.Bool
	poke       atomic.Bool                // a ReadOp interrupted the read with a deadline
	readOps    atomic.Pointer[readOpList] // made by the first ReadOp

	// Idle checks (idle.go): idleMu orders an EventIdle against Close,
	// which sets idleDone; idleIx (1 + the wheel's place in the clock's
	// heap, 0 when out of it) and idleOff are the clock's, under its lock.
	idleMu   sync.Mutex
	idleDone bool
	idleOff  bool
	idleIx   int32

	wmu        sync.Mutex
	out        filter.Filter
	pend       *[]byte // pooled; nil while nothing is queued
	spare      *[]byte
	inflight   int
	queued     uint64 // bytes ever appended to pend
	written    uint64 // bytes ever written
	writing    bool
	held       bool // Queue left records for Flush
	corked     bool // Cork: Write queues as Queue does, until Uncork
	closing    bool // graceful close under way: writes refused
	closed     bool // hard closed
	shut       bool // write side shut down (FIN, and close_notify for TLS)
	peerEOF    bool // the peer ended its stream
	cutting    bool // a cut is stopping the writer to count what is lost
	reason     string
	cause      error
	writerDone chan struct{} // closed when the writer goroutine stops
	cutDone    chan struct{} // closed when a cut has closed the connection
	drainT     *time.Timer
	undeliv    int64 // bytes lost at the close, see Undelivered
}

// NewWheel wraps conn. in decodes what is read, out encodes what is
// written. Nothing happens until [Wheel.Run] or [Wheel.Start].
func NewWheel(conn net.Conn, in, out filter.Filter, h Handler, cfg WheelConfig) *Wheel {
	w := &Wheel{conn: conn, h: h, in: in, out: out, idle: cfg.Idle, drain: max(cfg.DrainTimeout, 0)}
	if w.idle == 0 {
		w.idle = DefaultIdle
	}
	q := cfg.MaxSendQ
	if q <= 0 {
		q = DefaultMaxSendQ
	}
	if q > 1<<30 {
		q = 1 << 30
	}
	w.maxSendQ = int32(q)
	if cfg.DrainTimeout == 0 {
		w.drain = DefaultDrainTimeout
	}
	if _, ok := conn.(*tls.Conn); ok && cfg.MaxTLSRecord > 0 && cfg.MaxTLSRecord < DefaultMaxTLSRecord {
		w.tlsChunk = int32(cfg.MaxTLSRecord)
	}
	// A *net.TCPConn or *FDConn, or a wrapper that holds no bytes of
	// its own and hands out the socket (the one a PROXY header came on).
	if sc, ok := conn.(syscall.Conn); ok && (rawReads || rawWrites) {
		// One RawConn for both: each SyscallConn call allocates one.
		if rc, err := sc.SyscallConn(); err == nil {
			w.raw = rc
		}
	}
	w.lastSeen.Store(monoNow())
	return w
}

// Conn returns the wheel's connection.
func (w *Wheel) Conn() net.Conn { return w.conn }

// Input returns the input filter. Only the reading goroutine may use it,
// that is while its [Handler] handles an [EventRecord] or
// [EventRecordError]; other
// goroutines use [Wheel.ReadOp].
func (w *Wheel) Input() filter.Filter { return w.in }

// LastSeen returns when input last arrived (the wheel's creation before
// any).
func (w *Wheel) LastSeen() time.Time { return epoch.Add(time.Duration(w.lastSeen.Load())) }

// IdleFor returns how long the wheel has had no input.
func (w *Wheel) IdleFor() time.Duration { return time.Duration(monoNow() - w.lastSeen.Load()) }

// Disconnecting reports whether Disconnect or Close has been called or
// the wheel has closed.
func (w *Wheel) Disconnecting() bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.closing || w.closed
}

// SendQ returns the bytes queued and not yet written.
func (w *Wheel) SendQ() int {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	n := w.inflight
	if w.pend != nil {
		n += len(*w.pend)
	}
	return n
}

// SetInput replaces the input filter. Only the reading goroutine may call
// it (while handling an [EventRecord] or [EventRecordError]); the next record is
// decoded by f, so f must have taken over whatever the old filter held
// (for example a [filter.Stack] built on it and changed with Unshift).
func (w *Wheel) SetInput(f filter.Filter) { w.in = f }

// ReadOp arranges for fn to run on the reading goroutine at the next
// record boundary: after the record being handled, or, if the wheel is
// waiting for input, at once (the wait is interrupted), and then whatever
// bytes the wheel already holds are decoded through the new filter. fn
// returns the input filter to use from then on (in itself, or a
// replacement that took over in's pending bytes). fn must not block. Use
// it to change the input filter from another goroutine.
func (w *Wheel) ReadOp(fn func(in filter.Filter) filter.Filter) {
	l := loadOrNew(&w.readOps)
	l.mu.Lock()
	l.fns = append(l.fns, fn)
	w.opsPending.Store(true)
	l.mu.Unlock()
	// Wake a reader waiting for input: bytes it holds undecoded (a
	// partial line that is really the start of a zlib stream, say) must
	// not wait for the peer's next bytes, which may never come first.
	w.poke.Store(true)
	_ = w.conn.SetReadDeadline(aLongTimeAgo)
	w.resume()
}

// A readOpList holds the ReadOps not yet applied. Few wheels ever have
// one (a compression switch), so a wheel keeps a pointer to it, made by
// the first ReadOp, instead of the list and its lock.
type readOpList struct {
	mu  sync.Mutex
	fns []func(in filter.Filter) filter.Filter
}

func (w *Wheel) applyReadOps() {
	l := w.readOps.Load()
	if l == nil {
		return // opsPending is set only once the list exists
	}
	l.mu.Lock()
	ops := l.fns
	l.fns = nil
	w.opsPending.Store(false)
	l.mu.Unlock()
	for _, fn := range ops {
		w.in = fn(w.in)
	}
}

// Run runs the read loop on the calling goroutine until the connection
// closes, then hands the [Handler] its [EventClosed] and returns. A TLS handshake, if any,
// must be done before. A wheel is run once, by Run or by [Wheel.Start].
func (w *Wheel) Run() {
	w.startIdle()
	w.loop()
}

// Start runs the read loop in the background and returns at once; done,
// if not nil, is called once the [Handler] has handled the [EventClosed].
// A TLS handshake, if any, must be done before.
//
// It promises what Run does: records are handled one at a time, in wire
// order, never by two goroutines at once, and read-side changes fall
// between two records. What differs is the goroutine: on Linux, a wheel
// over a plaintext *net.TCPConn or *[FDConn] (or a wrapper that hands out
// its socket) holds none while it waits for input. When a read finds nothing, the
// loop's goroutine arms the socket on a shared epoll instance and exits;
// input, the peer's end of stream, a [Wheel.ReadOp], a close or a cut
// starts a fresh goroutine that goes on where the loop stopped. So an
// idle connection costs no goroutine stack, and a busy one's handler runs
// on a goroutine that may change between bursts of input. The shared
// poller is one goroutine and one epoll descriptor for the whole process,
// started by the first such wheel and stopped when the last one is
// closed. TLS and WebSocket wheels, and every wheel elsewhere, read on a
// goroutine of their own, as under Run.
func (w *Wheel) Start(done func()) {
	w.done = done
	w.startIdle()
	if canPark && rawReads && w.raw != nil && w.register() {
		w.parking = true
	}
	go w.loop()
}

func (w *Wheel) startIdle() {
	if w.idle > 0 {
		w.idleMu.Lock()
		idles.add(w, monoNow()+int64(w.idle))
		w.idleMu.Unlock()
	}
}

// errAgain is what a parking wheel's read returns when no input waits.
var errAgain = errors.New("sock: no input yet")

// park hands the wheel to the poller. It reports whether the calling
// goroutine must leave the loop: false means it goes on reading (a
// ReadOp or a close came in, or the socket could not be armed).
func (w *Wheel) park() bool {
	w.parked.Store(true)
	if err := w.arm(); err != nil {
		if !w.parked.CompareAndSwap(true, false) {
			return true // resumed meanwhile: that goroutine owns the loop
		}
		// Read on, blocking, on this goroutine: the read reports a closed
		// socket, and any other arming failure costs only the saving.
		w.parking = false
		return false
	}
	// A ReadOp, close or write error that came before the Store saw no
	// parked wheel and left the wake-up to us.
	if w.opsPending.Load() || w.dead.Load() || w.lastWords.Load() {
		return !w.parked.CompareAndSwap(true, false)
	}
	return true
}

// resume runs the loop of a parked wheel on a fresh goroutine; it does
// nothing for a wheel that is not parked.
func (w *Wheel) resume() {
	if w.parked.CompareAndSwap(true, false) {
		go w.loop()
	}
}

// loop is the read loop, run by Run, or by Start and after each resume.
func (w *Wheel) loop() {
	var rerr error
	cut := false // the last words after a write error were cut short
	for {
		// After a write error, a read waits for nothing more than what
		// the peer had already sent (see failWriteLocked).
		drained := false // this read was told not to wait at all
		if w.lastWords.Load() && !(rawReads && w.raw != nil) {
			drained = w.lastWordsDeadline()
		}
		bp, n, err := w.read()
		if err == errAgain {
			if w.dead.Load() || w.lastWords.Load() {
				// Closed while reading, or a write error and nothing
				// more to read: the connection may not be shut yet,
				// and that is the close path's business.
				rerr = net.ErrClosed
				break
			}
			if w.park() {
				return
			}
			continue
		}
		if n > 0 {
			w.lastSeen.Store(monoNow())
			if ferr := w.process((*bp)[:n:n]); ferr != nil {
				// A fatal decoder may still hold the buffer: drop it.
				w.Close(fatalReason(ferr), ferr)
				rerr = ferr
				break
			}
		}
		if bp != nil {
			putBuf(bp)
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && w.poke.Swap(false) {
			// A ReadOp woke us: clear the deadline before applying it
			// (a later ReadOp sets its own), then decode what is held.
			_ = w.conn.SetReadDeadline(time.Time{})
			if err = w.applyHeld(); err != nil {
				w.Close(fatalReason(err), err)
				rerr = err
				break
			}
			continue
		}
		if w.lastWords.Load() {
			if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
				// Nothing left that did not need waiting for, or the
				// limit ran out while the peer's stream went on.
				cut = !drained
				rerr = net.ErrClosed
				break
			}
			if err == nil && w.lwUntil > 0 && monoNow() >= w.lwUntil {
				cut = true
				rerr = net.ErrClosed
				break
			}
		}
		if err != nil {
			rerr = err
			break
		}
	}
	// The end of the stream, or of what a peer had sent before a write
	// error closed the wheel: its last bytes are decoded and accounted for.
	final := rerr == io.EOF || (w.lastWords.Load() && !cut)
	if final && !w.dead.Load() {
		// Switches asked for before the end still apply to what is held.
		if ferr := w.applyHeld(); ferr != nil {
			w.Close(fatalReason(ferr), ferr)
			rerr = ferr
			final = false
		}
	}
	if cut && !w.dead.Load() {
		w.h.Handle(w, Event{Kind: EventRecordError, Err: &filter.RecordError{Err: fmt.Errorf("%w: DrainTimeout of %s from the write error ran out", ErrFinalReadCut, w.drain)}})
	}
	if final && !w.dead.Load() {
		// The peer's last bytes had no record end: say so rather than
		// drop them without a word.
		if p := w.in.Pending(); len(p) > 0 {
			w.h.Handle(w, Event{Kind: EventRecordError, Err: &filter.RecordError{Err: fmt.Errorf("%w (%d bytes)", ErrPartialRecord, len(p))}})
		}
	}
	w.unregister()
	w.finish(rerr)
	if w.done != nil {
		w.done()
	}
}

// peerAddr is the remote address of c for an OpError, or "" when c has
// none.
func peerAddr(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

func fatalReason(err error) string {
	return strings.TrimPrefix(err.Error(), "filter: ")
}

// applyHeld applies pending read ops and decodes, through the new input
// filter, what the old one held; with no op pending there is nothing new
// to decode.
func (w *Wheel) applyHeld() error {
	if !w.opsPending.Load() {
		return nil
	}
	return w.process(nil)
}

// process decodes one chunk. It returns a fatal decoder error, else nil
// once the decoder holds no reference to p any more.
func (w *Wheel) process(p []byte) error {
	if w.opsPending.Load() {
		w.applyReadOps()
	}
	if len(p) > 0 {
		w.in.Feed(p)
	}
	for {
		rec, ok, err := w.in.Next()
		if err != nil {
			if filter.IsRecordError(err) {
				if !w.dead.Load() {
					w.h.Handle(w, Event{Kind: EventRecordError, Err: err})
				}
				continue
			}
			return err
		}
		if !ok {
			if re, ok := w.h.(ReadEndHandler); ok && !w.dead.Load() {
				re.HandleReadEnd(w)
			}
			return nil
		}
		if !w.dead.Load() {
			w.h.Handle(w, Event{Kind: EventRecord, Record: rec})
		}
		if w.opsPending.Load() {
			w.applyReadOps()
		}
	}
}

// read returns a pooled buffer holding n bytes (bp may be nil when n is 0).
func (w *Wheel) read() (bp *[]byte, n int, err error) {
	if rawReads && w.raw != nil {
		o := getRawOp(w)
		err = w.raw.Read(o.read)
		bp, n = o.buf, o.n
		if err == nil {
			err = o.err
		}
		putRawOp(o)
		return bp, n, err
	}
	if rw, ok := w.conn.(ReadWaiter); ok {
		if err := rw.WaitRead(); err != nil {
			return nil, 0, err
		}
	}
	bp = getBuf()
	n, err = w.conn.Read((*bp)[:cap(*bp)])
	return shrinkRead(bp, n), n, err
}

// ReadWaiter is implemented by a connection that can wait for input
// without being handed a buffer, as [WebSocketConn] does. A [Wheel]
// calls WaitRead before it takes a pooled buffer for Read, so that a
// connection waiting for input holds none. WaitRead returns nil when input
// is there (a Read will not wait for the peer for long), or the error the
// Read would return.
type ReadWaiter interface {
	WaitRead() error
}

// Write encodes rec through the output filter and queues it. It returns
// the encoder's error (the record is dropped, the stream goes on),
// [ErrClosing] after Disconnect or Close, or [ErrSendQExceeded] when the
// queue overflows (the wheel is then closed with [ReasonSendQ]).
func (w *Wheel) Write(rec []byte) error { return w.write(rec, true) }

// Queue is [Wheel.Write] without waking the writer: rec is encoded,
// counted against MaxSendQ and queued at once, with the same errors, but
// it goes out with the next Write, [Wheel.Flush], [Wheel.WriteOp] or
// [Wheel.Disconnect]. A caller that writes one line to many wheels and
// will write more soon uses it to let each wheel's lines go out in one
// system call, and must call Flush when it has no more for now: until
// then the bytes wait (and the wheel keeps its buffer).
func (w *Wheel) Queue(rec []byte) error { return w.write(rec, false) }

// Flush wakes the writer for whatever [Wheel.Queue] left queued: on a
// plaintext TCP connection one of the writers shared by every wheel, so
// that flushing a burst queued to many wheels starts no goroutine per
// wheel. It is a no-op when nothing waits or the wheel is closed.
func (w *Wheel) Flush() {
	w.wmu.Lock()
	// held, not len(pend): an output filter such as Zlib may keep the
	// record to itself until the writer flushes it.
	if w.held && !w.closed {
		w.startSharedLocked()
	}
	w.wmu.Unlock()
}

// Cork makes [Wheel.Write] queue without waking the writer, as
// [Wheel.Queue] does, until [Wheel.Uncork]. It serves a goroutine that
// reads, answers what it read and reads again, the way an event loop's
// turn does: it corks the wheel when a read brings input and uncorks it
// when that input is handled, and everything written meanwhile, by it or
// by any other goroutine, goes out at the Uncork in one system call. The
// cork is the caller's promise to uncork soon: until then the bytes wait.
// Disconnect, WriteOp and Flush still write what is queued, and so does
// a Write that leaves more than corkMax bytes queued: a turn that answers
// a big read with big replies is written while it goes on, instead of
// piling its replies up against MaxSendQ.
func (w *Wheel) Cork() {
	w.wmu.Lock()
	w.corked = true
	w.wmu.Unlock()
}

// corkMax is the most bytes a cork holds back: 64 KiB, a few socket
// writes' worth, more than the replies to any ordinary read.
const corkMax = 64 << 10

// Uncork ends a [Wheel.Cork] and writes what waits on the calling
// goroutine: when no writer is at work on a plaintext TCP wheel, what was
// queued goes to the kernel in one write(2) before Uncork returns, with no
// goroutine woken. Bytes the socket would not take, and wheels of other
// kinds (TLS, WebSocket, a net.Conn of the caller's), go to the wheel's
// writer as with Flush, and a writer already at work takes the new bytes
// with the ones it has. It never waits for the peer. It also writes what
// [Wheel.Queue] left on a wheel that was never corked.
func (w *Wheel) Uncork() {
	w.wmu.Lock()
	w.corked = false
	if !w.held || w.closed {
		w.wmu.Unlock()
		return
	}
	w.held = false
	if w.writing {
		w.wmu.Unlock()
		return
	}
	w.writing = true
	if !rawWrites || w.raw == nil {
		go w.writeLoop()
		w.wmu.Unlock()
		return
	}
	w.wmu.Unlock()
	w.writeShared()
}

func (w *Wheel) write(rec []byte, wake bool) error {
	w.wmu.Lock()
	if w.closing || w.closed {
		w.wmu.Unlock()
		return ErrClosing
	}
	w.reserveLocked(len(rec) + recordSlack)
	before := len(*w.pend)
	b, err := w.out.Put(*w.pend, rec)
	if err != nil {
		*w.pend = b[:before]
		if before == 0 && !w.writing {
			w.releaseLocked() // an idle wheel holds no buffer
		}
		w.wmu.Unlock()
		return err
	}
	*w.pend = b
	w.queued += uint64(len(b) - before)
	if len(b)+w.inflight > int(w.maxSendQ) {
		w.closeLocked(ReasonSendQ, ErrSendQExceeded)
		w.wmu.Unlock()
		_ = w.conn.Close()
		return ErrSendQExceeded
	}
	if wake && (!w.corked || len(b) >= corkMax) {
		w.startWriterLocked()
	} else {
		w.held = true
	}
	w.wmu.Unlock()
	return nil
}

// WriteOp runs fn at the current point of the output stream, under the
// write lock: out is flushed into the queue first, so everything written
// before is encoded with the old output filter and everything after with
// the one fn returns (out itself, changed or not, or a replacement). fn may
// append raw bytes to dst and returns it; those bytes are not counted
// against MaxSendQ (a control operation adds a few bytes of framing, not
// data), so fn must not use dst to queue data. On error the output filter
// is kept and nothing is closed.
func (w *Wheel) WriteOp(fn func(out filter.Filter, dst []byte) (filter.Filter, []byte, error)) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.closing || w.closed {
		return ErrClosing
	}
	w.reserveLocked(0)
	b, err := w.out.Flush(*w.pend)
	if err != nil {
		*w.pend = b
		return err
	}
	before := len(b)
	nout, b, err := fn(w.out, b)
	if err == nil && nout != nil {
		w.out = nout
	}
	*w.pend = b
	w.queued += uint64(len(b) - before)
	if len(b) > 0 {
		w.startWriterLocked()
	} else {
		w.releaseLocked()
	}
	return err
}

// Disconnect closes the wheel gracefully, the way a lingering close in a
// web server does: everything queued before it is written, then the write
// side is shut (a TLS close_notify, then a TCP FIN), and the wheel goes on
// reading, delivering what it reads, until the peer closes its side. Only
// then is the connection closed, so a peer still talking while it reads
// its last replies gets every byte instead of a reset. All of this is
// bounded by [WheelConfig.DrainTimeout]; past it the connection is closed
// and its [EventClosed] carries a [*DrainError] saying how many bytes were not
// delivered. Later writes fail with [ErrClosing]. It reports false if the
// wheel was already disconnecting or closed.
func (w *Wheel) Disconnect(reason string) bool {
	return w.DisconnectWithin(reason, w.drain)
}

// DisconnectWithin is [Wheel.Disconnect] with its own limit instead of
// DrainTimeout; a limit of zero or less means none, and the owner ends the
// drain with [Wheel.Cut] when it must (a Backend's Shutdown does so when
// its context ends).
func (w *Wheel) DisconnectWithin(reason string, limit time.Duration) bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.closing || w.closed {
		return false
	}
	w.closing = true
	w.setReasonLocked(reason, nil)
	w.armDrainLocked(limit)
	w.startWriterLocked()
	return true
}

// DisconnectLinger is a graceful close whose writing has no limit of its
// own (the owner ends it with [Wheel.Cut], as a Backend's Shutdown does
// when its context ends) and whose wait for the peer's close, once the
// queue is written and the write side shut, is bounded by linger (zero or
// less: no limit) for as long as the peer makes no progress: while the
// bytes the kernel holds unacknowledged (Linux) keep going down, each
// linger period starts again. A peer that never reads holds it until the
// cut; a peer that has everything but never closes, only for linger.
func (w *Wheel) DisconnectLinger(reason string, linger time.Duration) bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.closing || w.closed {
		return false
	}
	w.closing = true
	w.linger = linger
	w.setReasonLocked(reason, nil)
	w.startWriterLocked()
	return true
}

// armLingerLocked bounds the wait after a DisconnectLinger's write-side
// shutdown by linger periods without progress.
func (w *Wheel) armLingerLocked() {
	if w.linger <= 0 || w.drainT != nil {
		return
	}
	last := int64(-1) // only the timer's function touches it, one run at a time
	w.drainT = time.AfterFunc(w.linger, func() {
		q := kernelUnacked(w.conn, true)
		w.wmu.Lock()
		if w.closed || w.cutting {
			w.wmu.Unlock()
			return
		}
		if q > 0 && (last < 0 || q < last) {
			last = q
			w.drainT.Reset(w.linger)
			w.wmu.Unlock()
			return
		}
		w.wmu.Unlock()
		w.cut(w.linger, ErrDrainTimeout)
	})
}

func (w *Wheel) armDrainLocked(limit time.Duration) {
	if limit > 0 && w.drainT == nil {
		w.drainT = time.AfterFunc(limit, func() { w.cut(limit, ErrDrainTimeout) })
	}
}

// Cut ends a graceful close now: the writer is stopped where it stands,
// the bytes the peer has not acknowledged are counted, and the connection
// is closed. Its [EventClosed] carries a [*DrainError] wrapping err with that
// count. On a wheel that is not disconnecting, Cut closes it the same way.
// It does nothing once the wheel is closed.
func (w *Wheel) Cut(err error) { w.cut(0, err) }

// aLongTimeAgo is a deadline in the past: it makes a blocked Write return
// at once.
var aLongTimeAgo = time.Unix(1, 0)

func (w *Wheel) cut(limit time.Duration, err error) {
	w.wmu.Lock()
	if w.closed || w.cutting {
		w.wmu.Unlock()
		return
	}
	w.cutting = true
	w.closing = true
	done := make(chan struct{})
	w.cutDone = done
	wait := w.writerIdleLocked()
	w.wmu.Unlock()
	// Stop the writer first, so that no byte enters the kernel between
	// the count and the close.
	_ = w.conn.SetWriteDeadline(aLongTimeAgo)
	if wait != nil {
		<-wait
	}
	w.wmu.Lock()
	derr := &DrainError{Limit: limit, Err: err}
	derr.Undelivered = w.unwrittenLocked() + kernelUnacked(w.conn, w.shut)
	w.undeliv = derr.Undelivered
	reason := w.reason
	if reason == "" {
		reason = fatalReason(derr)
	}
	if w.cause == nil {
		w.reason, w.cause = reason, derr
	}
	w.closeLocked(reason, derr)
	w.cutDone = nil
	w.wmu.Unlock()
	_ = w.conn.Close()
	close(done)
}

// Undelivered returns how many bytes queued for the peer were lost when the
// wheel closed: for a cut drain, the count of its [DrainError]; after
// [Wheel.Close], a send-queue overflow or a write error, the bytes never
// written. It is zero after a complete graceful close, and meaningful once
// the [EventClosed] is handed over.
func (w *Wheel) Undelivered() int64 {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.undeliv
}

func (w *Wheel) unwrittenLocked() int64 {
	if w.queued <= w.written {
		return 0
	}
	return int64(w.queued - w.written)
}

// writerIdleLocked returns a channel closed when the writer goroutine
// stops, or nil if none runs.
func (w *Wheel) writerIdleLocked() chan struct{} {
	if !w.writing {
		return nil
	}
	if w.writerDone == nil {
		w.writerDone = make(chan struct{})
	}
	return w.writerDone
}

// Close closes the connection at once, dropping the queue. The first
// reason given to Disconnect or Close is the one reported.
func (w *Wheel) Close(reason string, cause error) {
	w.wmu.Lock()
	w.closeLocked(reason, cause)
	w.wmu.Unlock()
	_ = w.conn.Close()
}

func (w *Wheel) setReasonLocked(reason string, cause error) {
	if w.reason == "" && w.cause == nil {
		w.reason, w.cause = reason, cause
	}
}

func (w *Wheel) closeLocked(reason string, cause error) {
	w.setReasonLocked(reason, cause)
	w.dead.Store(true)
	// A parked wheel has no reader to see the close: start one, which
	// ends the loop and delivers EventClosed.
	w.resume()
	if w.closed {
		return
	}
	w.closed = true
	if w.drainT != nil {
		w.drainT.Stop()
	}
	if !w.writing {
		w.releaseLocked()
	}
}

// startWriterLocked makes sure a writer will write what is queued: a
// goroutine of the wheel's own, gone once the queue is drained.
func (w *Wheel) startWriterLocked() {
	w.held = false
	if !w.writing {
		w.writing = true
		go w.writeLoop()
	}
}

// startSharedLocked is startWriterLocked for a Flush, the end of a burst
// queued to many wheels: a plaintext TCP wheel goes to the shared writers
// instead (writers.go), so the burst costs no goroutine per wheel.
func (w *Wheel) startSharedLocked() {
	w.held = false
	if !w.writing {
		w.writing = true
		if rawWrites && w.raw != nil {
			writers.add(w)
		} else {
			go w.writeLoop()
		}
	}
}

// releaseLocked gives the queue buffers back to the pool, so an idle
// wheel holds none.
func (w *Wheel) releaseLocked() {
	if w.pend != nil && (len(*w.pend) == 0 || w.closed) {
		putSized(w.pend)
		w.pend = nil
	}
	if w.spare != nil {
		putSized(w.spare)
		w.spare = nil
	}
}

// recordSlack is the room a record needs in the queue beyond its own
// bytes, for the line ending the output filter adds; a filter that adds
// more makes the queue grow by append instead.
const recordSlack = 2

// reserveLocked makes room for n more bytes in the queue, moving it to a
// bigger write buffer (pool.go) when it is full, so that a queue is only
// as big as what waits in it.
func (w *Wheel) reserveLocked(n int) {
	if w.pend == nil {
		w.pend = getSized(n)
		return
	}
	need := len(*w.pend) + n
	if need <= cap(*w.pend) {
		return
	}
	// Doubling at least, so that a queue past the biggest class does not
	// copy itself for every record.
	nb := getSized(max(need, 2*cap(*w.pend)))
	*nb = append(*nb, *w.pend...)
	putSized(w.pend)
	w.pend = nb
}

func (w *Wheel) writeLoop() {
	w.wmu.Lock()
	for !w.writeStoppedLocked() {
		var err error
		if w.pend != nil {
			before := len(*w.pend)
			*w.pend, err = w.out.Flush(*w.pend)
			w.queued += uint64(len(*w.pend) - before)
		}
		if err != nil {
			w.failOutputLocked(err)
			break
		}
		if w.pend == nil || len(*w.pend) == 0 {
			if w.closing && !w.shut {
				// writing stays true through shutdownWrite, so finish
				// waits for it and Closed comes after this goroutine's
				// last touch of the connection. Nothing can start a
				// second writer meanwhile: closing refuses every write.
				w.releaseLocked()
				w.wmu.Unlock()
				w.shutdownWrite()
				w.wmu.Lock()
				w.writing = false
				w.finishWriterLocked()
				w.wmu.Unlock()
				return
			}
			break
		}
		// The spare, if any, takes what is queued during the write; with
		// none, the next record takes a buffer of its own size.
		batch := w.pend
		w.pend, w.spare = w.spare, nil
		w.inflight = len(*batch)
		w.wmu.Unlock()

		n, err := w.writeConn(*batch)

		w.wmu.Lock()
		w.written += uint64(n)
		w.inflight = 0
		*batch = (*batch)[:0]
		if cap(*batch) > maxKeep {
			putSized(batch) // dropped, replaced on demand
		} else {
			w.spare = batch
		}
		if err != nil {
			if w.cutting {
				break // the cut counts what is lost and closes
			}
			w.failWriteLocked(err)
			break
		}
	}
	w.writing = false
	w.releaseLocked()
	w.finishWriterLocked()
	w.wmu.Unlock()
}

// writeConn writes p to the connection, in Writes of at most
// [WheelConfig.MaxTLSRecord] bytes on a TLS connection that has one, so
// that crypto/tls never makes a record bigger than that.
func (w *Wheel) writeConn(p []byte) (int, error) {
	chunk := int(w.tlsChunk)
	if chunk == 0 || len(p) <= chunk {
		return w.conn.Write(p)
	}
	n := 0
	for n < len(p) {
		m, err := w.conn.Write(p[n:min(len(p), n+chunk)])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (w *Wheel) finishWriterLocked() {
	if w.writerDone != nil && !w.writing {
		close(w.writerDone)
		w.writerDone = nil
	}
}

// errNoHalfClose means the connection cannot shut its write side alone.
var errNoHalfClose = errors.New("sock: connection cannot half-close")

// shutWrite shuts conn's write side: for TLS a close_notify alert and then
// the FIN of the TCP connection underneath (tls.Conn.CloseWrite sends only
// the alert), so that the peer's reader sees the end of the stream.
func shutWrite(conn net.Conn) error {
	if tc, ok := conn.(*tls.Conn); ok {
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		conn = tc.NetConn()
	}
	cw, ok := conn.(interface{ CloseWrite() error })
	if !ok {
		return errNoHalfClose
	}
	return cw.CloseWrite()
}

// shutdownWrite ends the writing half of a graceful close: the peer sees
// the end of the stream while the reader goes on until the peer closes, so
// that unread input never turns our close into a reset that could destroy
// the data just sent. A connection that cannot half-close is closed now,
// unless the peer has already ended its stream (then the reader closes it).
func (w *Wheel) shutdownWrite() {
	err := shutWrite(w.conn)
	w.wmu.Lock()
	w.shut = err == nil
	if w.shut && !w.closed {
		w.armLingerLocked()
	}
	peerDone := w.peerEOF
	reason := w.reason
	w.wmu.Unlock()
	if err != nil && !peerDone {
		w.Close(reason, nil)
	}
}

// writeStoppedLocked reports whether nothing more may be written: the
// wheel is closed, a cut is counting what is lost, or a write failed.
func (w *Wheel) writeStoppedLocked() bool {
	return w.closed || w.cutting || w.lastWords.Load()
}

// lastWordsDeadline sets the read deadline of one read made after a write
// error, on a connection read through net.Conn.Read: a TLS connection
// whose kernel holds nothing more of the peer's reads only what crypto/tls
// already holds (a deadline in the past: it reports whether it set that),
// any other read waits at most until lwUntil.
func (w *Wheel) lastWordsDeadline() (drained bool) {
	if tc, ok := w.conn.(*tls.Conn); ok {
		if n, known := kernelUnread(tc.NetConn()); known && n == 0 {
			_ = w.conn.SetReadDeadline(aLongTimeAgo)
			return true
		}
	}
	var until time.Time
	if w.lwUntil > 0 {
		until = epoch.Add(time.Duration(w.lwUntil))
	}
	_ = w.conn.SetReadDeadline(until)
	return false
}

// finish runs on the reading goroutine once reading has stopped.
func (w *Wheel) finish(readErr error) {
	// The reason is settled before the connection is closed: closing makes
	// an in-flight Write fail with "use of closed network connection",
	// which must not pass for the cause (a reset seen by the reader, say).
	w.wmu.Lock()
	eof := readErr == io.EOF
	if eof || errors.Is(readErr, net.ErrClosed) {
		w.setReasonLocked(ReasonPeerClosed, nil)
	} else if readErr != nil {
		w.setReasonLocked("Read error: "+readErr.Error(), &OpError{Op: OpRead, Addr: peerAddr(w.conn), Err: readErr})
	}
	if eof && !w.closed && !w.lastWords.Load() {
		// The peer ended its stream, maybe only its half: what is
		// queued for it still goes out, then our side is shut, within
		// the same drain limit as a Disconnect.
		w.peerEOF = true
		if !w.closing {
			w.closing = true
			w.armDrainLocked(w.drain)
		}
		if !w.shut {
			w.startWriterLocked()
		}
		if wait := w.writerIdleLocked(); wait != nil {
			w.wmu.Unlock()
			<-wait
			w.wmu.Lock()
		}
	}
	cut := w.cutDone
	w.wmu.Unlock()
	if cut != nil {
		<-cut
	}
	_ = w.conn.Close()
	w.idleMu.Lock()
	w.idleDone = true
	idles.stop(w)
	w.idleMu.Unlock()

	// Once closed, no cut can start; one under way finishes first, so
	// that Closed comes last and sees its count.
	w.wmu.Lock()
	w.closeLocked(w.reason, nil)
	wait := w.writerIdleLocked()
	cut = w.cutDone
	w.wmu.Unlock()
	if wait != nil {
		<-wait
	}
	if cut != nil {
		<-cut
	}
	w.wmu.Lock()
	if w.drainT != nil {
		w.drainT.Stop()
	}
	if w.undeliv == 0 {
		w.undeliv = w.unwrittenLocked()
	}
	reason, cause := w.reason, w.cause
	w.wmu.Unlock()
	w.h.Handle(w, Event{Kind: EventClosed, Reason: reason, Err: cause})
}
