// Package ircd is the small IRC server behind `ircsock serve`, built only
// on the [ircsock.Backend] API.
//
// A [Server] is made by [New] from a [Config] (whose zero value serves
// plain IRC on 127.0.0.1:6667) and runs with [Server.Run] until its
// context is done. [Server.Addr] and [Server.TLSAddr] report the bound
// addresses, so a test can listen on port 0.
//
// Concurrency follows the POE model the Backend is built for: every piece
// of IRC state (clients, nicks, channels, registration deadlines) is owned
// by the one goroutine running [Server.Run], which ranges over the
// Backend's events and a single deadline timer. Nothing is locked because
// nothing is shared; handlers only queue output with Backend.Send and
// Backend.Disconnect, which never wait for the peer.
//
// What it speaks: registration (PASS, NICK, USER), IRCv3 CAP 302 with
// away-notify, message-tags, server-time and setname, PING/PONG, JOIN,
// PART, PRIVMSG, NOTICE, TAGMSG, TOPIC, NAMES, LIST, INVITE, KICK, WHO,
// WHOIS, WHOWAS, ISON, USERHOST, AWAY, SETNAME, MONITOR, OPER, MODE,
// VERSION, TIME, INFO, ADMIN, LINKS, HELP, MOTD, LUSERS and QUIT, with
// CASEMAPPING=ascii throughout; an empty line gets no reply.
//
// Channel modes: the lists b (bans), e (ban exceptions) and I (invite
// exceptions), whose masks are completed to nick!user@host by
// [irc.NormalizeMask] and matched by [irc.Mask] under CASEMAPPING=ascii; k (key), l (limit), i (invite-only), m (moderated),
// n (no outside messages), s (secret), t (ops set the topic), and the
// member modes o and v. A new channel is +nt. A ban stops JOIN and
// speaking unless an exception matches; an invitation or a matching +I
// mask lets a client into a +i channel; operators and voiced members
// always speak. User modes: i (invisible to WHO and NAMES of strangers)
// and o (after OPER). Each limit is a [Config] field advertised in 005:
// MAXLIST for the mode lists, MONITOR for MONITOR.
//
// A TLS listener asks for, but never requires, a client certificate; its
// SHA-256 fingerprint ([ircsock.Conn.CertFP]) is shown in WHOIS (276) to the client
// itself and to operators.
//
// Defences come from the Backend's limits and two server rules: a client
// silent for [Config.PingInterval] is sent a PING and dropped ("Ping
// timeout") if still silent one interval later, and a connection that has
// not registered within [Config.RegisterTimeout] is closed
// ("Registration timeout"). A too-long line draws 417 ERR_INPUTTOOLONG and
// the connection goes on. [LoadOrCreateCert] supplies a self-signed
// certificate for the TLS listener.
//
// The listeners' per-address limits come from the Backend too, each one
// a [Config] field and a serve flag, counted per listener unless
// [Config.ShareLimits] counts them across all listeners together: MaxConnsPerIP and Throttle (a
// connection rate per address, then a ban), with IPv6 counted per
// [Config.IPv6Prefix] and [Config.Exempt] networks left out; a refused
// client is sent one ERROR line naming the limit, and its socket lingers
// for [Config.RefuseLinger] (at most [Config.MaxRefusing] at once) so
// that the line is not lost to a reset (a WebSocket client gets an HTTP
// 503 with Retry-After instead). Refusals are logged at Debug level each,
// and summed up at Warn level, with the listener's counts by limit, at
// most once per [Config.RefusalLogInterval]. [Config.Flood] turns on
// input flood control: past a burst, commands are delayed in order, and a
// client that keeps on is closed with ERROR :Excess Flood.
//
// With a TLS listener the server advertises an IRCv3 STS policy in
// CAP LS 302 ([Config.STSDuration], [Config.STSPort]): sts=port= on the
// plain listener, sts=duration= on the TLS one.
package ircd
