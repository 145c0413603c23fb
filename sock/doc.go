// Package sock moves records over network connections through filters,
// for any line protocol. The package example (Example) is a key-value
// server and its client, with no IRC in it:
//
//	l, err := sock.Listen(sock.ListenConfig{Addr: "127.0.0.1:0"}, sock.ListenFuncs{
//		Serve: func(c net.Conn, release func()) {
//			defer release()
//			w := sock.NewWheel(c, &filter.Line{}, &filter.Line{}, sock.Funcs{
//				Record: func(w *sock.Wheel, rec []byte) { ... w.Write(reply) ... },
//			}, sock.WheelConfig{})
//			w.Run() // until the connection is closed
//		},
//	})
//	l.Start()
//	c, err := sock.Dial(ctx, nil, l.Addr().String(), nil)
//	...
//	l.Close() // stop accepting
//	l.Wait()  // and wait for the connections to be released
//
// A [Wheel] owns one net.Conn: one reading goroutine ([Wheel.Run]) decodes
// bytes through an input [filter.Filter] and hands a [Handler] an [Event]
// per record,
// so read-side filter changes ([Wheel.SetInput], [Wheel.ReadOp]) fall
// exactly between two records; [Wheel.Write] encodes through an output
// filter into a send queue bounded by [WheelConfig.MaxSendQ], written in
// batches by a goroutine of the wheel's own that exists only while the
// queue is not empty, or, for a plaintext TCP wheel that [Wheel.Flush]
// wakes, by a few writers shared by every wheel, one write(2) per wheel
// that never waits, or, between [Wheel.Cork] and [Wheel.Uncork], by the
// goroutine that uncorks, once for all it answered to one read;
// [Wheel.WriteOp] changes the output at an exact point of the stream.
// [Wheel.Disconnect] closes after the queue is written,
// [Wheel.Close] at once. A plaintext *net.TCPConn or *[FDConn] waiting
// for input holds no buffer: the wheel waits for readability and takes a pooled buffer
// only when data is there. Started with [Wheel.Start] instead of
// [Wheel.Run], on Linux, it holds no goroutine either: between bursts of
// input it parks on one epoll instance shared by the process, and a
// fresh goroutine resumes its read loop when input, the peer's end of
// stream, a ReadOp or a close comes; a server with thousands of idle
// clients then has a handful of goroutines.
//
// A [Listener] accepts (IPv4 or IPv6, port 0 reported as bound, optional
// TLS with the handshake on the connection's goroutine, [ListenConfig]
// limits) and backs off on temporary accept errors such as EMFILE. [Dial]
// resolves, connects and completes TLS for an outgoing connection. Both
// take addresses as "host:port" strings, as net.Listen and net.Dial do.
// With [ListenConfig.FDConns] a plaintext listener on Linux hands out each
// connection as an *[FDConn], its bare socket descriptor: a full net.Conn
// that leaves out the Go runtime's own per-socket state, which an idle
// connection would pay for nothing (BENCHMARKS.md has what it saves).
//
// A listener's limits (MaxConns, MaxConnsPerIP, a per-address [Throttle]
// whose table is bounded by [Throttle].MaxAddrs) live in an [Admission],
// its own or one shared with other listeners through
// [ListenConfig.Admission] so that a client is counted once across them.
// Each refusal is a [*LimitError] naming the limit, sent to the client
// ([ListenConfig.Refusal]; an HTTP 503 with Retry-After on a WebSocket
// listener), reported as an [OpLimit] failure and counted
// ([Listener.Refusals]).
//
// Behind a load balancer, [ListenConfig.ProxyFrom] makes a listener read
// the PROXY protocol header (version 1 or 2, [ReadProxyHeader]) of its
// trusted proxies before anything else, and use the client address it
// names as the connection's remote address and for the per-address
// limits. [ListenConfig.WebSocket] makes it accept WebSocket upgrades
// ([WebSocketConfig]) and hand over each connection as a *[WebSocketConn]:
// one record per message, presented as a byte stream that the same
// [Wheel] and line filters carry unchanged.
//
// The handlers are one-method interfaces, [Handler] and [ListenHandler],
// that take an event struct ([Event], [ListenEvent]); most code fills in
// the optional functions of a [Funcs] or [ListenFuncs] instead, or adapts
// one function with [HandlerFunc] or [ListenHandlerFunc]. A handler that
// passes records on in runs also implements [ReadEndHandler], which tells
// it when a read is decoded, before the wheel reads again. Every failed
// socket operation is an *[OpError] naming its [Op].
//
// sock knows nothing about IRC: the root package ircsock builds the
// Backend on it.
package sock
