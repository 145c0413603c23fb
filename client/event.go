package client

import (
	"fmt"
	"time"
)

// An EventKind says what an [Event] reports.
type EventKind int

// The kinds of [Event].
const (
	// EventConnecting: attempt Attempt to connect to Addr starts.
	EventConnecting EventKind = iota + 1
	// EventConnected: the connection (and TLS) is up; registration starts.
	EventConnected
	// EventRegistered: 001 arrived; Nick is the nick the server gave.
	EventRegistered
	// EventLoggedIn: SASL succeeded (903); Account is the account name
	// from 900, Mechanism the mechanism used.
	EventLoggedIn
	// EventSASLFailed: a SASL attempt failed; Err says why, Mechanism
	// which one.
	EventSASLFailed
	// EventCapsChanged: capabilities were enabled or disabled (ACK, DEL).
	EventCapsChanged
	// EventDisconnected: the link is gone; Err is the cause (nil after a
	// requested quit).
	EventDisconnected
	// EventReconnectWait: Run waits Delay before attempt Attempt; Err is
	// the cause of the previous loss.
	EventReconnectWait
)

func (k EventKind) String() string {
	switch k {
	case EventConnecting:
		return "connecting"
	case EventConnected:
		return "connected"
	case EventRegistered:
		return "registered"
	case EventLoggedIn:
		return "logged-in"
	case EventSASLFailed:
		return "sasl-failed"
	case EventCapsChanged:
		return "caps-changed"
	case EventDisconnected:
		return "disconnected"
	case EventReconnectWait:
		return "reconnect-wait"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event reports a change in the client's connection.
type Event struct {
	Kind      EventKind
	Attempt   int           // connection attempt, from 1, counted over Run
	Addr      string        // server address
	Nick      string        // EventRegistered
	Account   string        // EventLoggedIn
	Mechanism string        // EventLoggedIn, EventSASLFailed
	Delay     time.Duration // EventReconnectWait
	Err       error         // cause, for failures and losses

	// Requeued (EventDisconnected) counts the messages the connection
	// had accepted but not written to the socket when it closed: the
	// server never saw them, so they went back to the head of the queue
	// and go out, in order, after the next 001 (or count in Run's
	// ErrUnsent when Run ends).
	Requeued int
	// MaybeLost (EventDisconnected) lists, as raw lines, the messages
	// that were being written as the link died, so the client cannot
	// tell whether the server got them; they are not sent again, and
	// Err wraps [ErrMaybeLost]. Messages the kernel took before the link
	// died count as written: TCP cannot tell whether the server read them.
	MaybeLost []string
}

func (e Event) String() string {
	s := fmt.Sprintf("%s attempt=%d", e.Kind, e.Attempt)
	if e.Requeued > 0 {
		s += fmt.Sprintf(" requeued=%d", e.Requeued)
	}
	if len(e.MaybeLost) > 0 {
		s += fmt.Sprintf(" maybe-lost=%d", len(e.MaybeLost))
	}
	if e.Err != nil {
		s += fmt.Sprintf(" err=%q", e.Err.Error())
	}
	return s
}
