package ircsock

// API skeleton: the backend helper replaces every TODO body and may add
// fields and methods. The exported names and signatures below are what
// cmd/ircsock and the tests code against; change them only together with
// their callers.

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
)

// ConnID identifies one connection for the life of its Backend (the
// original's wheel ID). IDs are never reused.
type ConnID uint64

// ListenerID identifies one listener; ConnectorID one connector.
type (
	ListenerID  uint64
	ConnectorID uint64
)

// Config configures a Backend (the original's spawn/new arguments). The
// zero value works.
type Config struct {
	// Format is how outgoing messages are written; a server usually wants
	// Colonify. Its Limits also bound incoming messages.
	Format ircmsg.Format
	// TLS is the server-side TLS configuration used by listeners that ask
	// for TLS without their own (the original's ssl_opts).
	TLS *tls.Config
	// MaxLine is the longest input line, CR LF excluded. Zero means 8703.
	MaxLine int
	// MaxSendQ is the most bytes queued for one connection; past it the
	// connection is dropped with the reason "Max SendQ exceeded". Zero
	// means 1 MiB.
	MaxSendQ int
	// Events is the events channel's buffer. Zero means 1024.
	Events int
	// ConnectTimeout bounds a connector's dial. Zero means 30 s.
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds a TLS handshake. Zero means 10 s.
	HandshakeTimeout time.Duration
	// DrainTimeout bounds how long a disconnect waits for its queue to be
	// written. Zero means 10 s.
	DrainTimeout time.Duration
}

// Backend is the POEx::IRC::Backend API in Go.
type Backend struct{}

// New starts a Backend (spawn). Its first event is [Registered].
func New(cfg Config) *Backend { panic("TODO") }

// Events returns the channel on which every event is delivered, in order,
// to the one controller (register). It is closed after the last event.
func (b *Backend) Events() <-chan Event { panic("TODO") }

// ListenerConfig configures a listener (create_listener's arguments).
type ListenerConfig struct {
	// Addr is the bind address; empty means 0.0.0.0 ("::" with IPv6).
	Addr string
	// Port is the port; zero means an ephemeral port (see Listener.Port).
	Port int
	// IPv6 listens on IPv6 (also implied by an IPv6 Addr).
	IPv6 bool
	// TLS, or CertFile and KeyFile, make the listener speak TLS; with
	// neither but UseTLS, the Backend's Config.TLS is used.
	TLS               *tls.Config
	CertFile, KeyFile string
	UseTLS            bool
	// Idle is the time without input before a ConnectionIdle event,
	// repeated every Idle. Zero means 180 s; negative disables it.
	Idle time.Duration
	// Args is carried to the listener's connections (the original's args).
	Args any
	// Listener, when set, is accepted from instead of binding Addr:Port.
	Listener net.Listener
	// MaxConns is the most connections open at once from this listener;
	// zero means no limit. MaxConnsPerIP the same per remote address.
	MaxConns, MaxConnsPerIP int
}

// Listener is a listening socket and its settings.
type Listener struct{}

func (l *Listener) ID() ListenerID      { panic("TODO") }
func (l *Listener) Addr() netip.Addr    { panic("TODO") }
func (l *Listener) Port() int           { panic("TODO") } // the real bound port
func (l *Listener) TLS() bool           { panic("TODO") }
func (l *Listener) Idle() time.Duration { panic("TODO") }
func (l *Listener) Args() any           { panic("TODO") }

// CreateListener binds and starts accepting. It reports the result both
// as its return value and as a ListenerCreated or ListenerFailure event.
func (b *Backend) CreateListener(cfg ListenerConfig) (*Listener, error) { panic("TODO") }

// RemoveListener closes the listener id; its connections stay open.
func (b *Backend) RemoveListener(id ListenerID) error { panic("TODO") }

// RemoveListeners closes every listener bound to addr (if valid) and port
// (if nonzero), and returns how many it removed.
func (b *Backend) RemoveListeners(addr netip.Addr, port int) int { panic("TODO") }

// ConnectorConfig configures an outgoing connection (create_connector).
type ConnectorConfig struct {
	Addr     string // remote address or host name
	Port     int
	BindAddr string // optional local address
	IPv6     bool
	// TLS makes the connection speak TLS; ServerName defaults to Addr and
	// certificate verification is on unless the config turns it off.
	TLS *tls.Config
	// Idle is as in ListenerConfig; zero means 180 s.
	Idle time.Duration
	// Timeout bounds the dial and TLS handshake; zero means the Backend's.
	Timeout time.Duration
	// Args is carried to the connection's events.
	Args any
}

// Connector is a pending outgoing connection.
type Connector struct{}

