package ircsock

import (
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// Event is one of the event types below.
type Event interface{ event() }

type (
	// Registered is the first event of every Backend (ircsock_registered).
	Registered struct{ Backend *Backend }
	// ListenerCreated reports a bound listener, with its real port; it
	// precedes the listener's ListenerOpen events and never a failure.
	ListenerCreated struct{ Listener *Listener }
	// ListenerOpen reports an accepted connection (after TLS, if any).
	ListenerOpen struct {
		Conn     *Conn
		Listener *Listener
	}
	// ListenerFailure reports a failed bind (the listener does not exist)
	// or an accept, TLS, limit, PROXY or WebSocket upgrade failure (the
	// listener goes on).
	ListenerFailure struct {
		Listener *Listener
		Op       sock.Op // sock.OpResolve, OpBind, OpAccept, OpTLS, OpLimit, OpProxy or OpWebSocket
		Errno    int     // the errno, or 0
		Err      error
	}
	// ListenerRemoved reports a closed listener.
	ListenerRemoved struct{ Listener *Listener }
	// ConnectorOpen reports an outgoing connection ready (after TLS).
	ConnectorOpen struct {
		Conn      *Conn
		Connector *Connector
	}
	// ConnectorFailure reports a dial that failed; Connector is gone.
	ConnectorFailure struct {
		Connector *Connector
		Op        sock.Op // sock.OpResolve, OpDial or OpTLS
		Errno     int
		Err       error
	}
	// Input is one parsed line from a connection: ev.Conn() and ev.Msg();
	// the Message belongs to the controller, which may keep it, or hand
	// it back with [Input.Release] once done so that a later line reuses
	// its memory. Input is one pointer wide, so delivering it as an Event
	// costs no allocation of its own (the Backend allocates what it
	// points to together with the Message). The zero Input has a nil
	// Conn and Msg.
	Input struct{ blk *inputBlock }
	// InputError reports a bad input line; the connection goes on.
	InputError struct {
		Conn *Conn
		Err  error
	}
	// Disconnect is the last event of a connection.
	Disconnect struct {
		Conn   *Conn
		Reason string
		// Err is the cause, nil for a requested or clean close; a
		// graceful close cut by DrainTimeout or by Shutdown's context
		// gives a *DrainError, a close by flood control (Reason
		// ReasonExcessFlood) an error wrapping ErrExcessFlood, a failed
		// write (Reason "Write error: ...") a *sock.OpError of
		// sock.OpWrite. Before the Disconnect of a failed write come the
		// Inputs of what the peer had sent before it hung up (an IRC
		// server's ERROR line saying why), read without waiting for more
		// and for at most Config.DrainTimeout; an InputError with
		// ErrFinalReadCut says that limit ended the reading.
		Err error
		// Undelivered is how many bytes queued for the peer were lost:
		// zero after a complete graceful close; after a cut drain, those
		// the peer had not acknowledged (see DrainError); after
		// DisconnectNow, Close, a send-queue overflow or a write error,
		// those never written.
		Undelivered int64
	}
	// ConnectionIdle reports no input for the connection's idle time;
	// it repeats every idle period while the peer stays silent.
	ConnectionIdle struct{ Conn *Conn }
	// Compressed reports that a connection's output is now compressed.
	Compressed struct{ Conn *Conn }
)

func (Registered) event()       {}
func (ListenerCreated) event()  {}
func (ListenerOpen) event()     {}
func (ListenerFailure) event()  {}
func (ListenerRemoved) event()  {}
func (ConnectorOpen) event()    {}
func (ConnectorFailure) event() {}
func (Input) event()            {}

// Conn returns the connection the line came from (nil for the zero Input).
func (in Input) Conn() *Conn {
	if in.blk == nil {
		return nil
	}
	return in.blk.conn
}

// Msg returns the parsed line (nil for the zero Input).
func (in Input) Msg() *ircmsg.Message {
	if in.blk == nil {
		return nil
	}
	return &in.blk.m
}

func (InputError) event()     {}
func (Disconnect) event()     {}
func (ConnectionIdle) event() {}
func (Compressed) event()     {}

// Reasons of Disconnect events the Backend chooses itself.
const (
	// ReasonClientDisconnect is used by Disconnect and DisconnectNow when
	// they are given an empty reason (the original's default).
	ReasonClientDisconnect = "Client disconnect"
	// ReasonShutdown is the reason of every connection closed by Shutdown
	// or Close.
	ReasonShutdown = "Server shutdown"
	// ReasonSendQ is the reason when a connection's send queue overflows.
	ReasonSendQ = sock.ReasonSendQ
	// ReasonPeerClosed is the reason when the peer ends its stream; what
	// was queued for it is written first.
	ReasonPeerClosed = sock.ReasonPeerClosed
)
