package ircd

import (
	"crypto/tls"
	"log/slog"
	"net/netip"
	"time"

	"github.com/ircsock/ircsock"
)

// Defaults used when a [Config] field is zero.
const (
	DefaultServerName      = "ircsock.localhost"
	DefaultNetwork         = "ircsock"
	DefaultListen          = "127.0.0.1:6667"
	DefaultPingInterval    = 90 * time.Second
	DefaultRegisterTimeout = 30 * time.Second
	DefaultMaxConns        = 1024
	DefaultMaxConnsPerIP   = 128
	DefaultMaxChannels     = 50
	DefaultShutdownTimeout = 5 * time.Second
	DefaultDrainTimeout    = 3 * time.Second
	DefaultMaxListEntries  = 100
	DefaultMaxMonitor      = 100
	DefaultWhowasHistory   = 100
	// DefaultSTSDuration is how long a client that connected over TLS
	// is told to keep using TLS (IRCv3 sts duration): 30 days.
	DefaultSTSDuration = 30 * 24 * time.Hour
	// DefaultRefusalLogInterval is how often, at most, a listener's
	// refusals are summed up at warning level.
	DefaultRefusalLogInterval = time.Minute
)

// Fixed protocol limits, advertised in RPL_ISUPPORT (005).
const (
	NickLen    = 30  // NICKLEN
	ChanLen    = 50  // CHANNELLEN
	TopicLen   = 390 // TOPICLEN
	UserLen    = 10  // USERLEN
	ReasonLen  = 300 // longest QUIT, PART or KICK reason kept
	RealLen    = 100 // longest real name kept
	MaxTargets = 4   // TARGMAX for PRIVMSG, NOTICE and TAGMSG
	// MaxModeParams is advertised as MODES: the most mode changes with
	// a parameter a client should put in one MODE command. The server
	// applies longer ones whole and announces them in MODE lines of at
	// most this many parameters each.
	MaxModeParams = 4
	// AwayLen is the longest AWAY message kept (AWAYLEN).
	AwayLen = ReasonLen
)

