// Package client is an IRC client session: it connects, registers,
// negotiates capabilities, logs in with SASL, keeps the link alive, paces
// what it sends, tracks channels and users, and reconnects when the link
// is lost. It is built on the project's own layers: one [sock.Wheel] per
// connection with a [filter.Line] stack and the [filter.IRCv3] codec, the
// [irc] toolkit for case mapping, ISUPPORT, numerics, CTCP and splitting,
// and [ircmsg] messages.
//
// A bot is a [Config], a few handlers and [Client.Run] (the package
// example runs against the project's own server):
//
//	bot, err := client.New(client.Config{
//		Addr: "irc.example.net:6697",
//		TLS:  &tls.Config{},
//		Nick: "pingbot",
//		SASL: client.SASL{Username: "pingbot", Password: password},
//	})
//	bot.HandleFunc("PRIVMSG", func(c *client.Client, m *ircmsg.Message) { ... })
//	bot.Join("#bots") // sent after registration, and again after each reconnect
//	err = bot.Run(ctx) // returns when ctx ends, after QUIT
//
// The building blocks:
//
//   - [Config] with [SASL], [Flood], [Reconnect] and [CTCP]: every zero
//     value works and is documented (the Default constants).
//   - [Client.Run] connects and reconnects until its context ends, the
//     client quits ([Client.Quit]), [Reconnect.MaxTries] attempts fail in
//     a row ([ErrGaveUp]) or a failure a retry cannot fix happens (a SASL
//     login refused with [SASL.Required]). Each attempt, login and loss is
//     an [Event] given to [Config.OnEvent].
//   - [Client.Handle] and [Client.HandleFunc] register handlers per
//     command ("*" for all); [Client.HandleBatch] per IRCv3 batch type.
//     Handlers run on the reading goroutine, in wire order, after the
//     client has updated its state.
//   - Sending: [Client.Send], [Client.Privmsg] and [Client.Notice] (split
//     to fit the line), [Client.Join], [Client.JoinKey], [Client.Part],
//     [Client.Kick], [Client.Mode], [Client.Topic], [Client.SetNick];
//     [Client.Request] for labeled-response. A message with CR, LF or
//     NUL is refused with [ircmsg.ErrBadByte].
//   - State: [Client.Nick], [Client.Account], [Client.Channels],
//     [Client.Channel], [Client.User], [Client.Caps], [Client.ISupport],
//     [Client.Casemap]; [ServerTime] reads the server-time tag.
//
// # Registration
//
// The client sends CAP LS 302, NICK and USER (PASS first when
// [Config.Password] is set), reads every CAP LS line, and requests the
// capabilities of [DefaultCaps], "sasl" when SASL is configured, and
// [Config.Caps], only those the server offers. Then SASL, then CAP END.
// A nick refused during registration (432, 433, 436, 437) is replaced by
// the next of [Config.AltNicks], then by generated ones. 001 ends
// registration; 005 fills [Client.ISupport] and switches the case mapping
// that keys channels and users. After registration, CAP NEW and CAP DEL
// (cap-notify) keep the capabilities current, and a CAP NEW offering sasl
// (services that linked late) starts the login then.
//
// # SASL
//
// EXTERNAL (the TLS client certificate), SCRAM-SHA-256 and SCRAM-SHA-1
// (RFC 5802, RFC 7677; the server's signature is checked, and a login
// whose server cannot prove it knows the password fails with [ErrSCRAM])
// and PLAIN. Mechanisms are tried in order among those the server lists;
// a failure (904, or 908 naming the server's mechanisms) moves to the
// next. AUTHENTICATE payloads go in 400-byte chunks both ways. Passwords
// never appear in [Config.Trace] or in errors, and [Config], [SASL] and
// [Client] print (fmt, any verb), log (slog) and marshal (JSON) with
// "***" in their place.
//
// # Flood control and keepalive
//
// Every message goes through a token bucket ([Flood]): Burst at once,
// then one per Interval, in order, nothing dropped; a full queue is
// [ErrQueueFull]. PONG, QUIT and the client's own PING go ahead of
// everything queued. A link silent for [Config.PingInterval] gets a PING;
// no input within [Config.PingTimeout] after it closes the link
// ([ErrPingTimeout]) and Run reconnects.
//
// # Reconnecting
//
// After a loss, Run waits [Reconnect.MinDelay], doubled per failed try up
// to [Reconnect.MaxDelay], less a random jitter of up to half, then
// connects again, logs in again and rejoins the channels it was in (with
// the keys given to [Client.JoinKey]). Messages queued while the link is
// down are sent after the next 001. So are those the dead connection had
// accepted but not yet written to its socket (the server never saw them;
// [Event.Requeued] counts them); a message cut in the middle of its
// write may or may not have arrived, so it is not sent again but listed
// in [Event.MaybeLost], with [ErrMaybeLost] in the event's Err.
//
// # Concurrency
//
// Every method is safe for use by many goroutines. Run starts, per
// connection, the wheel's reading goroutine and one sender goroutine, and
// stops both before it returns.
package client
