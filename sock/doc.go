// Package sock moves records over network connections through filters.
//
// A [Wheel] owns one net.Conn: one reading goroutine ([Wheel.Run]) decodes
// bytes through an input [filter.Filter] and calls a [Handler] per record,
// so read-side filter changes ([Wheel.SetInput], [Wheel.ReadOp]) fall
// exactly between two records; [Wheel.Write] encodes through an output
// filter into a send queue bounded by [WheelConfig.MaxSendQ], written in
// batches by a writer goroutine that exists only while the queue is not
// empty; [Wheel.WriteOp] changes the output at an exact point of the
// stream. [Wheel.Disconnect] closes after the queue is written,
// [Wheel.Close] at once. A plaintext *net.TCPConn waiting for input holds
// no buffer: the wheel waits for readability and takes a pooled buffer
// only when data is there.
//
// A [Listener] accepts (IPv4 or IPv6, port 0 reported as bound, optional
// TLS with the handshake on the connection's goroutine, [ListenConfig]
// limits) and backs off on temporary accept errors such as EMFILE. [Dial]
// resolves, connects and completes TLS for an outgoing connection.
//
// sock knows nothing about IRC: the root package ircsock builds the
// Backend on it.
package sock
