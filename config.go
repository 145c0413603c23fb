package ircsock

import (
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
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
	// MaxLine is the longest input line, CR LF excluded. Zero means
	// DefaultMaxLine (8701: 8191 bytes of tags and 510 of message, the
	// limits of ircmsg).
	MaxLine int
	// MaxSendQ is the most bytes queued for one connection; past it the
	// connection is dropped with the reason "Max SendQ exceeded". Zero
	// means 1 MiB.
	MaxSendQ int
	// Events is the events channel's buffer. Zero means 1024. Besides
	// what the channel holds, a connection's reading goroutine sends the
	// lines of one read in runs of at most 16, so while the channel is
	// full each connection being read may hold up to 16 decoded lines
	// more (it reads nothing further meanwhile).
	Events int
	// InputHandler, when set, is called with every Input on the goroutine
	// that read it, instead of the Input going to Events: one connection
	// works like an event loop's turn, with no hand-over between
	// goroutines (see Backend.Events for what the channel still carries,
	// and the package documentation, "Handling input where it is read").
	// The calls for one connection come one at a time, in wire order;
	// calls for different connections run at once, so it must be safe
	// for concurrent use. While it runs its connection is not read; Close
	// and Shutdown wait for it to return, so it must not call them.
	InputHandler func(Input)
	// ConnectTimeout bounds a connector's dial. Zero means 30 s.
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds a TLS handshake. Zero means 10 s.
	HandshakeTimeout time.Duration
	// EarlyInput is how many bytes of its first input lines a connection
	// keeps, until an input switch is armed, so that a CompressInputAfter
	// called after the reader has decoded some lines can tell whether it
	// came too late (see Backend.CompressInputAfter). Zero means
	// DefaultEarlyInput (1024: a server link's PASS, CAPAB and SERVER fit
	// several times over); negative keeps none, so that any such call
	// after the first line is refused with ErrArmedLate. The copy is what
	// a connection that never arms a switch keeps of its first lines, for
	// its whole life: a registered client's NICK, USER and CAP lines, a
	// few hundred bytes.
	EarlyInput int
	// DrainTimeout is the one limit of a graceful close (Disconnect, and
	// the flush of a connection whose peer ended its stream): the most time
	// from the call to the close, spent writing the queue, shutting the
	// write side and reading until the peer closes. Past it the connection
	// is closed and its Disconnect event carries a *DrainError
	// (errors.Is(err, ErrDrainTimeout)) and the bytes not delivered. Zero
	// means DefaultDrainTimeout (10 s); negative means no limit. Shutdown
	// writes each queue for as long as its context allows, and applies
	// DrainTimeout to the wait for the peer's close that follows, counted
	// afresh while the peer goes on acknowledging what the kernel holds.
	// It also bounds, from the error, the reading of what the peer had
	// sent before a write to it failed (see Disconnect).
	DrainTimeout time.Duration
}

