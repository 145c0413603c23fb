package client

import (
	"errors"
	"fmt"
)

// Errors of the client. Those returned by Run are final; those carried by
// an [Event] describe one connection, and Run goes on reconnecting.
var (
	// ErrNoAddr and ErrNoNick are returned by [New] for a Config without
	// Addr or Nick.
	ErrNoAddr = errors.New("client: Config.Addr is required")
	ErrNoNick = errors.New("client: Config.Nick is required")
	// ErrUnknownMechanism is returned by [New] for a SASL mechanism the
	// client does not implement.
	ErrUnknownMechanism = errors.New("client: unknown SASL mechanism")
	// ErrQueueFull is returned by a send when the flood-control queue
	// holds [Flood.MaxQueue] messages; nothing of that send was queued.
	ErrQueueFull = errors.New("client: send queue full (Flood.MaxQueue)")
	// ErrClosed is returned by sends after Run has returned, and by Run
	// when called twice.
	ErrClosed = errors.New("client: closed")
	// ErrGaveUp is returned by Run when Reconnect.MaxTries attempts in a
	// row failed; it wraps the last cause.
	ErrGaveUp = errors.New("client: gave up reconnecting (Reconnect.MaxTries)")
	// ErrPingTimeout is the cause of a link closed because nothing came
	// back within PingTimeout of the client's PING.
	ErrPingTimeout = errors.New("client: ping timeout (Config.PingTimeout)")
	// ErrRegisterTimeout is the cause of a link closed because 001 did
	// not arrive within RegisterTimeout.
	ErrRegisterTimeout = errors.New("client: registration timeout (Config.RegisterTimeout)")
	// ErrNickUnavailable means the server refused every nick the client
	// could offer during registration.
	ErrNickUnavailable = errors.New("client: no nickname accepted")
	// ErrSASLFailed means a SASL login failed (904, 905, 906, or a
	// mechanism error such as a wrong SCRAM server signature). With
	// SASL.Required it ends Run: retrying the same credentials would fail
	// the same way.
	ErrSASLFailed = errors.New("client: SASL authentication failed")
	// ErrSASLUnavailable means SASL.Required is set and the server offers
	// no SASL (or none of the configured mechanisms). Run reconnects: the
	// services may come back.
	ErrSASLUnavailable = errors.New("client: SASL required but not available")
	// ErrSASLTooLong means the server's AUTHENTICATE challenge went past
	// DefaultMaxSASLResponse bytes.
	ErrSASLTooLong = errors.New("client: SASL challenge too long")
	// ErrUnsent is wrapped by Run's result when messages were still
	// queued as the client quit (including those handed to the
	// connection but never written to it).
	ErrUnsent = errors.New("client: messages left unsent")
	// ErrMaybeLost is wrapped by the Err of an [EventDisconnected] (and
	// by Run's result when that loss ends Run) when messages of the
	// client's queue were being written as the link died and the client
	// cannot tell whether the server got them; [Event.MaybeLost] lists
	// them. They are not sent again, so nothing is duplicated.
	ErrMaybeLost = errors.New("client: messages maybe lost with the link")
)

// A ServerError is an ERROR message from the server, the usual cause of a
// link the server closed ("Closing link: ... [Excess Flood]").
type ServerError struct {
	Message string
}

func (e *ServerError) Error() string { return "client: server closed the link: " + e.Message }

// A NumericError is a numeric reply that failed a request of the client,
// such as 904 ERR_SASLFAIL.
type NumericError struct {
	Numeric string
	Text    string
	Err     error // the sentinel, such as ErrSASLFailed
}

func (e *NumericError) Error() string {
	return fmt.Sprintf("%v: %s %s", e.Err, e.Numeric, e.Text)
}

// Unwrap returns the sentinel.
func (e *NumericError) Unwrap() error { return e.Err }
