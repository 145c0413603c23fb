// Package ircsock speaks IRC over sockets: the POEx::IRC::Backend API in
// Go. A controller is one loop over one channel (Example_server and
// Example_client run a whole server and client):
//
//	b := ircsock.New(ircsock.Config{})
//	b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:6667"})
//	for ev := range b.Events() { // closed by Shutdown or Close
//		switch ev := ev.(type) {
//		case ircsock.Input:
//			if ev.Msg().Command == "PING" {
//				b.Send(&ircmsg.Message{Command: "PONG", Params: ev.Msg().Params}, ev.Conn().ID())
//			}
//		case ircsock.Disconnect:
//			log.Printf("%d left: %s", ev.Conn.ID(), ev.Reason)
//		}
//	}
//
// A [Backend] (spawn) owns listeners ([Backend.CreateListener]),
// connectors ([Backend.CreateConnector]) and connections ([Conn]) and
// delivers every [Event] in order on one channel ([Backend.Events]) to one
// controller. Per connection the order is: [ListenerOpen] or
// [ConnectorOpen] first, then [Input] and [InputError] in wire order,
// [ConnectionIdle] and [Compressed] as they happen, and exactly one
// [Disconnect] last.
//
// Messages are [github.com/ircsock/ircsock/ircmsg.Message] values:
// [Backend.Send] formats one once and queues it to any number of
// connections. [Backend.Disconnect] closes after the queue is written,
// [Backend.DisconnectNow] at once. Compressed links switch exactly:
// [Backend.SetCompressedLink] at the current point of the output queue,
// [ListenerConfig.CompressInputAfter] (armed before any input is decoded,
// for a peer that speaks first) and [Backend.CompressInputAfter] right
// after a given input line.
// [Backend.Shutdown] drains and [Backend.Close] stops at once; neither
// leaves a goroutine behind.
//
// A listener may serve browsers over WebSocket ([ListenerConfig.WebSocket],
// the IRCv3 subprotocols [SubprotocolText] and [SubprotocolBinary]) and
// take client addresses from the PROXY protocol headers of trusted proxies
// ([ListenerConfig.ProxyFrom]); such connections go through the same send
// queue, limits, idle events and drain, and a controller tells them apart
// only by asking ([Conn.WebSocket], [Conn.Peer] for the client's address,
// [Conn.CertFP] for a TLS client certificate's fingerprint).
//
// # Handling input where it is read
//
// A Backend with [Config.InputHandler] hands each [Input] to that function
// on the goroutine that read it instead of the channel: one connection's
// lines in wire order, one call at a time, different connections' at
// once (ExampleConfig_inputHandler). Lines sent to a connection while its
// reader handles a read, by the handler or anyone else, go out together
// when that read's lines are handled, written by the reader itself (or by
// the connection's writer as soon as 64 KiB of them wait). This
// is an event loop's turn: no line crosses from one goroutine, and so
// from one core, to another on its way in or its reply on its way out,
// which on a machine with cores to spare is most of what the channel
// costs (BenchmarkEcho's "ratio-handler" beside "ratio-release"). The
// price is the one controller: the handler must be safe for concurrent
// use, the state it shares needs its own locks, and a handler that waits
// stops its connection's reading meanwhile. Every other event (opens,
// InputError, idle, Disconnect) still comes on [Backend.Events]. A
// handler must not call Close or Shutdown itself, since they wait for it
// to return; it may start them on another goroutine.
//
// # Performance
//
// The hot path is built so that one message costs at most one allocation
// and no goroutine hand-off of its own. A connection's reading goroutine
// decodes every record of one read and, for each, takes one block holding
// the [Input] event, its Message, room for four parameters and the line
// itself, which the Message's strings share; then it sends the event with a
// plain non-blocking channel send, falling back to a blocking one only
// when the channel is full. A controller that hands each Input back with
// [Input.Release] once done makes the block reusable, and the read path
// then allocates nothing; one that keeps its Messages leaves one block
// per line to the collector. [Backend.Send] formats into a reused buffer
// and appends the line to the connection's send queue under its lock,
// then wakes the connection's writer. While more events wait for the
// controller, Send only queues, and the connections it queued to are
// handed together, when the burst ends, to a few writer goroutines shared
// by every connection (for plaintext TCP), which write without waiting,
// so that each connection gets its share of the burst in one write and
// the burst starts no goroutine per connection.
//
// A connection waiting for input costs no goroutine on Linux when it is
// plaintext TCP: its wheel is started with sock.Wheel.Start, parks on an
// epoll instance shared by the process when a read finds nothing, and a
// fresh goroutine resumes it when input comes, so a server's idle clients
// cost their state alone, not a stack each. TLS and WebSocket connections
// keep a reading goroutine.
//
// What separates the Backend from a bare bufio echo is work the echo does
// not do: parsing each line into a Message the controller may keep and
// formatting it back, and collecting the garbage of the parsed messages.
// BenchmarkEcho compares the two in one run and BenchmarkEchoFloor
// measures the parse and format alone; BENCHMARKS.md has their figures,
// with the machine and the command for each.
//
// The socket work is done by package
// [github.com/ircsock/ircsock/sock] (Wheel, Listener, Dial) and the
// framing and compression by [github.com/ircsock/ircsock/filter] (Line,
// Zlib, Stack).
package ircsock
