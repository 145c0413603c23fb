package sock

import (
	"errors"
	"net"
	"syscall"
)

// Op names the socket operation an [OpError] or a failure event is about.
type Op string

// The operations of sock. The values are the operation names the
// POEx::IRC::Backend events used, so "connect" is the value of [OpDial].
const (
	OpResolve Op = "resolve" // resolving a host name (listen or dial)
	OpBind    Op = "bind"    // binding a listening socket
	OpAccept  Op = "accept"  // accepting a connection; the listener backs off and goes on
	OpLimit   Op = "limit"   // a connection refused by MaxConns, MaxConnsPerIP or Throttle
	OpProxy   Op = "proxy"   // a PROXY protocol header missing, malformed, late or untrusted
	// OpWebSocket is a refused WebSocket upgrade request; the client got
	// an HTTP error status when it could be sent.
	OpWebSocket Op = "websocket"
	OpDial      Op = "connect" // connecting to a remote address
	OpTLS       Op = "tls"     // a TLS handshake
	OpRead      Op = "read"    // reading from a connection
	OpWrite     Op = "write"   // writing to a connection
)

// OpError is the error of every failed socket operation of sock: a
// [Listen] or [Dial] that failed, a connection a [Listener] could not take
// (reported in a [ListenEvent]), and the read or write error that closed a
// [Wheel] (the Err of its [EventClosed]). errors.Is and errors.As see
// through it to the cause, for example syscall.ECONNREFUSED or
// [ErrMaxConns].
type OpError struct {
	Op   Op
	Addr string // the address concerned: host:port, or an IP for OpLimit
	Err  error  // the cause
}

func (e *OpError) Error() string {
	if e.Addr == "" {
		return "sock: " + string(e.Op) + ": " + e.Err.Error()
	}
	return "sock: " + string(e.Op) + " " + e.Addr + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// Errno returns the system error number inside err, or 0.
func Errno(err error) int {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int(en)
	}
	return 0
}

// EventKind says what a wheel [Event] reports.
type EventKind uint8

// The kinds of [Event]. The zero EventKind is none of them.
const (
	// EventRecord carries one decoded record in Event.Record.
	EventRecord EventKind = iota + 1
	// EventRecordError carries a per-record decoding error in Event.Err
	// (see filter.IsRecordError); the stream goes on.
	EventRecordError
	// EventIdle reports that no input arrived for [WheelConfig.Idle].
	EventIdle
	// EventClosed is the last event of a wheel: Event.Reason says why in
	// words, Event.Err is the cause (nil for a requested or clean close;
	// an *[OpError] with [OpRead] or [OpWrite] for a socket error).
	// After a write error it comes once the records the peer had
	// already sent are handled (see [Wheel]).
	EventClosed
)

// Event is what a [Wheel] hands its [Handler]. Its zero value is an event
// of no kind, which handlers ignore.
type Event struct {
	Kind EventKind
	// Record is the record of an EventRecord. It aliases the wheel's
	// buffers: it is valid only until Handle returns.
	Record []byte
	// Err is the error of an EventRecordError, or the cause of an
	// EventClosed.
	Err error
	// Reason is the human-readable close reason of an EventClosed.
	Reason string
}

// A Handler receives a [Wheel]'s events. EventRecord, EventRecordError and
// EventClosed are handled on the wheel's reading goroutine (the one that
// called [Wheel.Run], or under [Wheel.Start] one the wheel starts, which
// may be a different goroutine after each wait for input), one at a time,
// in wire order; EventIdle on a timer
// goroutine, never after EventClosed has started, and EventClosed waits for
// it, so it must not block for long. EventClosed comes exactly once, last,
// after the connection is closed and the wheel's writer has stopped.
//
// Handle may change the input filter while it handles an EventRecord or
// EventRecordError ([Wheel.SetInput]); the change applies to the next
// record.
//
// Most users do not implement Handler: they fill in a [Funcs], or convert
// one function with [HandlerFunc].
type Handler interface {
	Handle(w *Wheel, ev Event)
}

// A ReadEndHandler is a [Handler] that is also told each time the wheel
// has decoded all it can of what it has read: HandleReadEnd runs on the
// reading goroutine after the last record of that pass (or none, when the
// bytes held no complete record), before the wheel reads again or waits
// for input. A handler that passes records on in runs, so that whoever
// consumes them is woken once per run rather than once per record, passes
// its run on there; as nothing is read in between, a record it holds
// never waits for the peer's next bytes. It is not called once the wheel
// is closed (no record is handed over then either): a run still held is
// the handler's to pass on at [EventClosed], which comes last as ever.
type ReadEndHandler interface {
	Handler
	HandleReadEnd(w *Wheel)
}