// Config configures a [Server]. The zero value serves plain IRC on
// 127.0.0.1:6667.
type Config struct {
	// ServerName is the server's name, the source of its own messages.
	// Zero means "ircsock.localhost".
	ServerName string
	// Network is advertised as NETWORK in 005. Zero means "ircsock".
	Network string
	// Version is reported in 002 and 004. Zero means "ircsock".
	Version string

	// Listen is the plain-text listener's host:port; port 0 picks an
	// ephemeral port (see [Server.Addr]). Zero means "127.0.0.1:6667";
	// "none" disables the plain listener.
	Listen string
	// TLSListen is the TLS listener's host:port; empty means no TLS
	// listener. It needs TLS.
	TLSListen string
	// STSDuration is the IRCv3 strict transport security policy's
	// duration, advertised in CAP LS 302 when there is a TLS listener:
	// the plain listener offers "sts=port=<TLS port>", the TLS listener
	// "sts=duration=<seconds>", and a client that supports STS then
	// connects only over TLS for that long. Zero means 30 days;
	// negative turns STS off. Without a TLS listener there is no STS.
	STSDuration time.Duration
	// STSPort is the port the plain listener's "sts=port=" names. Zero
	// means the TLS listener's bound port; set it when clients reach the
	// TLS listener through a different port (a NAT or proxy).
	STSPort int
	// WebSocketListen is the host:port of a listener for IRC over
	// WebSocket (ws://), for browser clients, as the IRCv3 WebSocket
	// specification describes; empty means none.
	WebSocketListen string
	// WebSocketTLSListen is the host:port of a listener for IRC over
	// secure WebSocket (wss://); empty means none. It needs TLS.
	WebSocketTLSListen string
	// WebSocketPath is the request path WebSocket clients connect to, as
	// in ws://host:port/webirc. Empty means "/".
	WebSocketPath string
	// WebSocketOrigins lists the web origins whose pages may connect over
	// WebSocket: exact ("https://chat.example.org"), path.Match patterns
	// ("https://*.example.org", "*.example.org") or "*". Empty means only
	// pages served by the listener's own host:port; clients that send no
	// Origin (not browsers) are always allowed.
	WebSocketOrigins []string

	// TLS is the TLS listener's configuration (with its certificate).
	// When its ClientAuth is tls.NoClientCert, the listener uses a copy
	// that requests, but neither requires nor verifies, a client
	// certificate, whose SHA-256 fingerprint is then the client's certfp.
	TLS *tls.Config

	// ProxyFrom lists the networks of trusted proxies (such as HAProxy
	// with send-proxy or send-proxy-v2) in front of every listener. A
	// connection from one of them must start with a PROXY protocol header
	// (version 1 or 2; see ProxyOptional), and the client address it names is the client's
	// address everywhere: per-address limits, WHOIS, the log. A header
	// from any other address is refused. Empty means no PROXY protocol.
	ProxyFrom []netip.Prefix
	// ProxyOptional lets a trusted proxy's connection come without a
	// PROXY header, for a proxy that also connects for itself (health
	// checks, or a host that is both a proxy and a client): such a
	// connection keeps the socket's address. False refuses it
	// (sock.ErrProxyMissing), so that a proxy misconfigured to send no
	// header cannot put every client behind its one address.
	ProxyOptional bool

	// Password, when not empty, must be given with PASS before
	// registration completes, or the client gets 464 and is closed.
	Password string
	// Opers maps an operator name to its password for OPER. Nil means
	// no operators.
	Opers map[string]string
	// MOTD is the message of the day, one entry per line; nil or empty
	// means the client gets 422 ERR_NOMOTD.
	MOTD []string

	// PingInterval is the listener's idle time: a client silent for that
	// long is sent a PING, and one still silent at the next idle event is
	// closed with "Ping timeout: N seconds". Zero means 90 s; negative
	// disables idle pings.
	PingInterval time.Duration
	// RegisterTimeout bounds how long a connection may take to register
	// (NICK, USER and CAP END); past it the connection is closed with
	// "Registration timeout". Zero means 30 s; negative disables it.
	RegisterTimeout time.Duration

	// MaxConns is the most connections open at once per listener (or
	// across all of them, with ShareLimits). Zero means 1024; negative
	// means no limit.
	MaxConns int
	// MaxConnsPerIP is the most connections open at once from one remote
	// address per listener (or across all of them, with ShareLimits).
	// Zero means 128; negative means no limit.
	MaxConnsPerIP int
	// ShareLimits makes the listeners count MaxConns, MaxConnsPerIP and
	// Throttle together, in one sock.Admission: a client is counted once
	// whichever listener (plain, TLS, WebSocket) it uses, so that it
	// cannot get past a limit by moving to another port. False, the
	// default, counts each listener on its own, so that a client may
	// hold MaxConnsPerIP connections on each listener and a throttled
	// client may still connect to another listener.
	ShareLimits bool
	// IPv6Prefix is how many leading bits of an IPv6 address count as
	// one client for MaxConnsPerIP and Throttle. Zero means 64; outside
	// 0 to 128 the listeners fail to start.
	IPv6Prefix int
	// Throttle limits how fast one address may open connections to each
	// listener: past Throttle.Conns within Throttle.Window it is refused
	// for Throttle.Ban. Each listener follows at most Throttle.MaxAddrs
	// addresses at once (zero means sock.DefaultThrottleMaxAddrs, 65536);
	// while that many are live, new addresses are refused
	// (sock.ErrThrottleFull). The zero value is off.
	Throttle ircsock.Throttle
	// Exempt lists networks to which MaxConnsPerIP, Throttle and Flood
	// do not apply.
	Exempt []netip.Prefix
	// RefuseLinger is how long a client refused by MaxConns,
	// MaxConnsPerIP or Throttle is kept after its ERROR line, its input
	// read and dropped, so that a reset does not destroy the line. Zero
	// means 2 s (sock.DefaultRefuseLinger); negative means none (a TLS
	// client then gets no line).
	RefuseLinger time.Duration
	// MaxRefusing is the most refused clients lingering at once per
	// listener; past it a refused client is closed at once and the log
	// line of its refusal names MaxRefusing. Zero means 256
	// (sock.DefaultMaxRefusing); negative means none lingers.
	MaxRefusing int
	// RefusalLogInterval is how often, at most, the log says at Warn
	// level that a listener is refusing connections ("refusing
	// connections", with the listener's address, the refusal that
	// triggered it and the listener's refusal counts by limit so far,
	// ircsock.Listener.Refusals): the first refusal logs it at once, the
	// next one after the interval logs it again. Every refusal is also
	// logged at Debug level. Zero means 1 minute; negative means only
	// the Debug lines.
	RefusalLogInterval time.Duration
	// Flood is the input flood control ("fake lag"): Flood.Burst
	// commands at once, then one per Flood.Interval, held back in order;
	// past Flood.MaxQueued held commands the client is closed with
	// ERROR :Excess Flood. The zero value is off.
	Flood ircsock.FloodControl
	// MaxSendQ is the most bytes queued for one client before it is
	// dropped with "Max SendQ exceeded". Zero means the Backend's default
	// (1 MiB).
	MaxSendQ int
	// MaxLine is the longest input line, CR LF excluded; longer lines get
	// 417 ERR_INPUTTOOLONG. Zero means the Backend's default (ircsock.DefaultMaxLine).
	MaxLine int
	// MaxChannels is the most channels one client may be in (CHANLIMIT);
	// past it JOIN gets 405. Zero means 50.
	MaxChannels int

	// MaxListEntries is the most masks each of a channel's ban (+b),
	// exception (+e) and invite-exception (+I) lists may hold
	// (MAXLIST); past it MODE gets 478 ERR_BANLISTFULL. Zero means 100.
	MaxListEntries int
	// MaxMonitor is the most nicks one client may MONITOR (MONITOR in
	// 005); past it MONITOR + gets 734 ERR_MONLISTFULL. Zero means 100.
	MaxMonitor int
	// WhowasHistory is how many departed nicks WHOWAS remembers, oldest
	// forgotten first. Zero means 100; negative keeps none.
	WhowasHistory int

	// AdminLocation and AdminEmail are the ADMIN reply's location
	// (257) and contact address (259). Zero means "not configured".
	AdminLocation, AdminEmail string

	// DrainTimeout bounds how long a closed client's connection is kept
	// after its last line (ERROR) is written, waiting for the client to
	// close its side: a client that never does holds it no longer. Zero
	// means 3 s.
	DrainTimeout time.Duration

	// ShutdownTimeout bounds how long [Server.Run] waits, once its
	// context is done, for queued output to be written and clients to
	// close before it closes every connection at once. Zero means 5 s;
	// keep it above DrainTimeout so that a stubborn client does not turn
	// a clean shutdown into a forced one.
	ShutdownTimeout time.Duration

	// Logger receives the server's log; nil means no log.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ServerName == "" {
		c.ServerName = DefaultServerName
	}
	if c.Network == "" {
		c.Network = DefaultNetwork
	}
	if c.Version == "" {
		c.Version = "ircsock"
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.RegisterTimeout == 0 {
		c.RegisterTimeout = DefaultRegisterTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.MaxChannels == 0 {
		c.MaxChannels = DefaultMaxChannels
	}
	if c.STSDuration == 0 {
		c.STSDuration = DefaultSTSDuration
	}
	if c.MaxListEntries == 0 {
		c.MaxListEntries = DefaultMaxListEntries
	}
	if c.MaxMonitor == 0 {
		c.MaxMonitor = DefaultMaxMonitor
	}
	if c.WhowasHistory == 0 {
		c.WhowasHistory = DefaultWhowasHistory
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.RefusalLogInterval == 0 {
		c.RefusalLogInterval = DefaultRefusalLogInterval
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