func (c *Connector) ID() ConnectorID { panic("TODO") }
func (c *Connector) Addr() string    { panic("TODO") }
func (c *Connector) Port() int       { panic("TODO") }
func (c *Connector) Args() any       { panic("TODO") }

// CreateConnector starts dialing; the result is a ConnectorOpen or
// ConnectorFailure event. ctx cancels the dial.
func (b *Backend) CreateConnector(ctx context.Context, cfg ConnectorConfig) (*Connector, error) {
	panic("TODO")
}

// Conn is one live connection (the original's Connect).
type Conn struct{}

func (c *Conn) ID() ConnID                                     { panic("TODO") }
func (c *Conn) IPv6() bool                                     { panic("TODO") }
func (c *Conn) Peer() netip.AddrPort                           { panic("TODO") } // unmapped
func (c *Conn) Local() netip.AddrPort                          { panic("TODO") }
func (c *Conn) LastSeen() time.Time                            { panic("TODO") }
func (c *Conn) Idle() time.Duration                            { panic("TODO") }
func (c *Conn) Compressed() bool                               { panic("TODO") }
func (c *Conn) Disconnecting() bool                            { panic("TODO") }
func (c *Conn) TLS() *tls.ConnectionState                      { panic("TODO") } // nil if plain
func (c *Conn) Args() any                                      { panic("TODO") }
func (c *Conn) Listener() *Listener                            { panic("TODO") } // nil for connectors
func (c *Conn) Connector() *Connector                          { panic("TODO") } // nil for listeners
func (b *Backend) Conn(id ConnID) (*Conn, bool)                { panic("TODO") }
func (b *Backend) Conns() []*Conn                              { panic("TODO") }
func (b *Backend) Listeners() []*Listener                      { panic("TODO") }
func (b *Backend) Connectors() []*Connector                    { panic("TODO") }
func (b *Backend) Send(m *ircmsg.Message, ids ...ConnID) error { panic("TODO") }

// Disconnect closes id after everything queued before it is written.
func (b *Backend) Disconnect(id ConnID, reason string) error { panic("TODO") }

// DisconnectNow closes id at once, dropping its queue.
func (b *Backend) DisconnectNow(id ConnID, reason string) error { panic("TODO") }

// SetCompressedLink compresses id's output from the next flush point on.
func (b *Backend) SetCompressedLink(id ConnID) error { panic("TODO") }

// SetCompressedLinkNow compresses both directions from now on.
func (b *Backend) SetCompressedLinkNow(id ConnID) error { panic("TODO") }

// UnsetCompressedLink removes compression in both directions.
func (b *Backend) UnsetCompressedLink(id ConnID) error { panic("TODO") }

// CompressInputAfter arranges, in advance, that id's input is decompressed
// from the byte after the first line for which match returns true. match
// runs on the connection's reading goroutine.
func (b *Backend) CompressInputAfter(id ConnID, match func(*ircmsg.Message) bool) error {
	panic("TODO")
}

// Shutdown stops listeners, flushes queues, closes connections, delivers
// the last events and closes the events channel.
func (b *Backend) Shutdown(ctx context.Context) error { panic("TODO") }

// Close stops everything at once.
func (b *Backend) Close() error { panic("TODO") }

// Event is one of the event types below.
type Event interface{ event() }

type (
	Registered      struct{ Backend *Backend }
	ListenerCreated struct{ Listener *Listener }
	ListenerOpen    struct {
		Conn     *Conn
		Listener *Listener
	}
	ListenerFailure struct {
		Listener *Listener
		Op       string // "bind", "listen", "accept", "tls"
		Errno    int    // the errno, or 0
		Err      error
	}
	ListenerRemoved struct{ Listener *Listener }
	ConnectorOpen   struct {
		Conn      *Conn
		Connector *Connector
	}
	ConnectorFailure struct {
		Connector *Connector
		Op        string // "resolve", "connect", "tls"
		Errno     int
		Err       error
	}
	Input struct {
		Conn *Conn
		Msg  *ircmsg.Message
	}
	// InputError reports a bad input line; the connection goes on.
	InputError struct {
		Conn *Conn
		Err  error
	}
	Disconnect struct {
		Conn   *Conn
		Reason string
		Err    error // the cause, nil for a requested or clean close
	}
	ConnectionIdle struct{ Conn *Conn }
	Compressed     struct{ Conn *Conn }
)

func (Registered) event()       {}
func (ListenerCreated) event()  {}
func (ListenerOpen) event()     {}
func (ListenerFailure) event()  {}
func (ListenerRemoved) event()  {}
func (ConnectorOpen) event()    {}
func (ConnectorFailure) event() {}
func (Input) event()            {}
func (InputError) event()       {}
func (Disconnect) event()       {}
func (ConnectionIdle) event()   {}
func (Compressed) event()       {}