// HandlerFunc adapts a function to a [Handler], as net/http's HandlerFunc
// does.
type HandlerFunc func(w *Wheel, ev Event)

// Handle calls f(w, ev).
func (f HandlerFunc) Handle(w *Wheel, ev Event) { f(w, ev) }

// Funcs is a [Handler] made of optional functions, one per [EventKind]; a
// nil function ignores its events. The zero Funcs ignores everything.
type Funcs struct {
	// Record is called for each decoded record; rec is valid only until
	// it returns.
	Record func(w *Wheel, rec []byte)
	// RecordError is called for each per-record decoding error.
	RecordError func(w *Wheel, err error)
	// Idle is called when no input arrived for the idle time.
	Idle func(w *Wheel)
	// Closed is called once, last.
	Closed func(w *Wheel, reason string, err error)
}

// Handle calls the function for ev's kind, if it is set.
func (f Funcs) Handle(w *Wheel, ev Event) {
	switch ev.Kind {
	case EventRecord:
		if f.Record != nil {
			f.Record(w, ev.Record)
		}
	case EventRecordError:
		if f.RecordError != nil {
			f.RecordError(w, ev.Err)
		}
	case EventIdle:
		if f.Idle != nil {
			f.Idle(w)
		}
	case EventClosed:
		if f.Closed != nil {
			f.Closed(w, ev.Reason, ev.Err)
		}
	}
}

// ListenEvent is what a [Listener] hands its [ListenHandler]: either an
// accepted connection (Conn and Release set) or a failure that did not
// stop the listener (Err set). Its zero value is neither, and handlers
// ignore it.
type ListenEvent struct {
	// Conn is an accepted connection, after its TLS handshake when the
	// listener speaks TLS.
	Conn net.Conn
	// Release must be called exactly once, from any goroutine, when the
	// handler is done with Conn: the connection counts against the
	// listener's limits, and [Listener.Wait] waits for it, until then.
	Release func()
	// Err is a failure: an *[OpError] with [OpAccept] (the listener backs
	// off and goes on), [OpTLS] (a handshake failed; the connection is
	// dropped), [OpLimit] (a connection refused by MaxConns,
	// MaxConnsPerIP or Throttle: a *[LimitError] naming the limit,
	// errors.Is(err, [ErrMaxConns]) and so on) or [OpProxy]
	// (a PROXY protocol header was missing, malformed, late or untrusted:
	// [ErrProxyMissing], [ErrProxyMalformed], [ErrProxyTooLong],
	// [ErrProxyUntrusted], or the read error; the connection is dropped)
	// or [OpWebSocket] (an upgrade request refused: [ErrWebSocketPath],
	// [ErrWebSocketOrigin], [ErrWebSocketRequest], or the read error; the
	// client is answered with an HTTP error status when possible, and the
	// connection is dropped).
	Err error
}

// A ListenHandler receives a [Listener]'s events. Each accepted connection
// is handed over on a goroutine of its own, which the handler may keep or
// leave: handing the connection to a fresh goroutine keeps the setup's deep
// stack off the goroutine that then waits for input.
//
// Most users do not implement ListenHandler: they fill in a [ListenFuncs],
// or convert one function with [ListenHandlerFunc].
type ListenHandler interface {
	HandleListen(ev ListenEvent)
}

// ListenHandlerFunc adapts a function to a [ListenHandler].
type ListenHandlerFunc func(ev ListenEvent)

// HandleListen calls f(ev).
func (f ListenHandlerFunc) HandleListen(ev ListenEvent) { f(ev) }

// ListenFuncs is a [ListenHandler] made of optional functions. With Serve
// nil, accepted connections are closed and released at once; with Failed
// nil, failures are not reported.
type ListenFuncs struct {
	// Serve takes one accepted connection; it must call release exactly
	// once (see ListenEvent.Release).
	Serve func(c net.Conn, release func())
	// Failed reports a failure; err is an *OpError.
	Failed func(err error)
}

// HandleListen calls Serve or Failed for ev.
func (f ListenFuncs) HandleListen(ev ListenEvent) {
	switch {
	case ev.Conn != nil:
		if f.Serve != nil {
			f.Serve(ev.Conn, ev.Release)
			return
		}
		_ = ev.Conn.Close()
		if ev.Release != nil {
			ev.Release()
		}
	case ev.Err != nil:
		if f.Failed != nil {
			f.Failed(ev.Err)
		}
	}
}
