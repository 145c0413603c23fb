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
// message-tags and server-time, PING/PONG, JOIN, PART, PRIVMSG, NOTICE,
// TAGMSG, TOPIC, NAMES, WHO, WHOIS, ISON, MODE (channel +o, user +i), KICK,
// QUIT, MOTD and LUSERS, with CASEMAPPING=ascii throughout.
//
// Defences come from the Backend's limits and two server rules: a client
// silent for [Config.PingInterval] is sent a PING and dropped ("Ping
// timeout") if still silent one interval later, and a connection that has
// not registered within [Config.RegisterTimeout] is closed
// ("Registration timeout"). A too-long line draws 417 ERR_INPUTTOOLONG and
// the connection goes on. [LoadOrCreateCert] supplies a self-signed
// certificate for the TLS listener.
package ircd
