package client

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// Defaults used when a [Config] field is zero.
const (
	// DefaultFloodBurst and DefaultFloodInterval are irssi's long-standing
	// defaults (five commands at once, then one every 2.2 s rounded down
	// to 2 s), which no common network's flood limits reject.
	DefaultFloodBurst    = 5
	DefaultFloodInterval = 2 * time.Second
	// DefaultMaxQueue is the most messages waiting for flood control.
	DefaultMaxQueue = 1024
	// DefaultPingInterval is how long the link may be silent before the
	// client sends its own PING.
	DefaultPingInterval = 60 * time.Second
	// DefaultPingTimeout is how long the client waits for any input after
	// its own PING before it declares the link dead.
	DefaultPingTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds dialing and the TLS handshake.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultRegisterTimeout bounds the time from connect to 001.
	DefaultRegisterTimeout = 60 * time.Second
	// DefaultReconnectMin and DefaultReconnectMax bound the backoff
	// between connection attempts.
	DefaultReconnectMin = time.Second
	DefaultReconnectMax = 2 * time.Minute
	// DefaultMaxSASLResponse bounds a server's reassembled AUTHENTICATE
	// challenge (400-byte chunks until a shorter one).
	DefaultMaxSASLResponse = 64 << 10
	// DefaultQuitMessage is sent with QUIT when Run's context ends.
	DefaultQuitMessage = "Client exiting"
	// DefaultVersion is the CTCP VERSION reply.
	DefaultVersion = "ircsock client (https://github.com/ircsock/ircsock)"
)

// Config configures a [Client]. Only Addr and Nick are required; every
// other zero value has the meaning its doc gives.
type Config struct {
	// Addr is the server's "host:port" ("irc.example.net:6697",
	// "[::1]:6667"). IPv4 and IPv6 work alike.
	Addr string
	// TLS, when set, wraps the connection in TLS. An empty ServerName
	// becomes Addr's host (SNI and verification); RootCAs and
	// Certificates (a client certificate, for SASL EXTERNAL) are used as
	// given. Nil means plain text.
	TLS *tls.Config
	// Dialer opens the TCP connection; nil means a zero net.Dialer. It
	// is ignored when Dial is set.
	Dialer *net.Dialer
	// Dial, when set, opens the connection instead of Dialer (for a
	// proxy, for example). TLS, if configured, runs over what it returns.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ConnectTimeout bounds dialing and the TLS handshake. Zero means
	// [DefaultConnectTimeout].
	ConnectTimeout time.Duration
	// Password is the server password sent with PASS; empty sends none.
	// It never appears in a trace or an error, and a Config printed with
	// fmt (any verb), slog or encoding/json shows "***" in its place
	// (see [Config.Format]).
	Password string

	// Nick is the wanted nickname; required.
	Nick string
	// AltNicks are tried in order when the server refuses Nick during
	// registration (432, 433, 436, 437); after them the client tries
	// generated nicks (Nick cut short plus digits).
	AltNicks []string
	// User is the user name (ident). Zero means Nick.
	User string
	// RealName is the real name ("gecos"). Zero means Nick.
	RealName string
	// RegisterTimeout bounds the time from connect to 001. Zero means
	// [DefaultRegisterTimeout].
	RegisterTimeout time.Duration

	// Caps are capabilities requested in addition to the ones the client
	// always asks for when offered (see [DefaultCaps]); for example
	// "echo-message" or "labeled-response". Only offered ones are
	// requested.
	Caps []string
	// SASL configures authentication; the zero value does none.
	SASL SASL

	// Flood paces what the client sends.
	Flood Flood
	// PingInterval is how long the link may be silent before the client
	// sends its own PING. Zero means [DefaultPingInterval]; negative
	// disables client PINGs.
	PingInterval time.Duration
	// PingTimeout is how long after its own PING the client waits for
	// any input before it closes the link as dead ([ErrPingTimeout]).
	// Zero means [DefaultPingTimeout].
	PingTimeout time.Duration

	// Reconnect sets what happens when the link is lost.
	Reconnect Reconnect

	// CTCP sets the automatic CTCP replies.
	CTCP CTCP

	// QuitMessage is the QUIT reason sent when Run's context ends. Zero
	// means [DefaultQuitMessage].
	QuitMessage string

	// OnEvent, when set, receives every [Event]: connection attempts,
	// registration, logins, losses and waits before reconnecting. Calls
	// never overlap; they come from Run's goroutine or the reading
	// goroutine and must not block for long.
	OnEvent func(Event)
	// Trace, when set, receives every line sent (out true) and received,
	// without CR LF. PASS and the payload of AUTHENTICATE are replaced by
	// "***", so a trace never holds a password. Calls come from several
	// goroutines and may overlap.
	Trace func(out bool, line string)
}

