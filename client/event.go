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
}

func (e Event) String() string {
	s := fmt.Sprintf("%s attempt=%d", e.Kind, e.Attempt)
	if e.Err != nil {
		s += fmt.Sprintf(" err=%q", e.Err.Error())
	}
	return s
}