// ListenerConfig configures a listener (create_listener's arguments).
type ListenerConfig struct {
	// Addr is the "host:port" to bind, as for net.Listen: an empty host
	// binds every local address (IPv4 and IPv6), an IPv4 or IPv6 literal
	// ("[::1]:6667") that address only, and port 0 an ephemeral port
	// (see Listener.Port). Empty means ":0".
	Addr string
	// TLS, or CertFile and KeyFile, make the listener speak TLS; with
	// neither but UseTLS, the Backend's Config.TLS is used.
	TLS               *tls.Config
	CertFile, KeyFile string
	UseTLS            bool
	// Idle is the time without input before a ConnectionIdle event,
	// repeated every Idle. Zero means DefaultIdle (180 s); negative
	// disables idle events. sock.WheelConfig.Idle means the same.
	Idle time.Duration
	// MaxTLSRecord is, on a TLS connection (not WebSocket), the most
	// plaintext bytes written at once and so the most one TLS record
	// carries; zero means sock.DefaultMaxTLSRecord (16 KiB, TLS's own
	// limit). A peer that reads TLS in small pieces needs it lower: for a
	// link with ngircd, 2048 (see sock.WheelConfig.MaxTLSRecord for why).
	MaxTLSRecord int
	// Args is carried to the listener's connections (the original's args).
	Args any
	// Listener, when set, is accepted from instead of binding Addr.
	Listener net.Listener
	// MaxConns is the most connections open at once from this listener;
	// zero or negative means no limit. MaxConnsPerIP the same per remote
	// address (behind a trusted proxy, the client's address from its
	// header). A refused connection gets one ERROR line naming the limit
	// (on a WebSocket listener, an HTTP 503 answer to its upgrade
	// request, with Retry-After when Throttle knows when) and is reported
	// as a ListenerFailure with Op "limit" and counted in
	// Listener.Refusals.
	MaxConns, MaxConnsPerIP int

	// ProxyFrom lists the networks of trusted proxies speaking the PROXY
	// protocol, version 1 or 2 (HAProxy's send-proxy, send-proxy-v2). A
	// connection from them must start with a header, read within
	// ProxyTimeout and before any TLS handshake; its source address is
	// then the connection's address everywhere: Conn.Peer, events,
	// MaxConnsPerIP. LOCAL and UNKNOWN headers keep the socket's address.
	// A header from any other address is never believed: that connection
	// is closed. Every refusal is a ListenerFailure with Op "proxy" (see
	// sock.ErrProxyMissing and its siblings). Empty means no PROXY
	// protocol.
	ProxyFrom []netip.Prefix
	// ProxyOptional lets a trusted proxy connect without a header (its
	// own address is used); false refuses it.
	ProxyOptional bool
	// ProxyTimeout bounds the reading of a header. Zero means
	// sock.DefaultProxyTimeout (5 s).
	ProxyTimeout time.Duration
	// ProxyMaxHeader bounds a version 2 header in bytes. Zero means
	// sock.DefaultProxyMaxHeader (4096).
	ProxyMaxHeader int

	// IPv6Prefix is how many leading bits of an IPv6 address the
	// per-address limits (MaxConnsPerIP, Throttle) count as one client.
	// Zero means 64 (sock.DefaultIPv6Prefix); 128 counts each address.
	// Outside 0 to 128, CreateListener fails with sock.ErrBadConfig.
	IPv6Prefix int
	// Throttle limits how fast one address may open connections: more
	// than Throttle.Conns within Throttle.Window and it is refused for
	// Throttle.Ban. It follows at most Throttle.MaxAddrs addresses at
	// once (65536 by default); while that many are live, a new address
	// is refused with sock.ErrThrottleFull rather than one forgotten. The
	// zero value is off.
	Throttle Throttle
	// Exempt lists networks to which MaxConnsPerIP, Throttle and Flood do
	// not apply (MaxConns does).
	Exempt []netip.Prefix
	// Admission, when set, makes this listener count its connections in
	// a sock.Admission it shares with other listeners (of this Backend
	// or another): its MaxConns, MaxConnsPerIP, IPv6Prefix, Throttle and
	// Exempt then apply to all of them together, so that a client is
	// counted once whichever listener it uses. This listener's own
	// MaxConns, MaxConnsPerIP, IPv6Prefix and Throttle must be zero
	// (CreateListener fails with sock.ErrBadConfig otherwise), and its
	// Exempt then applies to Flood only. Nil means the listener counts
	// on its own: its limits are per listener.
	Admission *sock.Admission
	// RefuseLinger is how long a connection refused by MaxConns,
	// MaxConnsPerIP or Throttle is kept after its ERROR line, its input
	// read and dropped, so that the line is not lost to a reset; on a TLS
	// listener it also bounds the handshake the line needs. Zero means
	// sock.DefaultRefuseLinger (2 s); negative means no lingering (a TLS
	// client then gets no line). See sock.ListenConfig.RefuseLinger.
	RefuseLinger time.Duration
	// MaxRefusing is the most refused connections lingering at once; past
	// it a refusal is closed at once and its ListenerFailure also carries
	// sock.ErrMaxRefusing. Zero means sock.DefaultMaxRefusing (256);
	// negative means none lingers.
	MaxRefusing int
	// Flood slows down connections that send commands too fast and
	// disconnects those that keep on; the zero value is off.
	Flood FloodControl

	// WebSocket, when set, makes the listener serve IRC over WebSocket
	// (plain or, with TLS, secure) instead of raw TCP. Nil means raw TCP.
	WebSocket *WebSocketConfig

	// CompressInputAfter, when set, arms every connection of this
	// listener as Backend.CompressInputAfter does, before any of its input
	// is decoded: its input is decompressed from the byte after the first
	// line for which it returns true. This is the exact way for a peer
	// that speaks first, such as a server dialling in that sends PASS,
	// SERVER and its first zlib bytes in one burst. It runs on the
	// connection's reading goroutine and must not block.
	CompressInputAfter func(*ircmsg.Message) bool
}