// SASL configures SASL authentication (IRCv3 sasl 3.1 and 3.2).
type SASL struct {
	// Mechanisms are tried in order, skipping those the server does not
	// list; a mechanism that fails (904, or 908 listing the server's
	// mechanisms) moves on to the next. Supported: "EXTERNAL",
	// "SCRAM-SHA-256", "SCRAM-SHA-1" and "PLAIN". Zero means EXTERNAL when
	// TLS carries a client certificate, then SCRAM-SHA-256 and PLAIN when
	// Password is set.
	Mechanisms []string
	// Username is the account name; zero means the client's Nick.
	Username string
	// Password is the account password, for PLAIN and SCRAM. It never
	// appears in a trace or an error, nor in fmt, slog or encoding/json
	// output of the SASL or its Config ("***" instead).
	Password string
	// Required refuses to finish registration without a login: when the
	// server offers no SASL or every mechanism fails, the client quits
	// instead of sending CAP END.
	Required bool
}

// Flood configures flood control: a token bucket that lets Burst
// messages go at once and then one per Interval. PONG, QUIT and the
// client's own keepalive PING never wait behind queued messages.
type Flood struct {
	// Burst is the bucket's size. Zero means [DefaultFloodBurst].
	Burst int
	// Interval is the time to earn one token. Zero means
	// [DefaultFloodInterval].
	Interval time.Duration
	// MaxQueue is the most messages waiting to be sent; a send that would
	// go past it fails with [ErrQueueFull]. Zero means [DefaultMaxQueue].
	MaxQueue int
	// Disabled sends every message as soon as it is queued. Servers
	// disconnect clients that do this for long ("Excess Flood").
	Disabled bool
}

// Reconnect configures reconnection after a lost link.
type Reconnect struct {
	// Disabled makes Run return at the first loss.
	Disabled bool
	// MaxTries is the most connection attempts in a row that fail (or are
	// lost before 001) before Run gives up with [ErrGaveUp]. Zero means
	// no limit.
	MaxTries int
	// MinDelay is the wait before the first retry; each retry doubles it,
	// up to MaxDelay, and a random jitter takes up to half of it off.
	// Zero means [DefaultReconnectMin].
	MinDelay time.Duration
	// MaxDelay caps the wait. Zero means [DefaultReconnectMax].
	MaxDelay time.Duration
}

// CTCP configures the automatic replies to CTCP requests. Replies are
// queued like any message, and skipped while the send queue is more than
// half full, so a CTCP flood cannot crowd out the user's own messages.
type CTCP struct {
	// Version is the VERSION reply. Zero means [DefaultVersion].
	Version string
	// NoVersion, NoPing, NoTime and NoClientInfo turn off the reply to
	// VERSION, PING, TIME and CLIENTINFO.
	NoVersion, NoPing, NoTime, NoClientInfo bool
}

// DefaultCaps are the capabilities the client requests whenever the
// server offers them, because its state tracking uses them. "sasl" is
// added when [Config.SASL] is set; [Config.Caps] adds more.
var DefaultCaps = []string{
	"account-notify", "account-tag", "away-notify", "batch", "cap-notify",
	"chghost", "extended-join", "message-tags", "multi-prefix",
	"server-time", "setname", "userhost-in-names",
}

func orDur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