// IRCv3 WebSocket subprotocols: one IRC line per WebSocket message, in
// text or binary messages.
const (
	SubprotocolText   = "text.ircv3.net"
	SubprotocolBinary = "binary.ircv3.net"
)

// WebSocketConfig configures a WebSocket listener, IRC over WebSocket as
// the IRCv3 WebSocket specification describes it. Upgrades are accepted
// on Path; the subprotocols SubprotocolText and SubprotocolBinary are
// negotiated in the client's order of preference; with neither (a legacy
// client) the connection goes on without a subprotocol and is sent text.
// Each message carries one line without CR LF, both ways; messages
// from the client may be text or binary whatever was agreed, and a text
// message that is not valid UTF-8 closes the connection (RFC 6455). A line
// sent to a text client that is not valid UTF-8 (a binary client's, say)
// has its invalid bytes replaced by U+FFFD, as the specification allows,
// rather than being sent as invalid text. Zlib compression is refused on
// these connections (ErrWebSocketCompression).
//
// Everything else is the same as over TCP: MaxLine and per-record
// InputError, the send queue and MaxSendQ, idle events, Disconnect and
// its drain, which ends with a WebSocket close frame. A controller tells a
// WebSocket connection apart only by asking Conn.WebSocket.
type WebSocketConfig struct {
	// Path is the request path, such as "/webirc"; others get 404. Empty
	// means "/".
	Path string
	// Origins lists the web origins whose pages may connect: exact
	// ("https://irc.example.org"), path.Match patterns over the origin
	// ("https://*.example.org") or its host ("*.example.org"), or "*".
	// Pages served by the listener's own host, and clients that send no
	// Origin (not browsers), are always allowed; others get 403.
	Origins []string
	// MaxRequest bounds the HTTP upgrade request in bytes. Zero means
	// sock.DefaultWebSocketMaxRequest (16 KiB).
	MaxRequest int
}

// Throttle is the per-address connection rate limit of a listener (see
// sock.Throttle).
type Throttle = sock.Throttle

// ConnectorConfig configures an outgoing connection (create_connector).
type ConnectorConfig struct {
	// Addr is the remote "host:port", as for net.Dial: a host name, an
	// IPv4 address or an IPv6 address in brackets ("[::1]:6667").
	Addr string
	// BindAddr is the optional local IP address to connect from; a host
	// name then resolves to addresses of the same family.
	BindAddr string
	// TLS makes the connection speak TLS; ServerName defaults to Addr's
	// host and certificate verification is on unless the config turns it
	// off.
	TLS *tls.Config
	// Idle is as in ListenerConfig: zero means DefaultIdle (180 s),
	// negative disables idle events.
	Idle time.Duration
	// MaxTLSRecord is as in ListenerConfig.
	MaxTLSRecord int
	// Timeout bounds the dial and TLS handshake; zero means the Backend's
	// Config.ConnectTimeout.
	Timeout time.Duration
	// Args is carried to the connection's events.
	Args any
	// CompressInputAfter is as in ListenerConfig, for the peer we dial.
	CompressInputAfter func(*ircmsg.Message) bool
}

// Defaults of the zero Config and ListenerConfig fields.
const (
	DefaultMaxLine          = filter.DefaultLineMax
	DefaultMaxSendQ         = sock.DefaultMaxSendQ
	DefaultEvents           = 1024
	DefaultConnectTimeout   = sock.DefaultConnectTimeout
	DefaultHandshakeTimeout = sock.DefaultHandshakeTimeout
	DefaultDrainTimeout     = sock.DefaultDrainTimeout
	DefaultIdle             = sock.DefaultIdle
	DefaultEarlyInput       = 1024
)
